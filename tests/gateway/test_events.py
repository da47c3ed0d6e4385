"""SSE event ids and replay after `Last-Event-ID`: the bounded log, and a real reconnect over HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import mcp_types as types
import pytest
from mcp.server.lowlevel.server import Server
from mcp.server.streamable_http import EventMessage
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

from gateway.events import EventLog, ReplayBudget, SessionEventStore, per_session_stores
from tests.gateway.processes import http_gateway
from tests.gateway.stream_provider import StreamProvider

# -- the log (pure) ----------------------------------------------------------------------------


def test_replay_gives_the_later_events_of_the_same_stream_only() -> None:
    log = EventLog()
    first = log.append("1", None, 0)  # priming
    a = log.append("1", "a", 1)
    log.append("2", "other stream", 1)
    b = log.append("1", "b", 1)
    assert log.after(first) == ("1", [(a, "a"), (b, "b")])
    assert log.after(a) == ("1", [(b, "b")])
    assert log.after("999") is None
    assert log.after("not-an-id") is None


def test_the_log_keeps_its_last_events_within_count_and_bytes() -> None:
    log = EventLog(max_events=3, max_bytes=10)
    ids = [log.append("1", f"m{i}", 2) for i in range(5)]
    assert len(log) == 3 and log.after(ids[0]) is None
    big = log.append("1", "too big for the session", 11)
    # Rule 2: an event over the limit keeps its id as a cursor, not its message.
    assert log.after(ids[4]) == ("1", [])
    assert log.after(big) == ("1", [])


def test_sessions_share_one_byte_budget_and_give_it_back() -> None:
    budget = ReplayBudget(max_bytes=10)
    one, two = EventLog(budget=budget), EventLog(budget=budget)
    one.append("1", "x", 6)
    kept = two.append("1", "y", 6)  # over the shared budget: not kept, as two has nothing to drop
    assert budget.used == 6 and two.after(kept) == ("1", [])
    one.clear()
    assert budget.used == 0
    two.append("1", "z", 6)
    assert budget.used == 6


# -- a reconnect over HTTP ---------------------------------------------------------------------

_HEADERS = {
    "accept": "application/json, text/event-stream",
    "content-type": "application/json",
    "mcp-protocol-version": "2025-11-25",
}


@pytest.fixture
async def provider() -> AsyncIterator[StreamProvider]:
    sp = await StreamProvider.serve()
    try:
        yield sp
    finally:
        sp.release.set()
        await sp.stop()


async def _events(response: httpx2.Response) -> AsyncIterator[tuple[str | None, dict[str, Any] | None]]:
    """(id, JSON data) of each SSE event (data None for a priming event)."""
    event_id: str | None = None
    data = ""
    async for line in response.aiter_lines():
        if line.startswith("id:"):
            event_id = line[3:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()
        elif line == "":
            if event_id is not None or data:
                yield event_id, json.loads(data) if data else None
            event_id, data = None, ""


async def _resume(http: httpx2.AsyncClient, url: str, headers: dict[str, str], last_seen: str) -> list[dict[str, Any]]:
    """Reconnect with Last-Event-ID until the call's response arrives, as a client does.

    A client reconnects whenever its stream ends without the response, or stays silent too long
    (the server may not have noticed the first drop yet); at most 5 times here.
    """
    received: list[dict[str, Any]] = []
    for _ in range(5):
        try:
            async with (
                asyncio.timeout(5),
                http.stream("GET", url, headers={**headers, "last-event-id": last_seen}) as again,
            ):
                assert again.status_code == 200
                async for event_id, data in _events(again):
                    last_seen = event_id or last_seen
                    if data is not None:
                        received.append(data)
                    if data is not None and data.get("id") == 2:
                        return received
        except TimeoutError:
            continue
    return received


async def test_a_client_that_lost_its_stream_gets_the_rest_after_last_event_id(
    provider: StreamProvider, tmp_path: Path
) -> None:
    async with (
        http_gateway("--provider", f"fixture={provider.address}", log=tmp_path / "gw.log") as url,
        httpx2.AsyncClient(timeout=20) as http,
    ):
        init = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "0"},
            },
        }
        opened = await http.post(url, json=init, headers=_HEADERS)
        session = {**_HEADERS, "mcp-session-id": opened.headers["mcp-session-id"]}
        await http.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=session)
        call = {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "fixture_hold", "arguments": {}, "_meta": {"progressToken": "p"}},
        }
        last_seen = None
        async with asyncio.timeout(15), http.stream("POST", url, json=call, headers=session) as stream:
            async for event_id, data in _events(stream):
                last_seen = event_id
                if data is not None and data.get("method") == "notifications/progress":
                    break  # the connection drops here, mid-call
        assert last_seen is not None
        provider.release.set()  # the call goes on without a connected client
        replayed = await _resume(http, url, {**session, "accept": "text/event-stream"}, last_seen)
    progress = [m["params"]["progress"] for m in replayed if m.get("method") == "notifications/progress"]
    assert progress == [2]
    assert replayed[-1]["result"]["content"][0]["text"] == "released"


def test_every_session_gets_a_store_of_its_own() -> None:
    budget = ReplayBudget()
    manager = StreamableHTTPSessionManager(app=Server("t"), event_store=SessionEventStore(EventLog(budget=budget)))
    per_session_stores(manager, lambda: EventLog(budget=budget))
    one, two = manager._admit_session(None), manager._admit_session(None)
    assert one is not None and two is not None
    stores = [one._event_store, two._event_store]
    # Rule 1: both sessions number their streams "1", "2", ...: one shared store would mix them.
    assert all(isinstance(s, SessionEventStore) for s in stores) and stores[0] is not stores[1]
    assert stores[0] is not manager.event_store


async def test_events_stored_while_a_stream_resumes_are_sent_and_the_cursor_holds() -> None:
    store = SessionEventStore(EventLog())
    message = types.JSONRPCNotification(jsonrpc="2.0", method="notifications/progress", params={"progress": 1})
    first = await store.store_event("2", message)
    await store.store_event("2", message)
    sent: list[str | None] = []

    async def send(event: EventMessage) -> None:
        sent.append(event.event_id)

    assert await store.replay_events_after(first, send) == "2"
    late = await store.store_event("2", message)  # between the replay and the SDK's live tail
    cursor = await store.store_event("2", None)  # the priming event that ends the replay
    after = await store.store_event("2", message)  # live: the SDK sends it, the store does not
    # Rule 4: the late event was sent, in order; the priming event keeps the last id sent.
    assert sent == ["2", late] and cursor == late and after not in sent
