from contracts.binance.v1 import options_pb2 as _options_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class Side(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SIDE_UNSPECIFIED: _ClassVar[Side]
    SIDE_BUY: _ClassVar[Side]
    SIDE_SELL: _ClassVar[Side]

class OrderType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_TYPE_UNSPECIFIED: _ClassVar[OrderType]
    ORDER_TYPE_LIMIT: _ClassVar[OrderType]
    ORDER_TYPE_MARKET: _ClassVar[OrderType]
    ORDER_TYPE_LIMIT_MAKER: _ClassVar[OrderType]
    ORDER_TYPE_STOP_LOSS: _ClassVar[OrderType]
    ORDER_TYPE_STOP_LOSS_LIMIT: _ClassVar[OrderType]
    ORDER_TYPE_TAKE_PROFIT: _ClassVar[OrderType]
    ORDER_TYPE_TAKE_PROFIT_LIMIT: _ClassVar[OrderType]

class TimeInForce(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TIME_IN_FORCE_UNSPECIFIED: _ClassVar[TimeInForce]
    TIME_IN_FORCE_GTC: _ClassVar[TimeInForce]
    TIME_IN_FORCE_IOC: _ClassVar[TimeInForce]
    TIME_IN_FORCE_FOK: _ClassVar[TimeInForce]

class OrderResponseType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_RESPONSE_TYPE_UNSPECIFIED: _ClassVar[OrderResponseType]
    ORDER_RESPONSE_TYPE_ACK: _ClassVar[OrderResponseType]
    ORDER_RESPONSE_TYPE_RESULT: _ClassVar[OrderResponseType]
    ORDER_RESPONSE_TYPE_FULL: _ClassVar[OrderResponseType]

class KlineInterval(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    KLINE_INTERVAL_UNSPECIFIED: _ClassVar[KlineInterval]
    KLINE_INTERVAL_1S: _ClassVar[KlineInterval]
    KLINE_INTERVAL_1M: _ClassVar[KlineInterval]
    KLINE_INTERVAL_3M: _ClassVar[KlineInterval]
    KLINE_INTERVAL_5M: _ClassVar[KlineInterval]
    KLINE_INTERVAL_15M: _ClassVar[KlineInterval]
    KLINE_INTERVAL_30M: _ClassVar[KlineInterval]
    KLINE_INTERVAL_1H: _ClassVar[KlineInterval]
    KLINE_INTERVAL_2H: _ClassVar[KlineInterval]
    KLINE_INTERVAL_4H: _ClassVar[KlineInterval]
    KLINE_INTERVAL_6H: _ClassVar[KlineInterval]
    KLINE_INTERVAL_8H: _ClassVar[KlineInterval]
    KLINE_INTERVAL_12H: _ClassVar[KlineInterval]
    KLINE_INTERVAL_1D: _ClassVar[KlineInterval]
    KLINE_INTERVAL_3D: _ClassVar[KlineInterval]
    KLINE_INTERVAL_1W: _ClassVar[KlineInterval]
    KLINE_INTERVAL_1MO: _ClassVar[KlineInterval]
SIDE_UNSPECIFIED: Side
SIDE_BUY: Side
SIDE_SELL: Side
ORDER_TYPE_UNSPECIFIED: OrderType
ORDER_TYPE_LIMIT: OrderType
ORDER_TYPE_MARKET: OrderType
ORDER_TYPE_LIMIT_MAKER: OrderType
ORDER_TYPE_STOP_LOSS: OrderType
ORDER_TYPE_STOP_LOSS_LIMIT: OrderType
ORDER_TYPE_TAKE_PROFIT: OrderType
ORDER_TYPE_TAKE_PROFIT_LIMIT: OrderType
TIME_IN_FORCE_UNSPECIFIED: TimeInForce
TIME_IN_FORCE_GTC: TimeInForce
TIME_IN_FORCE_IOC: TimeInForce
TIME_IN_FORCE_FOK: TimeInForce
ORDER_RESPONSE_TYPE_UNSPECIFIED: OrderResponseType
ORDER_RESPONSE_TYPE_ACK: OrderResponseType
ORDER_RESPONSE_TYPE_RESULT: OrderResponseType
ORDER_RESPONSE_TYPE_FULL: OrderResponseType
KLINE_INTERVAL_UNSPECIFIED: KlineInterval
KLINE_INTERVAL_1S: KlineInterval
KLINE_INTERVAL_1M: KlineInterval
KLINE_INTERVAL_3M: KlineInterval
KLINE_INTERVAL_5M: KlineInterval
KLINE_INTERVAL_15M: KlineInterval
KLINE_INTERVAL_30M: KlineInterval
KLINE_INTERVAL_1H: KlineInterval
KLINE_INTERVAL_2H: KlineInterval
KLINE_INTERVAL_4H: KlineInterval
KLINE_INTERVAL_6H: KlineInterval
KLINE_INTERVAL_8H: KlineInterval
KLINE_INTERVAL_12H: KlineInterval
KLINE_INTERVAL_1D: KlineInterval
KLINE_INTERVAL_3D: KlineInterval
KLINE_INTERVAL_1W: KlineInterval
KLINE_INTERVAL_1MO: KlineInterval

class Freshness(_message.Message):
    __slots__ = ("environment", "exchange_time_ms", "age_ms", "source")
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    AGE_MS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    environment: str
    exchange_time_ms: int
    age_ms: int
    source: str
    def __init__(self, environment: _Optional[str] = ..., exchange_time_ms: _Optional[int] = ..., age_ms: _Optional[int] = ..., source: _Optional[str] = ...) -> None: ...

class PriceLevel(_message.Message):
    __slots__ = ("price", "quantity")
    PRICE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    price: str
    quantity: str
    def __init__(self, price: _Optional[str] = ..., quantity: _Optional[str] = ...) -> None: ...
