from contracts.binance.v1 import common_pb2 as _common_pb2
from contracts.binance.v1 import options_pb2 as _options_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SelfTradePreventionMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SELF_TRADE_PREVENTION_MODE_UNSPECIFIED: _ClassVar[SelfTradePreventionMode]
    SELF_TRADE_PREVENTION_MODE_NONE: _ClassVar[SelfTradePreventionMode]
    SELF_TRADE_PREVENTION_MODE_EXPIRE_TAKER: _ClassVar[SelfTradePreventionMode]
    SELF_TRADE_PREVENTION_MODE_EXPIRE_MAKER: _ClassVar[SelfTradePreventionMode]
    SELF_TRADE_PREVENTION_MODE_EXPIRE_BOTH: _ClassVar[SelfTradePreventionMode]
    SELF_TRADE_PREVENTION_MODE_DECREMENT: _ClassVar[SelfTradePreventionMode]
    SELF_TRADE_PREVENTION_MODE_TRANSFER: _ClassVar[SelfTradePreventionMode]

class PegPriceType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PEG_PRICE_TYPE_UNSPECIFIED: _ClassVar[PegPriceType]
    PEG_PRICE_TYPE_PRIMARY_PEG: _ClassVar[PegPriceType]
    PEG_PRICE_TYPE_MARKET_PEG: _ClassVar[PegPriceType]

class PlaceOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PLACE_OUTCOME_UNSPECIFIED: _ClassVar[PlaceOutcome]
    PLACE_OUTCOME_PLACED: _ClassVar[PlaceOutcome]
    PLACE_OUTCOME_VALIDATED: _ClassVar[PlaceOutcome]
    PLACE_OUTCOME_RECONCILED_EXISTS: _ClassVar[PlaceOutcome]
    PLACE_OUTCOME_RECONCILED_ABSENT: _ClassVar[PlaceOutcome]
    PLACE_OUTCOME_UNKNOWN: _ClassVar[PlaceOutcome]
    PLACE_OUTCOME_NOT_PLACED: _ClassVar[PlaceOutcome]

class CancelReplaceMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CANCEL_REPLACE_MODE_UNSPECIFIED: _ClassVar[CancelReplaceMode]
    CANCEL_REPLACE_MODE_STOP_ON_FAILURE: _ClassVar[CancelReplaceMode]
    CANCEL_REPLACE_MODE_ALLOW_FAILURE: _ClassVar[CancelReplaceMode]

