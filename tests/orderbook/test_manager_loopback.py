"""OrderBookManager over real loopback websockets against a tiny Binance-like server.

Every view served as SYNCED is checked against the server's book at that exact update id.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest

from provider.orderbook.manager import BookView, OrderBookManager
from tests.orderbook.fake_exchange import FakeExchange
from tests.waits import until

SYMBOLS = ["AAAUSDT", "BBBUSDT", "CCCUSDT"]


@pytest.fixture
async def exchange() -> AsyncIterator[FakeExchange]:
    ex = FakeExchange(SYMBOLS)
    ex.url = await ex.start()  # type: ignore[attr-defined]
    yield ex
    await ex.stop()


def make_manager(ex: FakeExchange, **kw: object) -> OrderBookManager:
    kw.setdefault("stall_after_s", 5.0)
    kw.setdefault("quiet_after_s", 0.2)
    kw.setdefault("backoff_base_s", 0.02)
    kw.setdefault("backoff_cap_s", 0.2)
    return OrderBookManager(ex.url, ex.fetch_snapshot, **kw)  # type: ignore[attr-defined,arg-type]


def check_view(ex: FakeExchange, view: BookView) -> None:
    """A SYNCED or RESYNCING view is exactly the truth at its own update id."""
    assert not view.is_crossed
    if view.state in ("SYNCED", "RESYNCING") or view.source == "rest":
        assert view.levels(1000) == ex.markets[view.symbol].truth(view.last_update_id), view


async def settled(ex: FakeExchange, mgr: OrderBookManager, symbol: str) -> BookView:
    """Pause the market, wait for the manager to reach its last id, compare level by level."""
    ex.running = False
    await asyncio.sleep(ex.tick_s * 3)  # let an in-flight tick finish
    target = ex.markets[symbol].update_id

    async def caught_up() -> bool:
        view = await mgr.get_book(symbol, timeout_s=2)
        return view.state == "SYNCED" and view.last_update_id == target

    try:
        await until(caught_up)
    except TimeoutError:
        raise AssertionError(f"never caught up with {target}: {mgr.health()}") from None
    view = await mgr.get_book(symbol, timeout_s=2)
    assert view.levels(1000) == ex.markets[symbol].truth(target)
    ex.running = True
    return view


async def watch(ex: FakeExchange, mgr: OrderBookManager, stop: asyncio.Event) -> int:
    """Read every symbol continuously and check each view; returns how many were checked."""
    checked = 0
    while not stop.is_set():
        for symbol in SYMBOLS:
            check_view(ex, await mgr.get_book(symbol, timeout_s=2))
            checked += 1
        await asyncio.sleep(0.003)
    return checked


async def test_first_request_answers_within_its_deadline_and_then_follows_the_stream(
    exchange: FakeExchange,
) -> None:
    mgr = make_manager(exchange)
    try:
        first = await mgr.get_book("aaausdt", timeout_s=1.0)
        assert first.symbol == "AAAUSDT" and first.source in ("rest", "stream")
        check_view(exchange, first)
        await until(lambda: (mgr.health()["symbols"]["AAAUSDT"]["event_time_ms"] is not None))
        view = await settled(exchange, mgr, "AAAUSDT")
        assert view.source == "stream" and view.resync_count == 0
        assert view.event_time_ms is not None and view.age_ms >= 0
        health = mgr.health()
        assert health["connected"] and health["status"] == "connected"
        assert health["symbols"]["AAAUSDT"]["state"] == "SYNCED"
        assert exchange.streams() == {"aaausdt@depth@100ms"}
    finally:
        await mgr.close()


async def test_gaps_resync_only_the_symbol_that_missed_events(exchange: FakeExchange) -> None:
    mgr = make_manager(exchange)
    stop = asyncio.Event()
    try:
        for s in SYMBOLS:
            await settled(exchange, mgr, s)
        watcher = asyncio.create_task(watch(exchange, mgr, stop))
        for _ in range(3):
            exchange.skip_next.add("BBBUSDT")
            await until(lambda: (not exchange.skip_next))
            await asyncio.sleep(0.05)
        stop.set()
        assert await watcher > 0
        view = await settled(exchange, mgr, "BBBUSDT")
        assert view.resync_count >= 1
        assert mgr.health()["symbols"]["BBBUSDT"]["last_resync_reason"] == "gap"
        assert (await mgr.get_book("AAAUSDT", timeout_s=1)).resync_count == 0
        assert (await mgr.get_book("CCCUSDT", timeout_s=1)).resync_count == 0
    finally:
        stop.set()
        await mgr.close()


async def test_dropped_connections_reconnect_and_every_book_recovers(
    exchange: FakeExchange,
) -> None:
    mgr = make_manager(exchange)
    stop = asyncio.Event()
    try:
        for s in SYMBOLS:
            await settled(exchange, mgr, s)
        watcher = asyncio.create_task(watch(exchange, mgr, stop))
        dropped: set[object] = set()
        for n in range(1, 3):
            # drop a new connection carrying every book: the reconnect counter moves when the old one
            # dies, before the new one is up, and a drop with nothing connected drops nothing
            await until(lambda: any(ws not in dropped and len(names) >= len(SYMBOLS)
                                    for ws, names in exchange.subs.items()))
            dropped.update(exchange.subs)
            await exchange.drop_connections()
            await until(lambda: bool(mgr.health()["reconnects"] >= n))  # noqa: B023
        stop.set()
        assert await watcher > 0
        for s in SYMBOLS:
            view = await settled(exchange, mgr, s)
            assert view.resync_count >= 1  # a reconnect always resyncs
    finally:
        stop.set()
        await mgr.close()


async def test_server_shutdown_and_short_lifetimes_renew_without_a_gap(
    exchange: FakeExchange,
) -> None:
    mgr = make_manager(exchange, conn_max_lifetime_s=0.4)
    stop = asyncio.Event()
    try:
        for s in SYMBOLS:
            await settled(exchange, mgr, s)
        watcher = asyncio.create_task(watch(exchange, mgr, stop))
        await exchange.server_shutdown()
        await until(lambda: (mgr.health()["renewals"] >= 4))
        stop.set()
        assert await watcher > 0
        assert mgr.health()["reconnects"] == 0
        for s in SYMBOLS:
            view = await settled(exchange, mgr, s)
            assert view.resync_count == 0, mgr.health()
        assert len(exchange.subs) == 1  # old connections were closed
    finally:
        stop.set()
        await mgr.close()


class CountingRandom(random.Random):
    """The manager's jitter source, counting backoff draws (one per backoff sleep)."""

    draws = 0

    def uniform(self, a: float, b: float) -> float:
        self.draws += 1
        return super().uniform(a, b)


