"""Benchmark the local order book against python-binance's DepthCache on the same events.

Run: ``.venv/bin/python benchmarks/orderbook_bench.py [--events 50000] [--levels 5000] [--json F]``.

Every implementation gets its own copy of the same events, parsed from the same JSON text (as
the stream shell parses them, so no string arrives with its hash already computed), and ends
with a top-100 read; the final books are compared with an exact Decimal model, so "exact" is
checked, not assumed. Rows:

- ingest: diff events applied per second (ours settles its overlay when it grows past its bound
  and once at the end, book.py Rules 6-7), and the same with a top-100 read every 10 events (one
  second of ``@depth@100ms``), for both implementations;
- memory per symbol at ``--levels`` levels a side (tracemalloc): the snapshot is parsed from its
  JSON text inside the measurement and the payload dropped, so whatever strings a book keeps are
  counted; then again after all the events (caches and overlay included);
- top-100 read: a read right after each event (what a read costs over applying and settling
  that event, the settle being ingest work), and a read repeated on one state;
- book copy (what each ``get_book`` pays once per update id).

Numbers depend on the machine; the ratios to DepthCache measured in the same run carry over.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import time
import tracemalloc
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from binance.ws.depthcache import DepthCache

from benchmarks.decimal_book import DecimalBook
from provider.orderbook.book import OrderBook

ZERO = "0.00000000"  # DepthCache only deletes on this exact string
TARGETS = {"ingest_ratio": 2.0, "memory_kib": 1024.0, "top100_fresh_us": 20.0}


def make_snapshot(levels: int, rng: random.Random) -> tuple[list[list[str]], list[list[str]]]:
    """Binance's spelling: 8 decimals for prices and quantities (BTCUSDT-like, tick 0.01)."""
    bids = [[f"{(6_400_000 - i) / 100:.8f}", f"{rng.uniform(0.001, 5):.8f}"] for i in range(levels)]
    asks = [[f"{(6_400_001 + i) / 100:.8f}", f"{rng.uniform(0.001, 5):.8f}"] for i in range(levels)]
    return bids, asks


def make_events(n: int, levels: int, rng: random.Random) -> list[dict[str, Any]]:
    """Diff events touching 10 levels each, mostly near the top, 20% deletions, never crossing."""
    events = []
    for i in range(n):
        def side(base: int, sign: int) -> list[list[str]]:
            out = []
            for _ in range(5):
                offset = min(int(rng.expovariate(1 / 30)), levels - 1)
                qty = ZERO if rng.random() < 0.2 else f"{rng.uniform(0.001, 5):.8f}"
                out.append([f"{(base + sign * offset) / 100:.8f}", qty])
            return out
        events.append({"U": 1001 + i, "u": 1001 + i, "b": side(6_400_000, -1),
                       "a": side(6_400_001, 1)})
    return events


def exact_model(bids: list[list[str]], asks: list[list[str]], events: list[dict[str, Any]]
                ) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
    """The truth after all events: a dict of Decimals per side, top 100."""
    sides = [{Decimal(p): Decimal(q) for p, q in bids}, {Decimal(p): Decimal(q) for p, q in asks}]
    for e in events:
        for book, levels in zip(sides, (e["b"], e["a"]), strict=True):
            for p, q in levels:
                if Decimal(q) == 0:
                    book.pop(Decimal(p), None)
                else:
                    book[Decimal(p)] = Decimal(q)
    return sorted(sides[0].items(), reverse=True)[:100], sorted(sides[1].items())[:100]


