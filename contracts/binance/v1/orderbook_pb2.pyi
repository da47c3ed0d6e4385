from contracts.binance.v1 import common_pb2 as _common_pb2
from contracts.binance.v1 import options_pb2 as _options_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BookFreshness(_message.Message):
    __slots__ = ("environment", "last_update_id", "event_time_ms", "age_ms", "source", "state", "resync_count", "synced", "warning", "unsynced_ms")
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    LAST_UPDATE_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    AGE_MS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    RESYNC_COUNT_FIELD_NUMBER: _ClassVar[int]
    SYNCED_FIELD_NUMBER: _ClassVar[int]
    WARNING_FIELD_NUMBER: _ClassVar[int]
    UNSYNCED_MS_FIELD_NUMBER: _ClassVar[int]
    environment: str
    last_update_id: int
    event_time_ms: int
    age_ms: int
    source: str
    state: str
    resync_count: int
    synced: bool
    warning: str
    unsynced_ms: int
    def __init__(self, environment: _Optional[str] = ..., last_update_id: _Optional[int] = ..., event_time_ms: _Optional[int] = ..., age_ms: _Optional[int] = ..., source: _Optional[str] = ..., state: _Optional[str] = ..., resync_count: _Optional[int] = ..., synced: _Optional[bool] = ..., warning: _Optional[str] = ..., unsynced_ms: _Optional[int] = ...) -> None: ...

class GetL1Request(_message.Message):
    __slots__ = ("symbol", "imbalance_levels", "bands_bps", "vwap_base_qty", "vwap_quote_amount", "walls")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    IMBALANCE_LEVELS_FIELD_NUMBER: _ClassVar[int]
    BANDS_BPS_FIELD_NUMBER: _ClassVar[int]
    VWAP_BASE_QTY_FIELD_NUMBER: _ClassVar[int]
    VWAP_QUOTE_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    WALLS_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    imbalance_levels: int
    bands_bps: _containers.RepeatedScalarFieldContainer[float]
    vwap_base_qty: str
    vwap_quote_amount: str
    walls: int
    def __init__(self, symbol: _Optional[str] = ..., imbalance_levels: _Optional[int] = ..., bands_bps: _Optional[_Iterable[float]] = ..., vwap_base_qty: _Optional[str] = ..., vwap_quote_amount: _Optional[str] = ..., walls: _Optional[int] = ...) -> None: ...

class DepthBand(_message.Message):
    __slots__ = ("bps", "bid_base", "bid_quote", "ask_base", "ask_quote")
    BPS_FIELD_NUMBER: _ClassVar[int]
    BID_BASE_FIELD_NUMBER: _ClassVar[int]
    BID_QUOTE_FIELD_NUMBER: _ClassVar[int]
    ASK_BASE_FIELD_NUMBER: _ClassVar[int]
    ASK_QUOTE_FIELD_NUMBER: _ClassVar[int]
    bps: float
    bid_base: str
    bid_quote: str
    ask_base: str
    ask_quote: str
    def __init__(self, bps: _Optional[float] = ..., bid_base: _Optional[str] = ..., bid_quote: _Optional[str] = ..., ask_base: _Optional[str] = ..., ask_quote: _Optional[str] = ...) -> None: ...

class VwapEstimate(_message.Message):
    __slots__ = ("side", "filled_base", "filled_quote", "vwap", "slippage_bps_vs_mid", "slippage_bps_vs_best", "complete")
    SIDE_FIELD_NUMBER: _ClassVar[int]
    FILLED_BASE_FIELD_NUMBER: _ClassVar[int]
    FILLED_QUOTE_FIELD_NUMBER: _ClassVar[int]
    VWAP_FIELD_NUMBER: _ClassVar[int]
    SLIPPAGE_BPS_VS_MID_FIELD_NUMBER: _ClassVar[int]
    SLIPPAGE_BPS_VS_BEST_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_FIELD_NUMBER: _ClassVar[int]
    side: _common_pb2.Side
    filled_base: str
    filled_quote: str
    vwap: str
    slippage_bps_vs_mid: float
    slippage_bps_vs_best: float
    complete: bool
    def __init__(self, side: _Optional[_Union[_common_pb2.Side, str]] = ..., filled_base: _Optional[str] = ..., filled_quote: _Optional[str] = ..., vwap: _Optional[str] = ..., slippage_bps_vs_mid: _Optional[float] = ..., slippage_bps_vs_best: _Optional[float] = ..., complete: _Optional[bool] = ...) -> None: ...