class CancelRestrictions(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CANCEL_RESTRICTIONS_UNSPECIFIED: _ClassVar[CancelRestrictions]
    CANCEL_RESTRICTIONS_ONLY_NEW: _ClassVar[CancelRestrictions]
    CANCEL_RESTRICTIONS_ONLY_PARTIALLY_FILLED: _ClassVar[CancelRestrictions]

class AmendOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AMEND_OUTCOME_UNSPECIFIED: _ClassVar[AmendOutcome]
    AMEND_OUTCOME_AMENDED: _ClassVar[AmendOutcome]
    AMEND_OUTCOME_VALIDATED: _ClassVar[AmendOutcome]
    AMEND_OUTCOME_RECONCILED_AMENDED: _ClassVar[AmendOutcome]
    AMEND_OUTCOME_RECONCILED_NOT_AMENDED: _ClassVar[AmendOutcome]
    AMEND_OUTCOME_UNKNOWN: _ClassVar[AmendOutcome]
SELF_TRADE_PREVENTION_MODE_UNSPECIFIED: SelfTradePreventionMode
SELF_TRADE_PREVENTION_MODE_NONE: SelfTradePreventionMode
SELF_TRADE_PREVENTION_MODE_EXPIRE_TAKER: SelfTradePreventionMode
SELF_TRADE_PREVENTION_MODE_EXPIRE_MAKER: SelfTradePreventionMode
SELF_TRADE_PREVENTION_MODE_EXPIRE_BOTH: SelfTradePreventionMode
SELF_TRADE_PREVENTION_MODE_DECREMENT: SelfTradePreventionMode
SELF_TRADE_PREVENTION_MODE_TRANSFER: SelfTradePreventionMode
PEG_PRICE_TYPE_UNSPECIFIED: PegPriceType
PEG_PRICE_TYPE_PRIMARY_PEG: PegPriceType
PEG_PRICE_TYPE_MARKET_PEG: PegPriceType
PLACE_OUTCOME_UNSPECIFIED: PlaceOutcome
PLACE_OUTCOME_PLACED: PlaceOutcome
PLACE_OUTCOME_VALIDATED: PlaceOutcome
PLACE_OUTCOME_RECONCILED_EXISTS: PlaceOutcome
PLACE_OUTCOME_RECONCILED_ABSENT: PlaceOutcome
PLACE_OUTCOME_UNKNOWN: PlaceOutcome
PLACE_OUTCOME_NOT_PLACED: PlaceOutcome
CANCEL_REPLACE_MODE_UNSPECIFIED: CancelReplaceMode
CANCEL_REPLACE_MODE_STOP_ON_FAILURE: CancelReplaceMode
CANCEL_REPLACE_MODE_ALLOW_FAILURE: CancelReplaceMode
CANCEL_RESTRICTIONS_UNSPECIFIED: CancelRestrictions
CANCEL_RESTRICTIONS_ONLY_NEW: CancelRestrictions
CANCEL_RESTRICTIONS_ONLY_PARTIALLY_FILLED: CancelRestrictions
AMEND_OUTCOME_UNSPECIFIED: AmendOutcome
AMEND_OUTCOME_AMENDED: AmendOutcome
AMEND_OUTCOME_VALIDATED: AmendOutcome
AMEND_OUTCOME_RECONCILED_AMENDED: AmendOutcome
AMEND_OUTCOME_RECONCILED_NOT_AMENDED: AmendOutcome
AMEND_OUTCOME_UNKNOWN: AmendOutcome

class PlaceOrderRequest(_message.Message):
    __slots__ = ("symbol", "side", "type", "time_in_force", "quantity", "quote_order_qty", "price", "stop_price", "client_order_id", "response_type", "validate_only", "trailing_delta", "iceberg_qty", "self_trade_prevention_mode", "strategy_id", "strategy_type", "peg_price_type", "peg_offset_value")
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
    TRAILING_DELTA_FIELD_NUMBER: _ClassVar[int]
    ICEBERG_QTY_FIELD_NUMBER: _ClassVar[int]
    SELF_TRADE_PREVENTION_MODE_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_TYPE_FIELD_NUMBER: _ClassVar[int]
    PEG_PRICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    PEG_OFFSET_VALUE_FIELD_NUMBER: _ClassVar[int]
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
    trailing_delta: int
    iceberg_qty: str
    self_trade_prevention_mode: SelfTradePreventionMode
    strategy_id: int
    strategy_type: int
    peg_price_type: PegPriceType
    peg_offset_value: int
    def __init__(self, symbol: _Optional[str] = ..., side: _Optional[_Union[_common_pb2.Side, str]] = ..., type: _Optional[_Union[_common_pb2.OrderType, str]] = ..., time_in_force: _Optional[_Union[_common_pb2.TimeInForce, str]] = ..., quantity: _Optional[str] = ..., quote_order_qty: _Optional[str] = ..., price: _Optional[str] = ..., stop_price: _Optional[str] = ..., client_order_id: _Optional[str] = ..., response_type: _Optional[_Union[_common_pb2.OrderResponseType, str]] = ..., validate_only: _Optional[bool] = ..., trailing_delta: _Optional[int] = ..., iceberg_qty: _Optional[str] = ..., self_trade_prevention_mode: _Optional[_Union[SelfTradePreventionMode, str]] = ..., strategy_id: _Optional[int] = ..., strategy_type: _Optional[int] = ..., peg_price_type: _Optional[_Union[PegPriceType, str]] = ..., peg_offset_value: _Optional[int] = ...) -> None: ...

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
    __slots__ = ("symbol", "order_id", "client_order_id", "side", "type", "time_in_force", "status", "price", "stop_price", "orig_qty", "executed_qty", "cumulative_quote_qty", "orig_quote_order_qty", "avg_fill_price", "time_ms", "update_time_ms", "expiry_reason", "fills", "order_list_id", "iceberg_qty", "trailing_delta", "trailing_time_ms", "strategy_id", "strategy_type", "self_trade_prevention_mode", "working_time_ms", "prevented_quantity")
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
    ORDER_LIST_ID_FIELD_NUMBER: _ClassVar[int]
    ICEBERG_QTY_FIELD_NUMBER: _ClassVar[int]
    TRAILING_DELTA_FIELD_NUMBER: _ClassVar[int]
    TRAILING_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_TYPE_FIELD_NUMBER: _ClassVar[int]
    SELF_TRADE_PREVENTION_MODE_FIELD_NUMBER: _ClassVar[int]
    WORKING_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    PREVENTED_QUANTITY_FIELD_NUMBER: _ClassVar[int]
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
    order_list_id: int
    iceberg_qty: str
    trailing_delta: int
    trailing_time_ms: int
    strategy_id: int
    strategy_type: int
    self_trade_prevention_mode: str
    working_time_ms: int
    prevented_quantity: str
    def __init__(self, symbol: _Optional[str] = ..., order_id: _Optional[int] = ..., client_order_id: _Optional[str] = ..., side: _Optional[_Union[_common_pb2.Side, str]] = ..., type: _Optional[_Union[_common_pb2.OrderType, str]] = ..., time_in_force: _Optional[_Union[_common_pb2.TimeInForce, str]] = ..., status: _Optional[str] = ..., price: _Optional[str] = ..., stop_price: _Optional[str] = ..., orig_qty: _Optional[str] = ..., executed_qty: _Optional[str] = ..., cumulative_quote_qty: _Optional[str] = ..., orig_quote_order_qty: _Optional[str] = ..., avg_fill_price: _Optional[str] = ..., time_ms: _Optional[int] = ..., update_time_ms: _Optional[int] = ..., expiry_reason: _Optional[str] = ..., fills: _Optional[_Iterable[_Union[Fill, _Mapping]]] = ..., order_list_id: _Optional[int] = ..., iceberg_qty: _Optional[str] = ..., trailing_delta: _Optional[int] = ..., trailing_time_ms: _Optional[int] = ..., strategy_id: _Optional[int] = ..., strategy_type: _Optional[int] = ..., self_trade_prevention_mode: _Optional[str] = ..., working_time_ms: _Optional[int] = ..., prevented_quantity: _Optional[str] = ...) -> None: ...

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

class OcoLeg(_message.Message):
    __slots__ = ("type", "price", "stop_price", "trailing_delta", "time_in_force", "iceberg_qty", "client_order_id", "strategy_id", "strategy_type")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    STOP_PRICE_FIELD_NUMBER: _ClassVar[int]
    TRAILING_DELTA_FIELD_NUMBER: _ClassVar[int]
    TIME_IN_FORCE_FIELD_NUMBER: _ClassVar[int]
    ICEBERG_QTY_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_TYPE_FIELD_NUMBER: _ClassVar[int]
    type: _common_pb2.OrderType
    price: str
    stop_price: str
    trailing_delta: int
    time_in_force: _common_pb2.TimeInForce
    iceberg_qty: str
    client_order_id: str
    strategy_id: int
    strategy_type: int
    def __init__(self, type: _Optional[_Union[_common_pb2.OrderType, str]] = ..., price: _Optional[str] = ..., stop_price: _Optional[str] = ..., trailing_delta: _Optional[int] = ..., time_in_force: _Optional[_Union[_common_pb2.TimeInForce, str]] = ..., iceberg_qty: _Optional[str] = ..., client_order_id: _Optional[str] = ..., strategy_id: _Optional[int] = ..., strategy_type: _Optional[int] = ...) -> None: ...

class WorkingOrder(_message.Message):
    __slots__ = ("type", "side", "price", "quantity", "time_in_force", "iceberg_qty", "client_order_id", "strategy_id", "strategy_type")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    TIME_IN_FORCE_FIELD_NUMBER: _ClassVar[int]
    ICEBERG_QTY_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_TYPE_FIELD_NUMBER: _ClassVar[int]
    type: _common_pb2.OrderType
    side: _common_pb2.Side
    price: str
    quantity: str
    time_in_force: _common_pb2.TimeInForce
    iceberg_qty: str
    client_order_id: str
    strategy_id: int
    strategy_type: int
    def __init__(self, type: _Optional[_Union[_common_pb2.OrderType, str]] = ..., side: _Optional[_Union[_common_pb2.Side, str]] = ..., price: _Optional[str] = ..., quantity: _Optional[str] = ..., time_in_force: _Optional[_Union[_common_pb2.TimeInForce, str]] = ..., iceberg_qty: _Optional[str] = ..., client_order_id: _Optional[str] = ..., strategy_id: _Optional[int] = ..., strategy_type: _Optional[int] = ...) -> None: ...

class PendingOrder(_message.Message):
    __slots__ = ("type", "side", "quantity", "price", "stop_price", "trailing_delta", "time_in_force", "iceberg_qty", "client_order_id", "strategy_id", "strategy_type")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    STOP_PRICE_FIELD_NUMBER: _ClassVar[int]
    TRAILING_DELTA_FIELD_NUMBER: _ClassVar[int]
    TIME_IN_FORCE_FIELD_NUMBER: _ClassVar[int]
    ICEBERG_QTY_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_TYPE_FIELD_NUMBER: _ClassVar[int]
    type: _common_pb2.OrderType
    side: _common_pb2.Side
    quantity: str
    price: str
    stop_price: str
    trailing_delta: int
    time_in_force: _common_pb2.TimeInForce
    iceberg_qty: str
    client_order_id: str
    strategy_id: int
    strategy_type: int
    def __init__(self, type: _Optional[_Union[_common_pb2.OrderType, str]] = ..., side: _Optional[_Union[_common_pb2.Side, str]] = ..., quantity: _Optional[str] = ..., price: _Optional[str] = ..., stop_price: _Optional[str] = ..., trailing_delta: _Optional[int] = ..., time_in_force: _Optional[_Union[_common_pb2.TimeInForce, str]] = ..., iceberg_qty: _Optional[str] = ..., client_order_id: _Optional[str] = ..., strategy_id: _Optional[int] = ..., strategy_type: _Optional[int] = ...) -> None: ...

class PlaceOcoRequest(_message.Message):
    __slots__ = ("symbol", "side", "quantity", "above", "below", "list_client_order_id", "self_trade_prevention_mode", "validate_only")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    ABOVE_FIELD_NUMBER: _ClassVar[int]
    BELOW_FIELD_NUMBER: _ClassVar[int]
    LIST_CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    SELF_TRADE_PREVENTION_MODE_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    side: _common_pb2.Side
    quantity: str
    above: OcoLeg
    below: OcoLeg
    list_client_order_id: str
    self_trade_prevention_mode: SelfTradePreventionMode
    validate_only: bool
    def __init__(self, symbol: _Optional[str] = ..., side: _Optional[_Union[_common_pb2.Side, str]] = ..., quantity: _Optional[str] = ..., above: _Optional[_Union[OcoLeg, _Mapping]] = ..., below: _Optional[_Union[OcoLeg, _Mapping]] = ..., list_client_order_id: _Optional[str] = ..., self_trade_prevention_mode: _Optional[_Union[SelfTradePreventionMode, str]] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class PlaceOtoRequest(_message.Message):
    __slots__ = ("symbol", "working", "pending", "list_client_order_id", "self_trade_prevention_mode", "validate_only")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    WORKING_FIELD_NUMBER: _ClassVar[int]
    PENDING_FIELD_NUMBER: _ClassVar[int]
    LIST_CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    SELF_TRADE_PREVENTION_MODE_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    working: WorkingOrder
    pending: PendingOrder
    list_client_order_id: str
    self_trade_prevention_mode: SelfTradePreventionMode
    validate_only: bool
    def __init__(self, symbol: _Optional[str] = ..., working: _Optional[_Union[WorkingOrder, _Mapping]] = ..., pending: _Optional[_Union[PendingOrder, _Mapping]] = ..., list_client_order_id: _Optional[str] = ..., self_trade_prevention_mode: _Optional[_Union[SelfTradePreventionMode, str]] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class PlaceOtocoRequest(_message.Message):
    __slots__ = ("symbol", "working", "pending_side", "pending_quantity", "pending_above", "pending_below", "list_client_order_id", "self_trade_prevention_mode", "validate_only")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    WORKING_FIELD_NUMBER: _ClassVar[int]
    PENDING_SIDE_FIELD_NUMBER: _ClassVar[int]
    PENDING_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PENDING_ABOVE_FIELD_NUMBER: _ClassVar[int]
    PENDING_BELOW_FIELD_NUMBER: _ClassVar[int]
    LIST_CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    SELF_TRADE_PREVENTION_MODE_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    working: WorkingOrder
    pending_side: _common_pb2.Side
    pending_quantity: str
    pending_above: OcoLeg
    pending_below: OcoLeg
    list_client_order_id: str
    self_trade_prevention_mode: SelfTradePreventionMode
    validate_only: bool
    def __init__(self, symbol: _Optional[str] = ..., working: _Optional[_Union[WorkingOrder, _Mapping]] = ..., pending_side: _Optional[_Union[_common_pb2.Side, str]] = ..., pending_quantity: _Optional[str] = ..., pending_above: _Optional[_Union[OcoLeg, _Mapping]] = ..., pending_below: _Optional[_Union[OcoLeg, _Mapping]] = ..., list_client_order_id: _Optional[str] = ..., self_trade_prevention_mode: _Optional[_Union[SelfTradePreventionMode, str]] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class OrderList(_message.Message):
    __slots__ = ("order_list_id", "contingency_type", "list_status_type", "list_order_status", "list_client_order_id", "transaction_time_ms", "symbol", "orders")
    ORDER_LIST_ID_FIELD_NUMBER: _ClassVar[int]
    CONTINGENCY_TYPE_FIELD_NUMBER: _ClassVar[int]
    LIST_STATUS_TYPE_FIELD_NUMBER: _ClassVar[int]
    LIST_ORDER_STATUS_FIELD_NUMBER: _ClassVar[int]
    LIST_CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    order_list_id: int
    contingency_type: str
    list_status_type: str
    list_order_status: str
    list_client_order_id: str
    transaction_time_ms: int
    symbol: str
    orders: _containers.RepeatedCompositeFieldContainer[Order]
    def __init__(self, order_list_id: _Optional[int] = ..., contingency_type: _Optional[str] = ..., list_status_type: _Optional[str] = ..., list_order_status: _Optional[str] = ..., list_client_order_id: _Optional[str] = ..., transaction_time_ms: _Optional[int] = ..., symbol: _Optional[str] = ..., orders: _Optional[_Iterable[_Union[Order, _Mapping]]] = ...) -> None: ...

class LegWorstCase(_message.Message):
    __slots__ = ("client_order_id", "role", "notional")
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    NOTIONAL_FIELD_NUMBER: _ClassVar[int]
    client_order_id: str
    role: str
    notional: str
    def __init__(self, client_order_id: _Optional[str] = ..., role: _Optional[str] = ..., notional: _Optional[str] = ...) -> None: ...

class PlaceOrderListResponse(_message.Message):
    __slots__ = ("outcome", "list_exists", "list_client_order_id", "order_list", "sent", "note", "freshness", "known_at_ms", "worst_cases", "worst_case_notional", "worst_case_asset")
    class SentEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    LIST_EXISTS_FIELD_NUMBER: _ClassVar[int]
    LIST_CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_LIST_FIELD_NUMBER: _ClassVar[int]
    SENT_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_FIELD_NUMBER: _ClassVar[int]
    KNOWN_AT_MS_FIELD_NUMBER: _ClassVar[int]
    WORST_CASES_FIELD_NUMBER: _ClassVar[int]
    WORST_CASE_NOTIONAL_FIELD_NUMBER: _ClassVar[int]
    WORST_CASE_ASSET_FIELD_NUMBER: _ClassVar[int]
    outcome: PlaceOutcome
    list_exists: bool
    list_client_order_id: str
    order_list: OrderList
    sent: _containers.ScalarMap[str, str]
    note: str
    freshness: _common_pb2.Freshness
    known_at_ms: int
    worst_cases: _containers.RepeatedCompositeFieldContainer[LegWorstCase]
    worst_case_notional: str
    worst_case_asset: str
    def __init__(self, outcome: _Optional[_Union[PlaceOutcome, str]] = ..., list_exists: _Optional[bool] = ..., list_client_order_id: _Optional[str] = ..., order_list: _Optional[_Union[OrderList, _Mapping]] = ..., sent: _Optional[_Mapping[str, str]] = ..., note: _Optional[str] = ..., freshness: _Optional[_Union[_common_pb2.Freshness, _Mapping]] = ..., known_at_ms: _Optional[int] = ..., worst_cases: _Optional[_Iterable[_Union[LegWorstCase, _Mapping]]] = ..., worst_case_notional: _Optional[str] = ..., worst_case_asset: _Optional[str] = ...) -> None: ...

class CancelOrderListRequest(_message.Message):
    __slots__ = ("symbol", "order_list_id", "list_client_order_id")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    ORDER_LIST_ID_FIELD_NUMBER: _ClassVar[int]
    LIST_CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    order_list_id: int
    list_client_order_id: str
    def __init__(self, symbol: _Optional[str] = ..., order_list_id: _Optional[int] = ..., list_client_order_id: _Optional[str] = ...) -> None: ...

class CancelOrderListResponse(_message.Message):
    __slots__ = ("order_list", "freshness")
    ORDER_LIST_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_FIELD_NUMBER: _ClassVar[int]
    order_list: OrderList
    freshness: _common_pb2.Freshness
    def __init__(self, order_list: _Optional[_Union[OrderList, _Mapping]] = ..., freshness: _Optional[_Union[_common_pb2.Freshness, _Mapping]] = ...) -> None: ...

class GetOrderListRequest(_message.Message):
    __slots__ = ("order_list_id", "list_client_order_id")
    ORDER_LIST_ID_FIELD_NUMBER: _ClassVar[int]
    LIST_CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    order_list_id: int
    list_client_order_id: str
    def __init__(self, order_list_id: _Optional[int] = ..., list_client_order_id: _Optional[str] = ...) -> None: ...

class GetOrderListResponse(_message.Message):
    __slots__ = ("order_list", "freshness")
    ORDER_LIST_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_FIELD_NUMBER: _ClassVar[int]
    order_list: OrderList
    freshness: _common_pb2.Freshness
    def __init__(self, order_list: _Optional[_Union[OrderList, _Mapping]] = ..., freshness: _Optional[_Union[_common_pb2.Freshness, _Mapping]] = ...) -> None: ...

class GetAllOrderListsRequest(_message.Message):
    __slots__ = ("from_id", "start_time_ms", "end_time_ms", "limit")
    FROM_ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    END_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    from_id: int
    start_time_ms: int
    end_time_ms: int
    limit: int
    def __init__(self, from_id: _Optional[int] = ..., start_time_ms: _Optional[int] = ..., end_time_ms: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class GetAllOrderListsResponse(_message.Message):
    __slots__ = ("order_lists", "freshness")
    ORDER_LISTS_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_FIELD_NUMBER: _ClassVar[int]
    order_lists: _containers.RepeatedCompositeFieldContainer[OrderList]
    freshness: _common_pb2.Freshness
    def __init__(self, order_lists: _Optional[_Iterable[_Union[OrderList, _Mapping]]] = ..., freshness: _Optional[_Union[_common_pb2.Freshness, _Mapping]] = ...) -> None: ...

class GetOpenOrderListsRequest(_message.Message):
    __slots__ = ("symbol",)
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    def __init__(self, symbol: _Optional[str] = ...) -> None: ...

class GetOpenOrderListsResponse(_message.Message):
    __slots__ = ("order_lists", "freshness")
    ORDER_LISTS_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_FIELD_NUMBER: _ClassVar[int]
    order_lists: _containers.RepeatedCompositeFieldContainer[OrderList]
    freshness: _common_pb2.Freshness
    def __init__(self, order_lists: _Optional[_Iterable[_Union[OrderList, _Mapping]]] = ..., freshness: _Optional[_Union[_common_pb2.Freshness, _Mapping]] = ...) -> None: ...

class CancelReplaceOrderRequest(_message.Message):
    __slots__ = ("symbol", "cancel_order_id", "cancel_client_order_id", "mode", "cancel_restrictions", "side", "type", "time_in_force", "quantity", "quote_order_qty", "price", "stop_price", "trailing_delta", "iceberg_qty", "client_order_id", "self_trade_prevention_mode", "strategy_id", "strategy_type", "response_type", "validate_only")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    CANCEL_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CANCEL_CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    CANCEL_RESTRICTIONS_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    TIME_IN_FORCE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    QUOTE_ORDER_QTY_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    STOP_PRICE_FIELD_NUMBER: _ClassVar[int]
    TRAILING_DELTA_FIELD_NUMBER: _ClassVar[int]
    ICEBERG_QTY_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    SELF_TRADE_PREVENTION_MODE_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_TYPE_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_TYPE_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    cancel_order_id: int
    cancel_client_order_id: str
    mode: CancelReplaceMode
    cancel_restrictions: CancelRestrictions
    side: _common_pb2.Side
    type: _common_pb2.OrderType
    time_in_force: _common_pb2.TimeInForce
    quantity: str
    quote_order_qty: str
    price: str
    stop_price: str
    trailing_delta: int
    iceberg_qty: str
    client_order_id: str
    self_trade_prevention_mode: SelfTradePreventionMode
    strategy_id: int
    strategy_type: int
    response_type: _common_pb2.OrderResponseType
    validate_only: bool
    def __init__(self, symbol: _Optional[str] = ..., cancel_order_id: _Optional[int] = ..., cancel_client_order_id: _Optional[str] = ..., mode: _Optional[_Union[CancelReplaceMode, str]] = ..., cancel_restrictions: _Optional[_Union[CancelRestrictions, str]] = ..., side: _Optional[_Union[_common_pb2.Side, str]] = ..., type: _Optional[_Union[_common_pb2.OrderType, str]] = ..., time_in_force: _Optional[_Union[_common_pb2.TimeInForce, str]] = ..., quantity: _Optional[str] = ..., quote_order_qty: _Optional[str] = ..., price: _Optional[str] = ..., stop_price: _Optional[str] = ..., trailing_delta: _Optional[int] = ..., iceberg_qty: _Optional[str] = ..., client_order_id: _Optional[str] = ..., self_trade_prevention_mode: _Optional[_Union[SelfTradePreventionMode, str]] = ..., strategy_id: _Optional[int] = ..., strategy_type: _Optional[int] = ..., response_type: _Optional[_Union[_common_pb2.OrderResponseType, str]] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class CancelReplaceOrderResponse(_message.Message):
    __slots__ = ("cancel_result", "new_order_result", "canceled_order", "cancel_error", "new_order", "new_order_error", "outcome", "client_order_id", "note", "sent", "freshness", "known_at_ms", "worst_case_notional", "worst_case_asset")
    class SentEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CANCEL_RESULT_FIELD_NUMBER: _ClassVar[int]
    NEW_ORDER_RESULT_FIELD_NUMBER: _ClassVar[int]
    CANCELED_ORDER_FIELD_NUMBER: _ClassVar[int]
    CANCEL_ERROR_FIELD_NUMBER: _ClassVar[int]
    NEW_ORDER_FIELD_NUMBER: _ClassVar[int]
    NEW_ORDER_ERROR_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    SENT_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_FIELD_NUMBER: _ClassVar[int]
    KNOWN_AT_MS_FIELD_NUMBER: _ClassVar[int]
    WORST_CASE_NOTIONAL_FIELD_NUMBER: _ClassVar[int]
    WORST_CASE_ASSET_FIELD_NUMBER: _ClassVar[int]
    cancel_result: str
    new_order_result: str
    canceled_order: Order
    cancel_error: str
    new_order: Order
    new_order_error: str
    outcome: PlaceOutcome
    client_order_id: str
    note: str
    sent: _containers.ScalarMap[str, str]
    freshness: _common_pb2.Freshness
    known_at_ms: int
    worst_case_notional: str
    worst_case_asset: str
    def __init__(self, cancel_result: _Optional[str] = ..., new_order_result: _Optional[str] = ..., canceled_order: _Optional[_Union[Order, _Mapping]] = ..., cancel_error: _Optional[str] = ..., new_order: _Optional[_Union[Order, _Mapping]] = ..., new_order_error: _Optional[str] = ..., outcome: _Optional[_Union[PlaceOutcome, str]] = ..., client_order_id: _Optional[str] = ..., note: _Optional[str] = ..., sent: _Optional[_Mapping[str, str]] = ..., freshness: _Optional[_Union[_common_pb2.Freshness, _Mapping]] = ..., known_at_ms: _Optional[int] = ..., worst_case_notional: _Optional[str] = ..., worst_case_asset: _Optional[str] = ...) -> None: ...

class CancelOpenOrdersRequest(_message.Message):
    __slots__ = ("symbol", "validate_only")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    validate_only: bool
    def __init__(self, symbol: _Optional[str] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class CancelOpenOrdersResponse(_message.Message):
    __slots__ = ("canceled_orders", "canceled_order_lists", "note", "freshness")
    CANCELED_ORDERS_FIELD_NUMBER: _ClassVar[int]
    CANCELED_ORDER_LISTS_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_FIELD_NUMBER: _ClassVar[int]
    canceled_orders: _containers.RepeatedCompositeFieldContainer[Order]
    canceled_order_lists: _containers.RepeatedCompositeFieldContainer[OrderList]
    note: str
    freshness: _common_pb2.Freshness
    def __init__(self, canceled_orders: _Optional[_Iterable[_Union[Order, _Mapping]]] = ..., canceled_order_lists: _Optional[_Iterable[_Union[OrderList, _Mapping]]] = ..., note: _Optional[str] = ..., freshness: _Optional[_Union[_common_pb2.Freshness, _Mapping]] = ...) -> None: ...

class AmendOrderRequest(_message.Message):
    __slots__ = ("symbol", "order_id", "client_order_id", "new_quantity", "new_client_order_id", "validate_only")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    NEW_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    NEW_CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    order_id: int
    client_order_id: str
    new_quantity: str
    new_client_order_id: str
    validate_only: bool
    def __init__(self, symbol: _Optional[str] = ..., order_id: _Optional[int] = ..., client_order_id: _Optional[str] = ..., new_quantity: _Optional[str] = ..., new_client_order_id: _Optional[str] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class AmendOrderResponse(_message.Message):
    __slots__ = ("outcome", "order", "order_list", "new_client_order_id", "execution_id", "note", "freshness", "known_at_ms")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    ORDER_LIST_FIELD_NUMBER: _ClassVar[int]
    NEW_CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_FIELD_NUMBER: _ClassVar[int]
    KNOWN_AT_MS_FIELD_NUMBER: _ClassVar[int]
    outcome: AmendOutcome
    order: Order
    order_list: OrderList
    new_client_order_id: str
    execution_id: int
    note: str
    freshness: _common_pb2.Freshness
    known_at_ms: int
    def __init__(self, outcome: _Optional[_Union[AmendOutcome, str]] = ..., order: _Optional[_Union[Order, _Mapping]] = ..., order_list: _Optional[_Union[OrderList, _Mapping]] = ..., new_client_order_id: _Optional[str] = ..., execution_id: _Optional[int] = ..., note: _Optional[str] = ..., freshness: _Optional[_Union[_common_pb2.Freshness, _Mapping]] = ..., known_at_ms: _Optional[int] = ...) -> None: ...
