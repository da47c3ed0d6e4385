"""Candles and rolling statistics from synthetic history plus recorded trades (pure).

Rules:
1. Before the sandbox started, a symbol's history is its `PricePath`; after, it is the trade tape,
   kept as 1-second buckets. A candle that straddles the start combines both.
2. Intervals are aligned as Binance does: fixed multiples of their length from the epoch (1s..3d),
   weeks from Monday 00:00, months on the calendar; a `timeZone` offset shifts the alignment.
3. An interval after the start with no trades is flat at the previous close with zero volume.
4. Selection follows spec §1.3: klines are identified by open time; start only -> oldest from
   startTime, end only -> most recent up to endTime, both -> from startTime not past endTime.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from simulator.history import PricePath

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WEEK_OFFSET = 4 * DAY  # 1970-01-05 was the first Monday after the epoch

FIXED_MS = {
    "1s": SECOND,
    "1m": MINUTE,
    "3m": 3 * MINUTE,
    "5m": 5 * MINUTE,
    "15m": 15 * MINUTE,
    "30m": 30 * MINUTE,
    "1h": HOUR,
    "2h": 2 * HOUR,
    "4h": 4 * HOUR,
    "6h": 6 * HOUR,
    "8h": 8 * HOUR,
    "12h": 12 * HOUR,
    "1d": DAY,
    "3d": 3 * DAY,
    "1w": 7 * DAY,
}
INTERVALS = (*FIXED_MS, "1M")
TZ_RE = re.compile(r"^([+-]?)(\d{1,2})(?::(\d{2}))?$")


def parse_timezone(text: str | None) -> int | None:
    """`timeZone` -> offset in ms, None when malformed or outside [-12:00, +14:00]."""
    if text is None or text == "":
        return 0
    m = TZ_RE.match(text)
    if not m:
        return None
    sign = -1 if m.group(1) == "-" else 1
    minutes = int(m.group(2)) * 60 + int(m.group(3) or 0)
    offset = sign * minutes
    if offset < -12 * 60 or offset > 14 * 60:
        return None
    return offset * MINUTE


def _month_start(ms: int) -> int:
    d = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return int(datetime(d.year, d.month, 1, tzinfo=UTC).timestamp() * 1000)


def _add_months(ms: int, n: int) -> int:
    d = datetime.fromtimestamp(ms / 1000, tz=UTC)
    total = d.year * 12 + (d.month - 1) + n
    return int(datetime(total // 12, total % 12 + 1, 1, tzinfo=UTC).timestamp() * 1000)


def open_time(interval: str, ms: int, tz_ms: int = 0) -> int:
    """Open time of the `interval` candle containing `ms`."""
    local = ms + tz_ms
    if interval == "1M":
        return _month_start(local) - tz_ms
    size = FIXED_MS[interval]
    base = WEEK_OFFSET if interval == "1w" else 0
    return (local - base) // size * size + base - tz_ms


def next_open(interval: str, open_ms: int, tz_ms: int = 0) -> int:
    if interval == "1M":
        return _add_months(open_ms + tz_ms, 1) - tz_ms
    return open_ms + FIXED_MS[interval]


def prev_open(interval: str, open_ms: int, tz_ms: int = 0) -> int:
    if interval == "1M":
        return _add_months(open_ms + tz_ms, -1) - tz_ms
    return open_ms - FIXED_MS[interval]


@dataclass
class Stats:
    """OHLCV of a span; prices as Decimal, None when the span had no prints."""

    open: Decimal | None = None
    high: Decimal | None = None
    low: Decimal | None = None
    close: Decimal | None = None
    volume: Decimal = Decimal(0)
    quote_volume: Decimal = Decimal(0)
    count: int = 0
    taker_buy_volume: Decimal = Decimal(0)
    taker_buy_quote: Decimal = Decimal(0)
    first_id: int = -1
    last_id: int = -1

    def add_print(self, price: Decimal, qty: Decimal, taker_buy: bool, trade_id: int = -1) -> None:
        if self.open is None:
            self.open = self.high = self.low = price
            self.first_id = trade_id
        assert self.high is not None and self.low is not None
        self.high = max(self.high, price)
        self.low = min(self.low, price)
        self.close = price
        self.last_id = trade_id
        self.volume += qty
        self.quote_volume += price * qty
        self.count += 1
        if taker_buy:
            self.taker_buy_volume += qty
            self.taker_buy_quote += price * qty

    def merge(self, other: Stats) -> None:
        """Append `other` (a later span) to this one."""
        if other.open is None:
            return
        if self.open is None:
            self.open, self.high, self.low = other.open, other.high, other.low
            self.first_id = other.first_id
        else:
            assert self.high is not None and self.low is not None
            assert other.high is not None and other.low is not None
            self.high = max(self.high, other.high)
            self.low = min(self.low, other.low)
        self.close = other.close
        if other.last_id >= 0:
            self.last_id = other.last_id
        self.volume += other.volume
        self.quote_volume += other.quote_volume
        self.count += other.count
        self.taker_buy_volume += other.taker_buy_volume
        self.taker_buy_quote += other.taker_buy_quote


class TradeBuckets:
    """Recorded trades of one symbol, aggregated per second (time order)."""

    def __init__(self) -> None:
        self.seconds: list[int] = []
        self.stats: list[Stats] = []

    def add(self, time_ms: int, price: Decimal, qty: Decimal, taker_buy: bool, trade_id: int) -> None:
        sec = time_ms // SECOND * SECOND
        if self.seconds and sec < self.seconds[-1]:
            sec = self.seconds[-1]  # clock skew never rewrites history
        if not self.seconds or self.seconds[-1] != sec:
            self.seconds.append(sec)
            self.stats.append(Stats())
        self.stats[-1].add_print(price, qty, taker_buy, trade_id)

    def span(self, start_ms: int, end_ms: int) -> Stats:
        """Stats of trades with time in [start_ms, end_ms)."""
        out = Stats()
        i = bisect.bisect_left(self.seconds, start_ms // SECOND * SECOND)
        j = bisect.bisect_left(self.seconds, end_ms)
        for k in range(i, j):
            out.merge(self.stats[k])
        return out

    def close_before(self, ms: int) -> Decimal | None:
        i = bisect.bisect_left(self.seconds, ms)
        return self.stats[i - 1].close if i > 0 else None


@dataclass(frozen=True)
class SeriesSpec:
    """What history synthesis needs to know about a symbol."""

    tick: Decimal
    step: Decimal
    qty_per_second: Decimal


class Series:
    """History + tape of one symbol, answering span statistics for any window."""

    def __init__(self, path: PricePath, spec: SeriesSpec, start_ms: int, start_price: Decimal):
        self.path = path
        self.spec = spec
        self.start_ms = start_ms
        self.start_price = start_price
        self.tape = TradeBuckets()
        self._buckets: dict[tuple[int, int], tuple[Decimal, Decimal, int]] = {}

    def _round(self, price: float) -> Decimal:
        ticks = max(1, round(price / float(self.spec.tick)))
        return self.spec.tick * ticks

    def history(self, a: int, b: int) -> Stats:
        """Synthetic stats of [a, b) (b <= start).

        Volume has a seeded rate per aligned window: a kline's own window when `a` is aligned
        (klines are), else per aligned minute (the sliding 24 h ticker and 5 min average windows),
        so two calls a few milliseconds apart answer nearly the same, as Binance does.
        """
        out = Stats()
        if b <= a:
            return out
        n = max(2, min(60, (b - a) // SECOND))
        pts = [self._round(self.path.price(a + (b - 1 - a) * i // (n - 1))) for i in range(n)]
        if b >= self.start_ms:
            pts[-1] = self.start_price
        if b - a > MINUTE and a % MINUTE:
            buckets = [(m, min(b, m + MINUTE) - max(a, m)) for m in range(a // MINUTE * MINUTE, b, MINUTE)]
        else:
            buckets = [(a, b - a)]
        vol = Decimal(0)
        taker = Decimal(0)
        count = 0
        for key, span_ms in buckets:
            part, part_taker, part_count = self._bucket(key, span_ms)
            vol += part
            taker += part_taker
            count += part_count
        vol = vol.quantize(self.spec.step)
        avg = (pts[0] + pts[-1]) / 2
        out.open, out.close = pts[0], pts[-1]
        out.high, out.low = max(pts), min(pts)
        out.volume = vol
        out.quote_volume = vol * avg
        out.count = max(1, count) if vol > 0 else 0
        out.taker_buy_volume = min(taker.quantize(self.spec.step), vol)
        out.taker_buy_quote = out.taker_buy_volume * avg
        return out

    def _bucket(self, key: int, span_ms: int) -> tuple[Decimal, Decimal, int]:
        """Volume, taker-buy volume and trade count of `span_ms` of the window keyed `key`."""
        cached = self._buckets.get((key, span_ms))
        if cached is not None:
            return cached
        noise = self.path.volume_noise(key)
        part = self.spec.qty_per_second * Decimal(span_ms) / 1000 * Decimal(0.5 + noise)
        taker = part * Decimal(0.4 + 0.2 * self.path.volume_noise(key + 1))
        out = (part, taker, int(span_ms / 2000 * (0.5 + noise)))
        if span_ms == MINUTE:  # whole minutes recur in every sliding window: keep them
            self._buckets[(key, span_ms)] = out
        return out

    def span(self, a: int, b: int) -> Stats:
        """Stats of [a, b): history before the start, then the tape."""
        out = self.history(a, min(b, self.start_ms))
        if b > self.start_ms:
            live = self.tape.span(max(a, self.start_ms), b)
            if live.open is None and out.open is None:
                prev = self.close_before(max(a, self.start_ms))
                out.open = out.high = out.low = out.close = prev
            else:
                out.merge(live)
        return out

    def close_before(self, ms: int) -> Decimal:
        if ms <= self.start_ms:
            return self._round(self.path.price(ms - 1))
        return self.tape.close_before(ms) or self.start_price

    def kline(self, interval: str, open_ms: int, tz_ms: int = 0) -> list[object]:
        """One REST kline row (spec §2 klines)."""
        close_ms = next_open(interval, open_ms, tz_ms) - 1
        s = self.span(open_ms, close_ms + 1)
        return [
            open_ms,
            _f(s.open),
            _f(s.high),
            _f(s.low),
            _f(s.close),
            _f(s.volume),
            close_ms,
            _f(s.quote_volume),
            s.count,
            _f(s.taker_buy_volume),
            _f(s.taker_buy_quote),
            "0",
        ]

    def kline_opens(
        self, interval: str, now_ms: int, start: int | None, end: int | None, limit: int, tz_ms: int = 0
    ) -> list[int]:
        """Open times selected by startTime/endTime/limit (rule 4)."""
        current = open_time(interval, now_ms, tz_ms)
        if start is not None:
            t = open_time(interval, start, tz_ms)
            if t < start:
                t = next_open(interval, t, tz_ms)
            last = current if end is None else min(current, open_time(interval, end, tz_ms))
            out: list[int] = []
            while t <= last and len(out) < limit:
                out.append(t)
                t = next_open(interval, t, tz_ms)
            return out
        t = current if end is None else min(current, open_time(interval, end, tz_ms))
        back: list[int] = []
        while len(back) < limit:
            back.append(t)
            t = prev_open(interval, t, tz_ms)
        return back[::-1]


def _f(value: Decimal | None) -> str:
    from simulator.decimals import fmt8

    return fmt8(value if value is not None else Decimal(0))
