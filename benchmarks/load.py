"""Latency and throughput of one async call, measured the same way for every row of the table.

`measure(call, calls=N, concurrency=C)` runs N calls spread over C workers sharing one counter,
records each call's wall time with `perf_counter`, and returns p50/p99 and calls per second over
the whole run. A call that raises is counted, not timed, so a failing row is visible as failures.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

__all__ = ["Stats", "measure", "measure_interleaved", "percentile"]


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (q in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


@dataclass(frozen=True)
class Stats:
    """One measured row: latencies in microseconds."""

    calls: int
    concurrency: int
    p50_us: float
    p99_us: float
    mean_us: float
    calls_per_s: float
    failures: int

    @classmethod
    def of(cls, latencies_s: list[float], concurrency: int, wall_s: float, failures: int) -> Stats:
        values = sorted(x * 1e6 for x in latencies_s)
        return cls(
            calls=len(values),
            concurrency=concurrency,
            p50_us=percentile(values, 50),
            p99_us=percentile(values, 99),
            mean_us=statistics.fmean(values) if values else float("nan"),
            calls_per_s=len(values) / wall_s if wall_s > 0 else float("nan"),
            failures=failures,
        )


async def measure(call: Callable[[], Awaitable[object]], *, calls: int, concurrency: int,
                  warmup: int = 50) -> Stats:
    """Run `calls` calls of `call` with `concurrency` in flight; warm up first (not timed)."""
    for _ in range(warmup):
        await call()
    (wall, failures), latencies = await _timed_slice(call, calls, concurrency)
    return Stats.of(latencies, concurrency, wall, failures)


async def measure_interleaved(calls: dict[str, Callable[[], Awaitable[object]]], *, n: int, concurrency: int,
                              rounds: int = 10, warmup: int = 20) -> dict[str, Stats]:
    """`measure` for several paths taking turns (`rounds` slices of n/rounds calls each), so a change
    in the machine's load during the run falls on every path alike: the ratios between them hold."""
    for call in calls.values():
        for _ in range(warmup):
            await call()
    latencies: dict[str, list[float]] = {name: [] for name in calls}
    wall = dict.fromkeys(calls, 0.0)
    failures = dict.fromkeys(calls, 0)
    per_round = max(n // rounds, concurrency)
    for _ in range(rounds):
        for name, call in calls.items():
            stats, sample = await _timed_slice(call, per_round, concurrency)
            latencies[name] += sample
            wall[name] += stats[0]
            failures[name] += stats[1]
    return {name: Stats.of(latencies[name], concurrency, wall[name], failures[name]) for name in calls}


async def _timed_slice(call: Callable[[], Awaitable[object]], calls: int,
                       concurrency: int) -> tuple[tuple[float, int], list[float]]:
    latencies: list[float] = []
    failures = 0
    remaining = calls

    async def worker() -> None:
        nonlocal remaining, failures
        while remaining > 0:
            remaining -= 1
            start = time.perf_counter()
            try:
                await call()
            except Exception:
                failures += 1
                continue
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return (time.perf_counter() - start, failures), latencies