class GetL1Response(_message.Message):
    __slots__ = ("symbol", "best_bid", "best_ask", "mid", "spread", "spread_bps", "microprice", "imbalance", "imbalance_levels", "depth_bands", "bid_walls", "ask_walls", "vwap", "book")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    BEST_BID_FIELD_NUMBER: _ClassVar[int]
    BEST_ASK_FIELD_NUMBER: _ClassVar[int]
    MID_FIELD_NUMBER: _ClassVar[int]
    SPREAD_FIELD_NUMBER: _ClassVar[int]
    SPREAD_BPS_FIELD_NUMBER: _ClassVar[int]
    MICROPRICE_FIELD_NUMBER: _ClassVar[int]
    IMBALANCE_FIELD_NUMBER: _ClassVar[int]
    IMBALANCE_LEVELS_FIELD_NUMBER: _ClassVar[int]
    DEPTH_BANDS_FIELD_NUMBER: _ClassVar[int]
    BID_WALLS_FIELD_NUMBER: _ClassVar[int]
    ASK_WALLS_FIELD_NUMBER: _ClassVar[int]
    VWAP_FIELD_NUMBER: _ClassVar[int]
    BOOK_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    best_bid: _common_pb2.PriceLevel
    best_ask: _common_pb2.PriceLevel
    mid: str
    spread: str
    spread_bps: float
    microprice: str
    imbalance: float
    imbalance_levels: int
    depth_bands: _containers.RepeatedCompositeFieldContainer[DepthBand]
    bid_walls: _containers.RepeatedCompositeFieldContainer[_common_pb2.PriceLevel]
    ask_walls: _containers.RepeatedCompositeFieldContainer[_common_pb2.PriceLevel]
    vwap: _containers.RepeatedCompositeFieldContainer[VwapEstimate]
    book: BookFreshness
    def __init__(self, symbol: _Optional[str] = ..., best_bid: _Optional[_Union[_common_pb2.PriceLevel, _Mapping]] = ..., best_ask: _Optional[_Union[_common_pb2.PriceLevel, _Mapping]] = ..., mid: _Optional[str] = ..., spread: _Optional[str] = ..., spread_bps: _Optional[float] = ..., microprice: _Optional[str] = ..., imbalance: _Optional[float] = ..., imbalance_levels: _Optional[int] = ..., depth_bands: _Optional[_Iterable[_Union[DepthBand, _Mapping]]] = ..., bid_walls: _Optional[_Iterable[_Union[_common_pb2.PriceLevel, _Mapping]]] = ..., ask_walls: _Optional[_Iterable[_Union[_common_pb2.PriceLevel, _Mapping]]] = ..., vwap: _Optional[_Iterable[_Union[VwapEstimate, _Mapping]]] = ..., book: _Optional[_Union[BookFreshness, _Mapping]] = ...) -> None: ...

class GetL2Request(_message.Message):
    __slots__ = ("symbol", "levels")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    LEVELS_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    levels: int
    def __init__(self, symbol: _Optional[str] = ..., levels: _Optional[int] = ...) -> None: ...

class GetL2Response(_message.Message):
    __slots__ = ("symbol", "bids", "asks", "book")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    BIDS_FIELD_NUMBER: _ClassVar[int]
    ASKS_FIELD_NUMBER: _ClassVar[int]
    BOOK_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    bids: _containers.RepeatedCompositeFieldContainer[_common_pb2.PriceLevel]
    asks: _containers.RepeatedCompositeFieldContainer[_common_pb2.PriceLevel]
    book: BookFreshness
    def __init__(self, symbol: _Optional[str] = ..., bids: _Optional[_Iterable[_Union[_common_pb2.PriceLevel, _Mapping]]] = ..., asks: _Optional[_Iterable[_Union[_common_pb2.PriceLevel, _Mapping]]] = ..., book: _Optional[_Union[BookFreshness, _Mapping]] = ...) -> None: ...

class GetHealthRequest(_message.Message):
    __slots__ = ("symbol",)
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    def __init__(self, symbol: _Optional[str] = ...) -> None: ...

class SymbolHealth(_message.Message):
    __slots__ = ("symbol", "state", "last_update_id", "age_ms", "resync_count", "messages_per_second", "last_error", "last_resync_reason", "stale_snapshots", "quiet_checks")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    LAST_UPDATE_ID_FIELD_NUMBER: _ClassVar[int]
    AGE_MS_FIELD_NUMBER: _ClassVar[int]
    RESYNC_COUNT_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    LAST_RESYNC_REASON_FIELD_NUMBER: _ClassVar[int]
    STALE_SNAPSHOTS_FIELD_NUMBER: _ClassVar[int]
    QUIET_CHECKS_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    state: str
    last_update_id: int
    age_ms: int
    resync_count: int
    messages_per_second: float
    last_error: str
    last_resync_reason: str
    stale_snapshots: int
    quiet_checks: int
    def __init__(self, symbol: _Optional[str] = ..., state: _Optional[str] = ..., last_update_id: _Optional[int] = ..., age_ms: _Optional[int] = ..., resync_count: _Optional[int] = ..., messages_per_second: _Optional[float] = ..., last_error: _Optional[str] = ..., last_resync_reason: _Optional[str] = ..., stale_snapshots: _Optional[int] = ..., quiet_checks: _Optional[int] = ...) -> None: ...

class GetHealthResponse(_message.Message):
    __slots__ = ("environment", "overall", "connection", "books_tracked", "max_books", "reconnects", "symbols")
    ENVIRONMENT_FIELD_NUMBER: _ClassVar[int]
    OVERALL_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    BOOKS_TRACKED_FIELD_NUMBER: _ClassVar[int]
    MAX_BOOKS_FIELD_NUMBER: _ClassVar[int]
    RECONNECTS_FIELD_NUMBER: _ClassVar[int]
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    environment: str
    overall: str
    connection: str
    books_tracked: int
    max_books: int
    reconnects: int
    symbols: _containers.RepeatedCompositeFieldContainer[SymbolHealth]
    def __init__(self, environment: _Optional[str] = ..., overall: _Optional[str] = ..., connection: _Optional[str] = ..., books_tracked: _Optional[int] = ..., max_books: _Optional[int] = ..., reconnects: _Optional[int] = ..., symbols: _Optional[_Iterable[_Union[SymbolHealth, _Mapping]]] = ...) -> None: ...