async def test_a_refused_renewal_keeps_the_old_connection_and_backs_off(
    exchange: FakeExchange,
) -> None:
    rng = CountingRandom(3)
    mgr = make_manager(exchange, conn_max_lifetime_s=0.3, rng=rng)
    stop = asyncio.Event()
    try:
        for s in SYMBOLS:
            await settled(exchange, mgr, s)
        watcher = asyncio.create_task(watch(exchange, mgr, stop))
        exchange.refusing = True
        await until(lambda: exchange.refused >= 1)  # any switch-over begun before has finished
        renewals = mgr.health()["renewals"]
        await until(lambda: exchange.refused >= 4)
        # Every refused attempt but possibly the latest was followed by a backoff: no hot loop of
        # connection attempts (Binance allows 300 per 5 minutes per IP).
        assert rng.draws >= exchange.refused - 1 >= 3
        health = mgr.health()
        assert "renew" in (health["last_error"] or ""), health
        assert health["renewals"] == renewals and health["reconnects"] == 0, health
        exchange.refusing = False
        await until(lambda: mgr.health()["renewals"] > renewals)
        stop.set()
        assert await watcher > 0
        for s in SYMBOLS:
            view = await settled(exchange, mgr, s)
            assert view.resync_count == 0, mgr.health()
        assert mgr.health()["reconnects"] == 0
    finally:
        stop.set()
        await mgr.close()


async def test_a_silent_symbol_whose_top_differs_is_probed_and_recovers(
    exchange: FakeExchange,
) -> None:
    mgr = make_manager(exchange, stall_after_s=0.2, top_grace_s=0.05,
                       fetch_tops=exchange.fetch_tops)
    try:
        await settled(exchange, mgr, "CCCUSDT")
        exchange.stalled.add("CCCUSDT")  # the stream goes silent while the market moves on
        await until(
            lambda: mgr.health()["symbols"]["CCCUSDT"]["last_resync_reason"] == "stall")
        exchange.stalled.discard("CCCUSDT")
        # A lost change below the top of book is found by the next event's gap check.
        mark = exchange.markets["CCCUSDT"].update_id
        await until(lambda: (mgr.health()["symbols"]["CCCUSDT"]["event_time_ms"] or 0) > mark)
        view = await settled(exchange, mgr, "CCCUSDT")
        assert view.resync_count >= 1
    finally:
        await mgr.close()


