"""One provider at several addresses: the gateway balances over the healthy replicas.

The rules live in `gateway/balance.py` (pure, tested first); the shell in `gateway/providers.py`
is tested with three real `grpc.aio` fake providers in this process and the gateway's MCP server
in-process.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from hypothesis import given
from hypothesis import strategies as st
from mcp import Client

from contracts.provider.v1 import provider_pb2
from gateway.balance import ReplicaBook
from gateway.providers import CatalogChange, ProviderLink, ProviderRegistry
from gateway.server import Gateway
from gateway.settings import GatewaySettings, ProviderTarget, SettingsError, TlsFiles, load_settings
from tests.gateway.fake_provider import FakeProvider
from tests.gateway.test_tls import _self_signed_localhost

A, B = b"catalog-a", b"catalog-b"


def book_of(size: int, keys: list[bytes] | None = None) -> ReplicaBook:
    book = ReplicaBook(size)
    for i in range(size):
        book.set_catalog(i, keys[i] if keys else A)
        book.set_serving(i, True)
    return book


# -- the pure rules ------------------------------------------------------------------------------


def test_calls_rotate_over_every_eligible_replica_in_address_order() -> None:
    book = book_of(3)
    assert [book.pick() for _ in range(6)] == [0, 1, 2, 0, 1, 2]


def test_a_suspect_replica_gets_no_calls_until_health_says_serving_again() -> None:
    book = book_of(3)
    book.suspect(1)
    assert [book.pick() for _ in range(4)] == [0, 2, 0, 2]
    book.set_serving(1, True)
    assert sorted(book.pick() for _ in range(3)) == [0, 1, 2]


def test_a_replica_whose_health_is_not_serving_gets_no_calls() -> None:
    book = book_of(3)
    book.set_serving(0, False)
    assert {book.pick() for _ in range(6)} == {1, 2}
    assert book.serving()


def test_a_retry_avoids_the_replica_that_failed() -> None:
    book = book_of(3)
    first = book.pick()
    assert book.pick(avoid=[first]) != first
    assert book.pick(avoid=[0, 1]) == 2


def test_with_no_eligible_replica_the_rotation_still_names_one_so_the_call_fails_fast_or_finds_it_back() -> None:
    book = book_of(2)
    book.suspect(0)
    book.suspect(1)
    assert not book.any_eligible()
    assert book.pick() in (0, 1)
    single = book_of(1)
    single.suspect(0)
    assert single.pick(avoid=[0]) == 0  # one address: the retry goes where it always went


def test_the_catalog_most_serving_replicas_present_is_served_and_the_others_get_no_calls() -> None:
    book = book_of(3, [A, B, B])
    assert book.agreed == B
    assert book.agreeing() == [1, 2] and book.differing() == [0]
    assert {book.pick() for _ in range(6)} == {1, 2}


def test_a_tie_between_catalogs_goes_to_the_first_address() -> None:
    assert book_of(2, [B, A]).agreed == B
    book = book_of(3, [A, B, B])
    book.set_serving(2, False)  # one A and one B serving: the first address wins
    assert book.agreed == A


def test_replicas_that_are_down_do_not_vote_but_keep_the_last_agreement_when_all_are_down() -> None:
    book = book_of(3, [A, A, B])
    book.set_serving(0, False)
    book.set_serving(1, False)
    assert book.agreed == B  # a rolling upgrade: the only serving replica's catalog
    book.set_serving(2, False)
    assert book.agreed == A  # nobody serving: every known catalog votes


@given(
    st.lists(st.tuples(st.booleans(), st.booleans(), st.sampled_from([A, B])), min_size=1, max_size=6),
    st.lists(st.integers(min_value=0, max_value=5), max_size=3),
)
def test_pick_never_chooses_an_ineligible_replica_while_an_eligible_one_is_left(
    states: list[tuple[bool, bool, bytes]], avoid: list[int]
) -> None:
    book = ReplicaBook(len(states))
    for i, (serving, suspect, key) in enumerate(states):
        book.set_catalog(i, key)
        book.set_serving(i, serving)
        if suspect:
            book.suspect(i)
    for _ in range(len(states) + 1):
        chosen = book.pick(avoid=avoid)
        assert 0 <= chosen < len(states)
        if book.any_eligible(avoid):
            assert book.eligible(chosen) and chosen not in avoid


# -- settings --------------------------------------------------------------------------------------


def test_several_addresses_after_one_name_are_replicas_of_one_provider() -> None:
    settings = load_settings(["--provider", "binance=127.0.0.1:50053,127.0.0.1:50054,[::1]:50055"], {})
    (target,) = settings.providers
    assert target.addresses == ("127.0.0.1:50053", "127.0.0.1:50054", "[::1]:50055")
    assert target.is_loopback


def test_a_config_file_lists_replicas_under_addresses(tmp_path: Path) -> None:
    config = tmp_path / "gw.toml"
    config.write_text('[[providers]]\nname = "binance"\naddresses = ["127.0.0.1:1", "127.0.0.1:2"]\n')
    (target,) = load_settings(["--config", str(config)], {}).providers
    assert target.addresses == ("127.0.0.1:1", "127.0.0.1:2")


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ('address = "127.0.0.1:1"\naddresses = ["127.0.0.1:2"]', "exactly one"),
        ("addresses = []", "at least one"),
        ('addresses = ["127.0.0.1:1", "127.0.0.1:1"]', "more than once"),
        ('addresses = ["127.0.0.1"]', "HOST:PORT"),
        ('addresses = ["127.0.0.1:1", "10.0.0.2:1"]', "beyond loopback"),
    ],
)
def test_bad_replica_addresses_are_refused_at_start(tmp_path: Path, body: str, needle: str) -> None:
    config = tmp_path / "gw.toml"
    config.write_text(f'[[providers]]\nname = "binance"\n{body}\n')
    with pytest.raises(SettingsError, match=needle):
        load_settings(["--config", str(config)], {})


# -- the shell, against three real fake providers -------------------------------------------------


@pytest.fixture
async def fakes() -> AsyncIterator[list[FakeProvider]]:
    started = [await FakeProvider().start() for _ in range(3)]
    try:
        yield started
    finally:
        for fp in started:
            fp.release.set()
            await fp.stop()


async def start_gateway(fakes: list[FakeProvider]) -> tuple[ProviderRegistry, Gateway]:
    first, *more = (fp.address for fp in fakes)
    target = ProviderTarget("fake", first, replicas=tuple(more))
    registry = ProviderRegistry(GatewaySettings(providers=(target,), startup_wait_s=5.0, pool_size=2))
    await registry.start()
    return registry, Gateway(registry)


@pytest.fixture
async def gateway(fakes: list[FakeProvider]) -> AsyncIterator[Gateway]:
    registry, gw = await start_gateway(fakes)
    try:
        await all_eligible(registry.links["fake"])
        yield gw
    finally:
        await gw.close()
        await registry.close()


async def all_eligible(link: ProviderLink, limit_s: float = 10.0) -> None:
    """Wait (bounded) until every replica may take calls (SERVING, not suspect, agreed catalog)."""
    async with asyncio.timeout(limit_s):
        await link.wait_until(lambda book: all(book.eligible(i) for i in range(book.size)))


async def all_discovered(link: ProviderLink, limit_s: float = 10.0) -> None:
    """Wait (bounded) until every replica is SERVING and its catalog known, whichever it is."""
    async with asyncio.timeout(limit_s):
        await link.wait_until(
            lambda book: all(book.health(i) and book.catalog(i) is not None for i in range(book.size))
        )


def echoes(fp: FakeProvider) -> int:
    return sum(1 for name, _, _ in fp.calls if name == "fake.echo")


async def test_calls_are_spread_evenly_over_three_healthy_replicas(fakes: list[FakeProvider], gateway: Gateway) -> None:
    async with Client(gateway.server) as client:
        for n in range(12):
            result = await client.call_tool("fake_echo", {"text": f"n{n}"})
            assert not result.is_error, result.content
    assert [echoes(fp) for fp in fakes] == [4, 4, 4]


async def held_on(fakes: list[FakeProvider]) -> FakeProvider:
    """The replica where the one `__hold__` call in flight waits."""
    waits = [asyncio.ensure_future(fp.holding.wait()) for fp in fakes]
    try:
        await asyncio.wait(waits, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()
    return next(fp for fp in fakes if fp.held)


async def test_a_read_in_flight_on_a_replica_that_dies_is_answered_by_another_replica(
    fakes: list[FakeProvider], gateway: Gateway
) -> None:
    async with Client(gateway.server) as client:
        call = asyncio.create_task(client.call_tool("fake_echo", {"text": "__hold__"}))
        victim = await held_on(fakes)
        for fp in fakes:
            if fp is not victim:
                fp.release.set()
        await victim.stop()
        result = await asyncio.wait_for(call, 10)
        assert not result.is_error, result.content
        assert result.structured_content == {"text": "__hold__", "count": 1}
        (cid,) = {c for _, args, c in victim.calls if args.get("text") == "__hold__"}
        retried = [fp for fp in fakes if fp is not victim and any(c == cid for _, _, c in fp.calls)]
        assert len(retried) == 1  # the same correlation id, on exactly one other replica
        # The dead replica gets no further calls; the other two share them.
        for n in range(4):
            assert not (await client.call_tool("fake_echo", {"text": f"after{n}"})).is_error
        assert not any(args.get("text", "").startswith("after") for _, args, _ in victim.calls)


async def test_a_call_that_is_not_retry_safe_fails_with_its_replica_and_is_not_sent_elsewhere(
    fakes: list[FakeProvider], gateway: Gateway
) -> None:
    link = gateway.registry.links["fake"]
    call = asyncio.create_task(link.invoke("fake.echo", {"text": "__hold__"}, 10.0, "cid-order-1", retry_safe=False))
    victim = await held_on(fakes)
    await victim.stop()
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await asyncio.wait_for(call, 10)
    assert failed.value.code() is grpc.StatusCode.UNAVAILABLE
    seen = [fp for fp in fakes if any(c == "cid-order-1" for _, _, c in fp.calls)]
    assert seen == [victim]


async def test_a_replica_that_comes_back_gets_calls_again(fakes: list[FakeProvider], gateway: Gateway) -> None:
    link = gateway.registry.links["fake"]
    await fakes[1].stop()
    async with Client(gateway.server) as client:
        for n in range(4):
            assert not (await client.call_tool("fake_echo", {"text": f"down{n}"})).is_error
        await fakes[1].start()  # same port, a new server
        await all_eligible(link)
        before = echoes(fakes[1])
        for n in range(3):
            assert not (await client.call_tool("fake_echo", {"text": f"up{n}"})).is_error
    assert echoes(fakes[1]) == before + 1


async def test_a_replica_with_another_catalog_gets_no_calls_until_the_majority_moves(
    fakes: list[FakeProvider],
) -> None:
    extra = provider_pb2.ToolDescriptor(name="fake.newer", input_schema_json='{"type":"object"}')
    fakes[2].bump_catalog(extra)
    registry, gw = await start_gateway(fakes)
    link = registry.links["fake"]
    try:
        await all_discovered(link)
        await registry.rebuild()
        assert link.book.differing() == [2]
        async with Client(gw.server) as client:
            assert "fake_newer" not in {t.name for t in (await client.list_tools()).tools}
            for n in range(6):
                assert not (await client.call_tool("fake_echo", {"text": f"v1-{n}"})).is_error
            assert echoes(fakes[2]) == 0

            fakes[1].bump_catalog(extra)  # a rolling upgrade reaches the second replica
            await link.discover()
            await registry.rebuild()
            assert link.book.differing() == [0]
            assert "fake_newer" in {t.name for t in (await client.list_tools()).tools}
            before = echoes(fakes[0])
            for n in range(6):
                assert not (await client.call_tool("fake_echo", {"text": f"v2-{n}"})).is_error
            assert echoes(fakes[0]) == before
    finally:
        await gw.close()
        await registry.close()


async def test_replicas_behind_tls_are_each_verified_against_the_server_name_and_all_serve(tmp_path: Path) -> None:
    key_pem, cert_pem = _self_signed_localhost()  # valid for "localhost" only
    (tmp_path / "ca.pem").write_bytes(cert_pem)
    fakes = [await FakeProvider(tls=(key_pem, cert_pem)).start() for _ in range(2)]
    tls = TlsFiles(ca_file=tmp_path / "ca.pem", server_name="localhost")
    target = ProviderTarget("fake", fakes[0].address, tls=tls, replicas=(fakes[1].address,))
    registry = ProviderRegistry(GatewaySettings(providers=(target,), startup_wait_s=5.0, pool_size=1))
    try:
        await registry.start()
        link = registry.links["fake"]
        await all_eligible(link)
        for n in range(4):
            resp = await link.invoke("fake.echo", {"text": f"tls{n}"}, 5.0, f"cid-tls-{n}", retry_safe=True)
            assert not resp.is_error
        assert [echoes(fp) for fp in fakes] == [2, 2]
    finally:
        await registry.close()
        for fp in fakes:
            await fp.stop()


async def test_when_a_replica_goes_down_and_the_rest_agree_on_another_catalog_that_one_is_listed(
    fakes: list[FakeProvider],
) -> None:
    extra = provider_pb2.ToolDescriptor(name="fake.newer", input_schema_json='{"type":"object"}')
    fakes[0].bump_catalog(extra)  # [new, old, old]: the old catalog is served
    registry, gw = await start_gateway(fakes)
    link = registry.links["fake"]
    changed = asyncio.Event()

    async def on_change(change: CatalogChange) -> None:
        if change.tools:
            changed.set()

    try:
        await all_discovered(link)
        await registry.rebuild()
        assert "fake_newer" not in set(registry.catalog.tools)
        registry.add_listener(on_change)
        await fakes[1].stop()  # [new, down, old]: a tie, which the first address wins
        await asyncio.wait_for(changed.wait(), 10)
        assert "fake_newer" in set(registry.catalog.tools)
        assert link.book.differing() == [1, 2]  # the old catalog, down or not, gets no calls
    finally:
        await gw.close()
        await registry.close()
