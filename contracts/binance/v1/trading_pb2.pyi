from contracts.binance.v1 import common_pb2 as _common_pb2
from contracts.binance.v1 import options_pb2 as _options_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PlaceOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PLACE_OUTCOME_UNSPECIFIED: _ClassVar[PlaceOutcome]
    PLACE_OUTCOME_PLACED: _ClassVar[PlaceOutcome]
    PLACE_OUTCOME_VALIDATED: _ClassVar[PlaceOutcome]
    PLACE_OUTCOME_RECONCILED_EXISTS: _ClassVar[PlaceOutcome]
    PLACE_OUTCOME_RECONCILED_ABSENT: _ClassVar[PlaceOutcome]
    PLACE_OUTCOME_UNKNOWN: _ClassVar[PlaceOutcome]
PLACE_OUTCOME_UNSPECIFIED: PlaceOutcome
PLACE_OUTCOME_PLACED: PlaceOutcome
PLACE_OUTCOME_VALIDATED: PlaceOutcome
PLACE_OUTCOME_RECONCILED_EXISTS: PlaceOutcome
PLACE_OUTCOME_RECONCILED_ABSENT: PlaceOutcome
PLACE_OUTCOME_UNKNOWN: PlaceOutcome

class PlaceOrderRequest(_message.Message):
    __slots__ = ("symbol", "side", "type", "time_in_force", "quantity", "quote_order_qty", "price", "stop_price", "client_order_id", "response_type", "validate_only")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    TIME_IN_FORCE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    QUOTE_ORDER_QTY_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    STOP_PRICE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_TYPE_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    side: _common_pb2.Side
    type: _common_pb2.OrderType
    time_in_force: _common_pb2.TimeInForce
    quantity: str
    quote_order_qty: str
    price: str
    stop_price: str
    client_order_id: str
    response_type: _common_pb2.OrderResponseType
    validate_only: bool
    def __init__(self, symbol: _Optional[str] = ..., side: _Optional[_Union[_common_pb2.Side, str]] = ..., type: _Optional[_Union[_common_pb2.OrderType, str]] = ..., time_in_force: _Optional[_Union[_common_pb2.TimeInForce, str]] = ..., quantity: _Optional[str] = ..., quote_order_qty: _Optional[str] = ..., price: _Optional[str] = ..., stop_price: _Optional[str] = ..., client_order_id: _Optional[str] = ..., response_type: _Optional[_Union[_common_pb2.OrderResponseType, str]] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class Fill(_message.Message):
    __slots__ = ("price", "qty", "commission", "commission_asset", "trade_id")
    PRICE_FIELD_NUMBER: _ClassVar[int]
    QTY_FIELD_NUMBER: _ClassVar[int]
    COMMISSION_FIELD_NUMBER: _ClassVar[int]
    COMMISSION_ASSET_FIELD_NUMBER: _ClassVar[int]
    TRADE_ID_FIELD_NUMBER: _ClassVar[int]
    price: str
    qty: str
    commission: str
    commission_asset: str
    trade_id: int
    def __init__(self, price: _Optional[str] = ..., qty: _Optional[str] = ..., commission: _Optional[str] = ..., commission_asset: _Optional[str] = ..., trade_id: _Optional[int] = ...) -> None: ...

class Order(_message.Message):
    __slots__ = ("symbol", "order_id", "client_order_id", "side", "type", "time_in_force", "status", "price", "stop_price", "orig_qty", "executed_qty", "cumulative_quote_qty", "orig_quote_order_qty", "avg_fill_price", "time_ms", "update_time_ms", "expiry_reason", "fills")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    TIME_IN_FORCE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    STOP_PRICE_FIELD_NUMBER: _ClassVar[int]
    ORIG_QTY_FIELD_NUMBER: _ClassVar[int]
    EXECUTED_QTY_FIELD_NUMBER: _ClassVar[int]
    CUMULATIVE_QUOTE_QTY_FIELD_NUMBER: _ClassVar[int]
    ORIG_QUOTE_ORDER_QTY_FIELD_NUMBER: _ClassVar[int]
    AVG_FILL_PRICE_FIELD_NUMBER: _ClassVar[int]
    TIME_MS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    EXPIRY_REASON_FIELD_NUMBER: _ClassVar[int]
    FILLS_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    order_id: int
    client_order_id: str
    side: _common_pb2.Side
    type: _common_pb2.OrderType
    time_in_force: _common_pb2.TimeInForce
    status: str
    price: str
    stop_price: str
    orig_qty: str
    executed_qty: str
    cumulative_quote_qty: str
    orig_quote_order_qty: str
    avg_fill_price: str
    time_ms: int
    update_time_ms: int
    expiry_reason: str
    fills: _containers.RepeatedCompositeFieldContainer[Fill]
    def __init__(self, symbol: _Optional[str] = ..., order_id: _Optional[int] = ..., client_order_id: _Optional[str] = ..., side: _Optional[_Union[_common_pb2.Side, str]] = ..., type: _Optional[_Union[_common_pb2.OrderType, str]] = ..., time_in_force: _Optional[_Union[_common_pb2.TimeInForce, str]] = ..., status: _Optional[str] = ..., price: _Optional[str] = ..., stop_price: _Optional[str] = ..., orig_qty: _Optional[str] = ..., executed_qty: _Optional[str] = ..., cumulative_quote_qty: _Optional[str] = ..., orig_quote_order_qty: _Optional[str] = ..., avg_fill_price: _Optional[str] = ..., time_ms: _Optional[int] = ..., update_time_ms: _Optional[int] = ..., expiry_reason: _Optional[str] = ..., fills: _Optional[_Iterable[_Union[Fill, _Mapping]]] = ...) -> None: ...

class PlaceOrderResponse(_message.Message):
    __slots__ = ("outcome", "order_exists", "client_order_id", "order", "sent", "note", "commission_maker", "commission_taker", "freshness", "known_at_ms", "worst_case_notional", "worst_case_asset")
    class SentEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    ORDER_EXISTS_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    SENT_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    COMMISSION_MAKER_FIELD_NUMBER: _ClassVar[int]
    COMMISSION_TAKER_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_FIELD_NUMBER: _ClassVar[int]
    KNOWN_AT_MS_FIELD_NUMBER: _ClassVar[int]
    WORST_CASE_NOTIONAL_FIELD_NUMBER: _ClassVar[int]
    WORST_CASE_ASSET_FIELD_NUMBER: _ClassVar[int]
    outcome: PlaceOutcome
    order_exists: bool
    client_order_id: str
    order: Order
    sent: _containers.ScalarMap[str, str]
    note: str
    commission_maker: str
    commission_taker: str
    freshness: _common_pb2.Freshness
    known_at_ms: int
    worst_case_notional: str
    worst_case_asset: str
    def __init__(self, outcome: _Optional[_Union[PlaceOutcome, str]] = ..., order_exists: _Optional[bool] = ..., client_order_id: _Optional[str] = ..., order: _Optional[_Union[Order, _Mapping]] = ..., sent: _Optional[_Mapping[str, str]] = ..., note: _Optional[str] = ..., commission_maker: _Optional[str] = ..., commission_taker: _Optional[str] = ..., freshness: _Optional[_Union[_common_pb2.Freshness, _Mapping]] = ..., known_at_ms: _Optional[int] = ..., worst_case_notional: _Optional[str] = ..., worst_case_asset: _Optional[str] = ...) -> None: ...

class CancelOrderRequest(_message.Message):
    __slots__ = ("symbol", "order_id", "client_order_id")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    order_id: int
    client_order_id: str
    def __init__(self, symbol: _Optional[str] = ..., order_id: _Optional[int] = ..., client_order_id: _Optional[str] = ...) -> None: ...

class CancelOrderResponse(_message.Message):
    __slots__ = ("order", "freshness")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_FIELD_NUMBER: _ClassVar[int]
    order: Order
    freshness: _common_pb2.Freshness
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ..., freshness: _Optional[_Union[_common_pb2.Freshness, _Mapping]] = ...) -> None: ...

