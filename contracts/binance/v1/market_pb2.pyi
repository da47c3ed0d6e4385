from contracts.binance.v1 import common_pb2 as _common_pb2
from contracts.binance.v1 import options_pb2 as _options_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetTickerRequest(_message.Message):
    __slots__ = ("symbol",)
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    def __init__(self, symbol: _Optional[str] = ...) -> None: ...

class GetTickerResponse(_message.Message):
    __slots__ = ("symbol", "last_price", "last_qty", "price_change", "price_change_percent", "weighted_avg_price", "open_price", "high_price", "low_price", "volume", "quote_volume", "bid_price", "bid_qty", "ask_price", "ask_qty", "open_time_ms", "close_time_ms", "trade_count", "freshness")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    LAST_PRICE_FIELD_NUMBER: _ClassVar[int]
    LAST_QTY_FIELD_NUMBER: _ClassVar[int]
    PRICE_CHANGE_FIELD_NUMBER: _ClassVar[int]
    PRICE_CHANGE_PERCENT_FIELD_NUMBER: _ClassVar[int]
    WEIGHTED_AVG_PRICE_FIELD_NUMBER: _ClassVar[int]
    OPEN_PRICE_FIELD_NUMBER: _ClassVar[int]
    HIGH_PRICE_FIELD_NUMBER: _ClassVar[int]
    LOW_PRICE_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    QUOTE_VOLUME_FIELD_NUMBER: _ClassVar[int]
    BID_PRICE_FIELD_NUMBER: _ClassVar[int]
    BID_QTY_FIELD_NUMBER: _ClassVar[int]
    ASK_PRICE_FIELD_NUMBER: _ClassVar[int]
    ASK_QTY_FIELD_NUMBER: _ClassVar[int]
    OPEN_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    CLOSE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    TRADE_COUNT_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    last_price: str
    last_qty: str
    price_change: str
    price_change_percent: str
    weighted_avg_price: str
    open_price: str
    high_price: str
    low_price: str
    volume: str
    quote_volume: str
    bid_price: str
    bid_qty: str
    ask_price: str
    ask_qty: str
    open_time_ms: int
    close_time_ms: int
    trade_count: int
    freshness: _common_pb2.Freshness
    def __init__(self, symbol: _Optional[str] = ..., last_price: _Optional[str] = ..., last_qty: _Optional[str] = ..., price_change: _Optional[str] = ..., price_change_percent: _Optional[str] = ..., weighted_avg_price: _Optional[str] = ..., open_price: _Optional[str] = ..., high_price: _Optional[str] = ..., low_price: _Optional[str] = ..., volume: _Optional[str] = ..., quote_volume: _Optional[str] = ..., bid_price: _Optional[str] = ..., bid_qty: _Optional[str] = ..., ask_price: _Optional[str] = ..., ask_qty: _Optional[str] = ..., open_time_ms: _Optional[int] = ..., close_time_ms: _Optional[int] = ..., trade_count: _Optional[int] = ..., freshness: _Optional[_Union[_common_pb2.Freshness, _Mapping]] = ...) -> None: ...

