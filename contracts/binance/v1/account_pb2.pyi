from contracts.binance.v1 import common_pb2 as _common_pb2
from contracts.binance.v1 import options_pb2 as _options_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetAccountRequest(_message.Message):
    __slots__ = ("include_zero_balances",)
    INCLUDE_ZERO_BALANCES_FIELD_NUMBER: _ClassVar[int]
    include_zero_balances: bool
    def __init__(self, include_zero_balances: _Optional[bool] = ...) -> None: ...

class Balance(_message.Message):
    __slots__ = ("asset", "free", "locked", "total")
    ASSET_FIELD_NUMBER: _ClassVar[int]
    FREE_FIELD_NUMBER: _ClassVar[int]
    LOCKED_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    asset: str
    free: str
    locked: str
    total: str
    def __init__(self, asset: _Optional[str] = ..., free: _Optional[str] = ..., locked: _Optional[str] = ..., total: _Optional[str] = ...) -> None: ...

class CommissionRates(_message.Message):
    __slots__ = ("maker", "taker", "buyer", "seller")
    MAKER_FIELD_NUMBER: _ClassVar[int]
    TAKER_FIELD_NUMBER: _ClassVar[int]
    BUYER_FIELD_NUMBER: _ClassVar[int]
    SELLER_FIELD_NUMBER: _ClassVar[int]
    maker: str
    taker: str
    buyer: str
    seller: str
    def __init__(self, maker: _Optional[str] = ..., taker: _Optional[str] = ..., buyer: _Optional[str] = ..., seller: _Optional[str] = ...) -> None: ...

class GetAccountResponse(_message.Message):
    __slots__ = ("account_type", "can_trade", "can_withdraw", "can_deposit", "commission_rates", "balances", "permissions", "update_time_ms", "freshness")
    ACCOUNT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CAN_TRADE_FIELD_NUMBER: _ClassVar[int]
    CAN_WITHDRAW_FIELD_NUMBER: _ClassVar[int]
    CAN_DEPOSIT_FIELD_NUMBER: _ClassVar[int]
    COMMISSION_RATES_FIELD_NUMBER: _ClassVar[int]
    BALANCES_FIELD_NUMBER: _ClassVar[int]
    PERMISSIONS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_FIELD_NUMBER: _ClassVar[int]
    account_type: str
    can_trade: bool
    can_withdraw: bool
    can_deposit: bool
    commission_rates: CommissionRates
    balances: _containers.RepeatedCompositeFieldContainer[Balance]
    permissions: _containers.RepeatedScalarFieldContainer[str]
    update_time_ms: int
    freshness: _common_pb2.Freshness
    def __init__(self, account_type: _Optional[str] = ..., can_trade: _Optional[bool] = ..., can_withdraw: _Optional[bool] = ..., can_deposit: _Optional[bool] = ..., commission_rates: _Optional[_Union[CommissionRates, _Mapping]] = ..., balances: _Optional[_Iterable[_Union[Balance, _Mapping]]] = ..., permissions: _Optional[_Iterable[str]] = ..., update_time_ms: _Optional[int] = ..., freshness: _Optional[_Union[_common_pb2.Freshness, _Mapping]] = ...) -> None: ...

class GetMyTradesRequest(_message.Message):
    __slots__ = ("symbol", "order_id", "start_time_ms", "end_time_ms", "from_id", "limit")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    END_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    FROM_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    order_id: int
    start_time_ms: int
    end_time_ms: int
    from_id: int
    limit: int
    def __init__(self, symbol: _Optional[str] = ..., order_id: _Optional[int] = ..., start_time_ms: _Optional[int] = ..., end_time_ms: _Optional[int] = ..., from_id: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class MyTrade(_message.Message):
    __slots__ = ("id", "order_id", "symbol", "side", "price", "qty", "quote_qty", "commission", "commission_asset", "time_ms", "is_maker")
    ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    QTY_FIELD_NUMBER: _ClassVar[int]
    QUOTE_QTY_FIELD_NUMBER: _ClassVar[int]
    COMMISSION_FIELD_NUMBER: _ClassVar[int]
    COMMISSION_ASSET_FIELD_NUMBER: _ClassVar[int]
    TIME_MS_FIELD_NUMBER: _ClassVar[int]
    IS_MAKER_FIELD_NUMBER: _ClassVar[int]
    id: int
    order_id: int
    symbol: str
    side: _common_pb2.Side
    price: str
    qty: str
    quote_qty: str
    commission: str
    commission_asset: str
    time_ms: int
    is_maker: bool
    def __init__(self, id: _Optional[int] = ..., order_id: _Optional[int] = ..., symbol: _Optional[str] = ..., side: _Optional[_Union[_common_pb2.Side, str]] = ..., price: _Optional[str] = ..., qty: _Optional[str] = ..., quote_qty: _Optional[str] = ..., commission: _Optional[str] = ..., commission_asset: _Optional[str] = ..., time_ms: _Optional[int] = ..., is_maker: _Optional[bool] = ...) -> None: ...

class GetMyTradesResponse(_message.Message):
    __slots__ = ("symbol", "trades", "freshness")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TRADES_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    trades: _containers.RepeatedCompositeFieldContainer[MyTrade]
    freshness: _common_pb2.Freshness
    def __init__(self, symbol: _Optional[str] = ..., trades: _Optional[_Iterable[_Union[MyTrade, _Mapping]]] = ..., freshness: _Optional[_Union[_common_pb2.Freshness, _Mapping]] = ...) -> None: ...

class GetAccountStreamHealthRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetAccountStreamHealthResponse(_message.Message):
    __slots__ = ("enabled", "phase", "reason", "url", "last_event_ms", "live_since_ms", "events_applied", "gaps", "connects", "renewals", "open_orders", "last_error")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    LAST_EVENT_MS_FIELD_NUMBER: _ClassVar[int]
    LIVE_SINCE_MS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_APPLIED_FIELD_NUMBER: _ClassVar[int]
    GAPS_FIELD_NUMBER: _ClassVar[int]
    CONNECTS_FIELD_NUMBER: _ClassVar[int]
    RENEWALS_FIELD_NUMBER: _ClassVar[int]
    OPEN_ORDERS_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    phase: str
    reason: str
    url: str
    last_event_ms: int
    live_since_ms: int
    events_applied: int
    gaps: int
    connects: int
    renewals: int
    open_orders: int
    last_error: str
    def __init__(self, enabled: _Optional[bool] = ..., phase: _Optional[str] = ..., reason: _Optional[str] = ..., url: _Optional[str] = ..., last_event_ms: _Optional[int] = ..., live_since_ms: _Optional[int] = ..., events_applied: _Optional[int] = ..., gaps: _Optional[int] = ..., connects: _Optional[int] = ..., renewals: _Optional[int] = ..., open_orders: _Optional[int] = ..., last_error: _Optional[str] = ...) -> None: ...