class GetOrderRequest(_message.Message):
    __slots__ = ("symbol", "order_id", "client_order_id", "wait_ms")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    WAIT_MS_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    order_id: int
    client_order_id: str
    wait_ms: int
    def __init__(self, symbol: _Optional[str] = ..., order_id: _Optional[int] = ..., client_order_id: _Optional[str] = ..., wait_ms: _Optional[int] = ...) -> None: ...

class GetOrderResponse(_message.Message):
    __slots__ = ("order", "freshness", "waited")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_FIELD_NUMBER: _ClassVar[int]
    WAITED_FIELD_NUMBER: _ClassVar[int]
    order: Order
    freshness: _common_pb2.Freshness
    waited: str
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ..., freshness: _Optional[_Union[_common_pb2.Freshness, _Mapping]] = ..., waited: _Optional[str] = ...) -> None: ...

class GetOpenOrdersRequest(_message.Message):
    __slots__ = ("symbol",)
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    def __init__(self, symbol: _Optional[str] = ...) -> None: ...

class GetOpenOrdersResponse(_message.Message):
    __slots__ = ("orders", "freshness")
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[Order]
    freshness: _common_pb2.Freshness
    def __init__(self, orders: _Optional[_Iterable[_Union[Order, _Mapping]]] = ..., freshness: _Optional[_Union[_common_pb2.Freshness, _Mapping]] = ...) -> None: ...

class GetAllOrdersRequest(_message.Message):
    __slots__ = ("symbol", "order_id", "start_time_ms", "end_time_ms", "limit")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    END_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    order_id: int
    start_time_ms: int
    end_time_ms: int
    limit: int
    def __init__(self, symbol: _Optional[str] = ..., order_id: _Optional[int] = ..., start_time_ms: _Optional[int] = ..., end_time_ms: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class GetAllOrdersResponse(_message.Message):
    __slots__ = ("orders", "freshness")
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[Order]
    freshness: _common_pb2.Freshness
    def __init__(self, orders: _Optional[_Iterable[_Union[Order, _Mapping]]] = ..., freshness: _Optional[_Union[_common_pb2.Freshness, _Mapping]] = ...) -> None: ...