def timed(fn: Callable[[], object], repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def timed_each(fn: Callable[[Any], object], items: list[Any]) -> float:
    """Seconds per item of ``fn(item)`` over ``items``."""
    start = time.perf_counter()
    for item in items:
        fn(item)
    return (time.perf_counter() - start) / len(items)


def retained_kib(build: Callable[[], object]) -> tuple[float, object]:
    """Memory the object built by ``build`` keeps alive (tracemalloc, payload dropped)."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    obj = build()
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    return sum(stat.size_diff for stat in after.compare_to(before, "filename")) / 1024, obj


def tracemalloc_of(obj: object, build_more: Callable[[object], None]) -> float:
    """Memory added to ``obj`` by ``build_more(obj)`` (its caches and overlay after ingest)."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    build_more(obj)
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    return sum(stat.size_diff for stat in after.compare_to(before, "filename")) / 1024


def _previous_build(snap_text: str) -> DecimalBook:
    payload = json.loads(snap_text)
    book = DecimalBook()
    book.apply_snapshot(1000, payload["bids"], payload["asks"])
    return book


def ours_build(snap_text: str) -> Callable[[], OrderBook]:
    def build() -> OrderBook:
        payload = json.loads(snap_text)
        book = OrderBook(max_levels=5000)
        book.apply_snapshot(1000, payload["bids"], payload["asks"], depth_limit=5000)
        return book
    return build


def dc_build(snap_text: str) -> Callable[[], DepthCache]:
    def build() -> DepthCache:
        payload = json.loads(snap_text)
        dc = DepthCache("BTCUSDT", conv_type=float)
        for b in payload["bids"]:
            dc.add_bid(b)
        for a in payload["asks"]:
            dc.add_ask(a)
        return dc
    return build


def ingest_ours(book: OrderBook, events: list[dict[str, Any]], read_every: int,
                settle_every: int = 0) -> float:
    start = time.perf_counter()
    for i, e in enumerate(events, 1):
        book.apply_diff(e["U"], e["u"], e["b"], e["a"])
        if read_every and i % read_every == 0:
            book.levels(100)
        elif settle_every and i % settle_every == 0:
            book.settle()
    book.levels(100)
    return len(events) / (time.perf_counter() - start)


def ingest_dc(dc: DepthCache, events: list[dict[str, Any]], read_every: int) -> float:
    start = time.perf_counter()
    for i, e in enumerate(events, 1):  # DepthCache has no update-id check: it applies anything
        for b in e["b"]:
            dc.add_bid(b)
        for a in e["a"]:
            dc.add_ask(a)
        if read_every and i % read_every == 0:
            dc.get_bids()[:100]
            dc.get_asks()[:100]
    dc.get_bids()[:100]
    dc.get_asks()[:100]
    return len(events) / (time.perf_counter() - start)


def run(events_n: int, levels: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    bids, asks = make_snapshot(levels, rng)
    events = make_events(events_n, levels, rng)
    snap_text = json.dumps({"bids": bids, "asks": asks})
    events_text = json.dumps(events)
    truth = exact_model(bids, asks, events)
    out: dict[str, Any] = {"events": events_n, "levels": levels}
    gc.disable()
    try:
        for read_every, settle_every, key in ((0, 0, "ingest"), (0, 300, "ingest_settle300"),
                                              (10, 0, "ingest_read10")):
            best_ours = best_dc = 0.0
            for _ in range(5):  # best of five, interleaved, against noise on a shared machine
                book = ours_build(snap_text)()
                best_ours = max(best_ours, ingest_ours(book, json.loads(events_text), read_every,
                                                       settle_every))
                dc = dc_build(snap_text)()
                best_dc = max(best_dc, ingest_dc(dc, json.loads(events_text), read_every))
            out[f"{key}_ours"], out[f"{key}_dc"] = best_ours, best_dc
        out["exact"] = book.levels(100) == truth
        dc_bids = [(Decimal(repr(p)), Decimal(repr(q))) for p, q in dc.get_bids()[:100]]
        out["dc_equal_as_floats"] = [(float(p), float(q)) for p, q in truth[0]] == [
            (float(p), float(q)) for p, q in dc_bids]
    finally:
        gc.enable()
    mem, fresh = retained_kib(ours_build(snap_text))
    assert isinstance(fresh, OrderBook)
    out["memory_kib"] = mem
    out["memory_after_events_kib"] = mem + tracemalloc_of(
        fresh, lambda b: ingest_ours(b, json.loads(events_text), 10))  # type: ignore[arg-type]
    out["memory_dc_kib"], _ = retained_kib(dc_build(snap_text))
    n = min(2000, events_n)
    fresh_s, apply_s = [], []
    gc.disable()
    for _ in range(5):  # best of five, interleaved, like the ingest rows: a shared machine is noisy
        one = json.loads(events_text)
        book = ours_build(snap_text)()
        apply_only_book = ours_build(snap_text)()

        def fresh_read(e: dict[str, Any], b: OrderBook = book) -> None:
            b.apply_diff(e["U"], e["u"], e["b"], e["a"])
            b.levels(100)

        def apply_only(e: dict[str, Any], b: OrderBook = apply_only_book) -> None:
            b.apply_diff(e["U"], e["u"], e["b"], e["a"])
            b.settle()

        fresh_s.append(timed_each(fresh_read, one[:n]))
        apply_s.append(timed_each(apply_only, one[:n]))
    gc.enable()
    out["top100_fresh_us"] = max(min(fresh_s) - min(apply_s), 0.0) * 1e6
    out["top100_repeat_us"] = timed(lambda: book.levels(100), 2000) * 1e6
    out["copy_us"] = timed(book.copy, 200) * 1e6
    previous = DecimalBook()
    previous.apply_snapshot(1000, bids, asks)
    for e in json.loads(events_text)[:2000]:
        previous.apply_diff(e["U"], e["u"], e["b"], e["a"])
    out["previous_top100_us"] = timed(lambda: previous.levels(100), 2000) * 1e6
    start = time.perf_counter()
    for e in json.loads(events_text)[2000:12000]:
        previous.apply_diff(e["U"], e["u"], e["b"], e["a"])
    out["previous_ingest"] = 10000 / (time.perf_counter() - start)
    out["previous_memory_kib"], _ = retained_kib(lambda: _previous_build(snap_text))
    dc = dc_build(snap_text)()
    out["dc_top100_us"] = timed(lambda: (dc.get_bids()[:100], dc.get_asks()[:100]), 20) * 1e6
    return out


def render(r: dict[str, Any]) -> str:
    ratio = r["ingest_ours"] / r["ingest_dc"]
    ratio10 = r["ingest_read10_ours"] / r["ingest_read10_dc"]
    ratio300 = r["ingest_settle300_ours"] / r["ingest_settle300_dc"]

    def met(ok: bool) -> str:
        return "yes" if ok else "no"

    lines = [
        f"{r['events']} diff events of 10 levels, {r['levels']} levels a side, Binance's 8-decimal "
        f"strings; final top-100 exact against a Decimal model: {met(r['exact'])}",
        "",
        "| row | provider OrderBook | python-binance DepthCache (float) | ratio | target | met |",
        "|---|---:|---:|---:|---|---|",
        f"| ingest, events/s | {r['ingest_ours']:.0f} | {r['ingest_dc']:.0f} | {ratio:.2f}x | "
        f">= {TARGETS['ingest_ratio']:.0f}x, prices exact | {met(ratio >= 2 and r['exact'])} |",
        f"| ingest settled every 300 events (the manager's 30 s check at @100ms), events/s | "
        f"{r['ingest_settle300_ours']:.0f} | {r['ingest_settle300_dc']:.0f} | {ratio300:.2f}x | (none) | |",
        f"| ingest with a top-100 read every 10 events, events/s | {r['ingest_read10_ours']:.0f} | "
        f"{r['ingest_read10_dc']:.0f} | {ratio10:.2f}x | (none) | |",
        f"| memory per symbol, snapshot of {r['levels']} a side, KiB | {r['memory_kib']:.0f} | "
        f"{r['memory_dc_kib']:.0f} | | <= 1024 | {met(r['memory_kib'] <= TARGETS['memory_kib'])} |",
        f"| memory per symbol after the events (caches, overlay), KiB | "
        f"{r['memory_after_events_kib']:.0f} | | | <= 1024 | "
        f"{met(r['memory_after_events_kib'] <= TARGETS['memory_kib'])} |",
        f"| top-100 read right after an event, us | {r['top100_fresh_us']:.1f} | "
        f"{r['dc_top100_us']:.0f} (sorts the book) | | <= 20 | "
        f"{met(r['top100_fresh_us'] <= TARGETS['top100_fresh_us'])} |",
        f"| top-100 read repeated on one state, us | {r['top100_repeat_us']:.1f} | | | | |",
        f"| reference, same run: the previous provider book (Decimal on the hot path) | ingest "
        f"{r['previous_ingest']:.0f} events/s, {r['previous_memory_kib']:.0f} KiB, top-100 read "
        f"{r['previous_top100_us']:.1f} us | | | | |",
        f"| book copy for readers, us | {r['copy_us']:.1f} | | | | |",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--levels", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args()
    result = run(args.events, args.levels, args.seed)
    print(render(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