class GetOrderBookRequest(_message.Message):
    __slots__ = ("symbol", "limit")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    limit: int
    def __init__(self, symbol: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class GetOrderBookResponse(_message.Message):
    __slots__ = ("symbol", "last_update_id", "bids", "asks", "freshness")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    LAST_UPDATE_ID_FIELD_NUMBER: _ClassVar[int]
    BIDS_FIELD_NUMBER: _ClassVar[int]
    ASKS_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    last_update_id: int
    bids: _containers.RepeatedCompositeFieldContainer[_common_pb2.PriceLevel]
    asks: _containers.RepeatedCompositeFieldContainer[_common_pb2.PriceLevel]
    freshness: _common_pb2.Freshness
    def __init__(self, symbol: _Optional[str] = ..., last_update_id: _Optional[int] = ..., bids: _Optional[_Iterable[_Union[_common_pb2.PriceLevel, _Mapping]]] = ..., asks: _Optional[_Iterable[_Union[_common_pb2.PriceLevel, _Mapping]]] = ..., freshness: _Optional[_Union[_common_pb2.Freshness, _Mapping]] = ...) -> None: ...

class GetRecentTradesRequest(_message.Message):
    __slots__ = ("symbol", "limit")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    limit: int
    def __init__(self, symbol: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class Trade(_message.Message):
    __slots__ = ("id", "price", "qty", "quote_qty", "time_ms", "is_buyer_maker")
    ID_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    QTY_FIELD_NUMBER: _ClassVar[int]
    QUOTE_QTY_FIELD_NUMBER: _ClassVar[int]
    TIME_MS_FIELD_NUMBER: _ClassVar[int]
    IS_BUYER_MAKER_FIELD_NUMBER: _ClassVar[int]
    id: int
    price: str
    qty: str
    quote_qty: str
    time_ms: int
    is_buyer_maker: bool
    def __init__(self, id: _Optional[int] = ..., price: _Optional[str] = ..., qty: _Optional[str] = ..., quote_qty: _Optional[str] = ..., time_ms: _Optional[int] = ..., is_buyer_maker: _Optional[bool] = ...) -> None: ...

class GetRecentTradesResponse(_message.Message):
    __slots__ = ("symbol", "trades", "freshness")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TRADES_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    trades: _containers.RepeatedCompositeFieldContainer[Trade]
    freshness: _common_pb2.Freshness
    def __init__(self, symbol: _Optional[str] = ..., trades: _Optional[_Iterable[_Union[Trade, _Mapping]]] = ..., freshness: _Optional[_Union[_common_pb2.Freshness, _Mapping]] = ...) -> None: ...

class GetKlinesRequest(_message.Message):
    __slots__ = ("symbol", "interval", "start_time_ms", "end_time_ms", "limit")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    START_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    END_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    interval: _common_pb2.KlineInterval
    start_time_ms: int
    end_time_ms: int
    limit: int
    def __init__(self, symbol: _Optional[str] = ..., interval: _Optional[_Union[_common_pb2.KlineInterval, str]] = ..., start_time_ms: _Optional[int] = ..., end_time_ms: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class Kline(_message.Message):
    __slots__ = ("open_time_ms", "open", "high", "low", "close", "volume", "close_time_ms", "quote_volume", "trade_count", "taker_buy_base_volume", "taker_buy_quote_volume")
    OPEN_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    OPEN_FIELD_NUMBER: _ClassVar[int]
    HIGH_FIELD_NUMBER: _ClassVar[int]
    LOW_FIELD_NUMBER: _ClassVar[int]
    CLOSE_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    CLOSE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    QUOTE_VOLUME_FIELD_NUMBER: _ClassVar[int]
    TRADE_COUNT_FIELD_NUMBER: _ClassVar[int]
    TAKER_BUY_BASE_VOLUME_FIELD_NUMBER: _ClassVar[int]
    TAKER_BUY_QUOTE_VOLUME_FIELD_NUMBER: _ClassVar[int]
    open_time_ms: int
    open: str
    high: str
    low: str
    close: str
    volume: str
    close_time_ms: int
    quote_volume: str
    trade_count: int
    taker_buy_base_volume: str
    taker_buy_quote_volume: str
    def __init__(self, open_time_ms: _Optional[int] = ..., open: _Optional[str] = ..., high: _Optional[str] = ..., low: _Optional[str] = ..., close: _Optional[str] = ..., volume: _Optional[str] = ..., close_time_ms: _Optional[int] = ..., quote_volume: _Optional[str] = ..., trade_count: _Optional[int] = ..., taker_buy_base_volume: _Optional[str] = ..., taker_buy_quote_volume: _Optional[str] = ...) -> None: ...

class GetKlinesResponse(_message.Message):
    __slots__ = ("symbol", "interval", "klines", "freshness")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    KLINES_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    interval: _common_pb2.KlineInterval
    klines: _containers.RepeatedCompositeFieldContainer[Kline]
    freshness: _common_pb2.Freshness
    def __init__(self, symbol: _Optional[str] = ..., interval: _Optional[_Union[_common_pb2.KlineInterval, str]] = ..., klines: _Optional[_Iterable[_Union[Kline, _Mapping]]] = ..., freshness: _Optional[_Union[_common_pb2.Freshness, _Mapping]] = ...) -> None: ...

class GetExchangeInfoRequest(_message.Message):
    __slots__ = ("symbols",)
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    symbols: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, symbols: _Optional[_Iterable[str]] = ...) -> None: ...

class SymbolInfo(_message.Message):
    __slots__ = ("symbol", "status", "base_asset", "quote_asset", "base_asset_precision", "quote_asset_precision", "order_types", "tick_size", "min_price", "max_price", "step_size", "min_qty", "max_qty", "market_max_qty", "min_notional", "max_notional", "max_num_orders", "quote_order_qty_market_allowed", "filters")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    BASE_ASSET_FIELD_NUMBER: _ClassVar[int]
    QUOTE_ASSET_FIELD_NUMBER: _ClassVar[int]
    BASE_ASSET_PRECISION_FIELD_NUMBER: _ClassVar[int]
    QUOTE_ASSET_PRECISION_FIELD_NUMBER: _ClassVar[int]
    ORDER_TYPES_FIELD_NUMBER: _ClassVar[int]
    TICK_SIZE_FIELD_NUMBER: _ClassVar[int]
    MIN_PRICE_FIELD_NUMBER: _ClassVar[int]
    MAX_PRICE_FIELD_NUMBER: _ClassVar[int]
    STEP_SIZE_FIELD_NUMBER: _ClassVar[int]
    MIN_QTY_FIELD_NUMBER: _ClassVar[int]
    MAX_QTY_FIELD_NUMBER: _ClassVar[int]
    MARKET_MAX_QTY_FIELD_NUMBER: _ClassVar[int]
    MIN_NOTIONAL_FIELD_NUMBER: _ClassVar[int]
    MAX_NOTIONAL_FIELD_NUMBER: _ClassVar[int]
    MAX_NUM_ORDERS_FIELD_NUMBER: _ClassVar[int]
    QUOTE_ORDER_QTY_MARKET_ALLOWED_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    status: str
    base_asset: str
    quote_asset: str
    base_asset_precision: int
    quote_asset_precision: int
    order_types: _containers.RepeatedScalarFieldContainer[str]
    tick_size: str
    min_price: str
    max_price: str
    step_size: str
    min_qty: str
    max_qty: str
    market_max_qty: str
    min_notional: str
    max_notional: str
    max_num_orders: int
    quote_order_qty_market_allowed: bool
    filters: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, symbol: _Optional[str] = ..., status: _Optional[str] = ..., base_asset: _Optional[str] = ..., quote_asset: _Optional[str] = ..., base_asset_precision: _Optional[int] = ..., quote_asset_precision: _Optional[int] = ..., order_types: _Optional[_Iterable[str]] = ..., tick_size: _Optional[str] = ..., min_price: _Optional[str] = ..., max_price: _Optional[str] = ..., step_size: _Optional[str] = ..., min_qty: _Optional[str] = ..., max_qty: _Optional[str] = ..., market_max_qty: _Optional[str] = ..., min_notional: _Optional[str] = ..., max_notional: _Optional[str] = ..., max_num_orders: _Optional[int] = ..., quote_order_qty_market_allowed: _Optional[bool] = ..., filters: _Optional[_Iterable[str]] = ...) -> None: ...

class RateLimit(_message.Message):
    __slots__ = ("type", "interval", "interval_num", "limit")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_NUM_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    type: str
    interval: str
    interval_num: int
    limit: int
    def __init__(self, type: _Optional[str] = ..., interval: _Optional[str] = ..., interval_num: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class GetExchangeInfoResponse(_message.Message):
    __slots__ = ("symbols", "rate_limits", "freshness")
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMITS_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_FIELD_NUMBER: _ClassVar[int]
    symbols: _containers.RepeatedCompositeFieldContainer[SymbolInfo]
    rate_limits: _containers.RepeatedCompositeFieldContainer[RateLimit]
    freshness: _common_pb2.Freshness
    def __init__(self, symbols: _Optional[_Iterable[_Union[SymbolInfo, _Mapping]]] = ..., rate_limits: _Optional[_Iterable[_Union[RateLimit, _Mapping]]] = ..., freshness: _Optional[_Union[_common_pb2.Freshness, _Mapping]] = ...) -> None: ...

class GetAvgPriceRequest(_message.Message):
    __slots__ = ("symbol",)
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    def __init__(self, symbol: _Optional[str] = ...) -> None: ...

class GetAvgPriceResponse(_message.Message):
    __slots__ = ("symbol", "mins", "price", "close_time_ms", "freshness")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    MINS_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    CLOSE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    mins: int
    price: str
    close_time_ms: int
    freshness: _common_pb2.Freshness
    def __init__(self, symbol: _Optional[str] = ..., mins: _Optional[int] = ..., price: _Optional[str] = ..., close_time_ms: _Optional[int] = ..., freshness: _Optional[_Union[_common_pb2.Freshness, _Mapping]] = ...) -> None: ...
