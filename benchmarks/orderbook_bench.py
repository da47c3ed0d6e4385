"""Benchmark the local order book against python-binance's DepthCache on the same events.

Run: ``.venv/bin/python benchmarks/orderbook_bench.py [--events 50000] [--levels 5000]``.
Prints diff events applied per second, top-100 read time, book copy time (what each
``get_book`` pays) and memory per tracked symbol at ``--levels`` levels a side (tracemalloc).
Numbers depend on the machine; compare the two columns, not absolute values.
"""

from __future__ import annotations

import argparse
import random
import time
import tracemalloc
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from binance.ws.depthcache import DepthCache

from provider.orderbook.book import OrderBook

ZERO = "0.00000000"  # DepthCache only deletes on this exact string


def make_snapshot(levels: int, rng: random.Random) -> tuple[list[list[str]], list[list[str]]]:
    bids = [[f"{(6_400_000 - i) / 100:.2f}", f"{rng.uniform(0.001, 5):.8f}"] for i in range(levels)]
    asks = [[f"{(6_400_001 + i) / 100:.2f}", f"{rng.uniform(0.001, 5):.8f}"] for i in range(levels)]
    return bids, asks


def make_events(n: int, levels: int, rng: random.Random) -> list[dict[str, Any]]:
    """Diff events touching ~10 levels each, mostly near the top, 20% deletions, never crossing."""
    events = []
    for i in range(n):
        def side(base: int, sign: int) -> list[list[str]]:
            out = []
            for _ in range(5):
                offset = min(int(rng.expovariate(1 / 30)), levels - 1)
                qty = ZERO if rng.random() < 0.2 else f"{rng.uniform(0.001, 5):.8f}"
                out.append([f"{(base + sign * offset) / 100:.2f}", qty])
            return out
        events.append({"U": 1001 + i, "u": 1001 + i, "b": side(6_400_000, -1),
                       "a": side(6_400_001, 1)})
    return events


def timed(fn: Callable[[], object], repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def measure_memory(build: Callable[[], object]) -> tuple[int, object]:
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    obj = build()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    size = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    return size, obj


def bench_ours(bids: list[list[str]], asks: list[list[str]], events: list[dict[str, Any]]) -> dict[str, float]:
    def build() -> OrderBook:
        book = OrderBook()
        book.apply_snapshot(1000, bids, asks)
        return book

    mem, book_obj = measure_memory(build)
    book = book_obj if isinstance(book_obj, OrderBook) else build()
    start = time.perf_counter()
    for e in events:
        book.apply_diff(e["U"], e["u"], e["b"], e["a"])
    elapsed = time.perf_counter() - start
    return {
        "events_per_s": len(events) / elapsed,
        "top100_us": timed(lambda: book.levels(100), 2000) * 1e6,
        "copy_us": timed(book.copy, 200) * 1e6,
        "memory_kib": mem / 1024,
    }


def bench_depthcache(bids: list[list[str]], asks: list[list[str]], events: list[dict[str, Any]],
                     conv: Callable[[str], Any]) -> dict[str, float]:
    def build() -> DepthCache:
        dc = DepthCache("BTCUSDT", conv_type=conv)
        for b in bids:
            dc.add_bid(b)
        for a in asks:
            dc.add_ask(a)
        return dc

    mem, dc_obj = measure_memory(build)
    dc = dc_obj if isinstance(dc_obj, DepthCache) else build()
    start = time.perf_counter()
    for e in events:  # DepthCache has no update-id check: it applies whatever it is given
        for b in e["b"]:
            dc.add_bid(b)
        for a in e["a"]:
            dc.add_ask(a)
    elapsed = time.perf_counter() - start

    def top100() -> None:
        dc.get_bids()[:100]
        dc.get_asks()[:100]

    return {
        "events_per_s": len(events) / elapsed,
        "top100_us": timed(top100, 50) * 1e6,
        "copy_us": float("nan"),
        "memory_kib": mem / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--levels", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    bids, asks = make_snapshot(args.levels, rng)
    events = make_events(args.events, args.levels, rng)
    rows = {
        "provider OrderBook (Decimal)": bench_ours(bids, asks, events),
        "python-binance DepthCache (float)": bench_depthcache(bids, asks, events, float),
        "python-binance DepthCache (Decimal)": bench_depthcache(bids, asks, events, Decimal),
    }
    print(f"{args.events} diff events (10 levels each), {args.levels} levels a side")
    print(f"{'implementation':38} {'events/s':>10} {'top-100 read us':>16} "
          f"{'copy us':>9} {'KiB/symbol':>11}")
    for name, r in rows.items():
        print(f"{name:38} {r['events_per_s']:>10.0f} {r['top100_us']:>16.1f} "
              f"{r['copy_us']:>9.1f} {r['memory_kib']:>11.0f}")


if __name__ == "__main__":
    main()