async def test_a_quiet_market_costs_one_combined_check_and_no_snapshot(
    exchange: FakeExchange,
) -> None:
    mgr = make_manager(exchange, stall_after_s=0.1, fetch_tops=exchange.fetch_tops)
    try:
        for s in SYMBOLS:
            await settled(exchange, mgr, s)
        exchange.running = False  # every market goes quiet
        calls, tops = exchange.snapshot_calls, exchange.tops_calls
        await until(lambda: all(h["quiet_checks"] >= 3 for h in mgr.health()["symbols"].values()))
        assert exchange.snapshot_calls == calls  # no weight-50 probe per symbol
        # One combined top-of-book call per check covers every silent symbol.
        assert exchange.tops_calls - tops <= max(
            h["quiet_checks"] for h in mgr.health()["symbols"].values())
        for s in SYMBOLS:
            view = await mgr.get_book(s, timeout_s=1)
            assert view.state == "SYNCED" and view.resync_count == 0
    finally:
        exchange.running = True
        await mgr.close()


async def test_without_a_top_fetcher_a_silent_symbol_on_a_live_connection_is_quiet(
    exchange: FakeExchange,
) -> None:
    mgr = make_manager(exchange, stall_after_s=0.1)
    try:
        await settled(exchange, mgr, "AAAUSDT")
        exchange.running = False
        calls = exchange.snapshot_calls
        await until(lambda: mgr.health()["symbols"]["AAAUSDT"]["quiet_checks"] >= 3)
        assert exchange.snapshot_calls == calls
        assert mgr.health()["reconnects"] == 0  # the pings were answered
    finally:
        exchange.running = True
        await mgr.close()


async def test_a_rest_copy_behind_the_stream_causes_no_resync_on_connect(
    exchange: FakeExchange,
) -> None:
    exchange.snapshot_lag = 6  # about two ticks of the fake market
    mgr = make_manager(exchange)
    try:
        for s in SYMBOLS:
            await mgr.get_book(s, timeout_s=2)
        for s in SYMBOLS:
            await settled(exchange, mgr, s)
        health = mgr.health()
        assert all(h["resync_count"] == 0 for h in health["symbols"].values()), health
        assert sum(h["stale_snapshots"] for h in health["symbols"].values()) >= 1, health
    finally:
        await mgr.close()


async def test_a_market_silent_from_the_start_is_synced_and_confirmed_by_its_first_event(
    exchange: FakeExchange,
) -> None:
    exchange.running = False
    mgr = make_manager(exchange)
    try:
        async def synced() -> bool:
            view = await mgr.get_book("BBBUSDT", timeout_s=0.5)
            return view.state == "SYNCED" and view.source == "stream"

        await until(synced)
        exchange.running = True
        await settled(exchange, mgr, "BBBUSDT")
        assert mgr.health()["symbols"]["BBBUSDT"]["resync_count"] == 0
    finally:
        exchange.running = True
        await mgr.close()


async def test_least_recently_used_symbol_is_unsubscribed_beyond_the_cap(
    exchange: FakeExchange,
) -> None:
    mgr = make_manager(exchange, max_symbols=2)
    try:
        for s in SYMBOLS:
            await mgr.get_book(s, timeout_s=2)
        await until(
            lambda: exchange.streams() == {"bbbusdt@depth@100ms", "cccusdt@depth@100ms"})
        assert set(mgr.health()["symbols"]) == {"BBBUSDT", "CCCUSDT"}
        await settled(exchange, mgr, "CCCUSDT")
    finally:
        await mgr.close()


async def test_an_unknown_symbol_raises_the_fetchers_error(exchange: FakeExchange) -> None:
    mgr = make_manager(exchange)
    try:
        with pytest.raises(LookupError):
            await mgr.get_book("NOPEUSDT", timeout_s=0.5)
        await until(lambda: ("NOPEUSDT" not in mgr.health()["symbols"]))
        assert mgr.health()["symbols"] == {}
    finally:
        await mgr.close()


async def test_a_snapshot_heavier_than_the_weight_limit_is_asked_for_with_fewer_levels(
    exchange: FakeExchange,
) -> None:
    """A temporary drop of the weight limit below a depth call's weight (1000 levels: 50) must
    not leave the book resyncing for ever: the manager asks for fewer levels, and the error of
    the refused attempts is gone from health once the book is healthy."""
    from provider.errors import RateLimited

    limits: list[int] = []

    async def governed(symbol: str, limit: int) -> dict[str, object]:
        limits.append(limit)
        if limit > 500:  # weight 50 > a limit of 45
            raise RateLimited("a call of weight 50 can never fit the limit of 45", retry_after_s=None)
        return await exchange.fetch_snapshot(symbol, limit)

    mgr = OrderBookManager(exchange.url, governed, snapshot_limit=1000, quiet_after_s=0.2,  # type: ignore[attr-defined]
                           backoff_base_s=0.02, backoff_cap_s=0.2)
    try:
        await settled(exchange, mgr, "AAAUSDT")
        assert limits[0] == 1000 and 500 in limits
        health = mgr.health()["symbols"]["AAAUSDT"]
        assert health["state"] == "SYNCED" and health["last_error"] is None, health
    finally:
        await mgr.close()
