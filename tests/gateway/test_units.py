"""Pure parts of the gateway: settings, pool bookkeeping, catalog naming, error details."""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import mcp_types as types
import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.provider.v1 import provider_pb2
from gateway.arguments import ArgumentValidator, InvalidSchema
from gateway.catalog import Catalog, ProviderSnapshot, build_catalog
from gateway.connections import ConnectionBook
from gateway.errors import MAX_EXTRA_CHARS, details_from_metadata, protocol_error, tool_error_result
from gateway.logforward import MCP_LEVELS, mcp_level, wants
from gateway.names import PORTABLE_NAME, ToolNames, portable_name
from gateway.pool import PoolBook
from gateway.settings import SettingsError, Transport, load_settings
from gateway.stdio import ABSENT, bad_line_error, top_level_id
from gateway.throttle import LogThrottle
from tests.gateway.fake_provider import FAILURE_DETAILS, default_tools

# -- settings ------------------------------------------------------------------------------


def test_settings_from_command_line_with_defaults() -> None:
    s = load_settings(["--provider", "binance=127.0.0.1:50053", "--provider", "x=localhost:1"], {})
    assert [(p.name, p.address, p.tls) for p in s.providers] == [
        ("binance", "127.0.0.1:50053", None),
        ("x", "localhost:1", None),
    ]
    assert (s.pool_size, s.transport, s.default_timeout_ms) == (4, Transport.STDIO, 10_000)


def test_settings_from_toml_with_tls_and_flag_overrides(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("ca")
    cfg = tmp_path / "gateway.toml"
    cfg.write_text(
        "pool_size = 2\ndefault_timeout_ms = 500\n"
        '[[providers]]\nname = "binance"\naddress = "10.0.0.5:50053"\ntls_ca_file = "ca.pem"\n'
    )
    s = load_settings(["--config", str(cfg), "--pool-size", "8"], {})
    assert s.pool_size == 8 and s.default_timeout_ms == 500
    [p] = s.providers
    assert p.tls is not None and p.tls.ca_file == tmp_path / "ca.pem"


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        ([], "no provider"),
        (["--provider", "nohostport"], "NAME=HOST:PORT"),
        (["--provider", "a=h:1", "--provider", "a=h:2"], "more than once"),
        (["--provider", "a.b=h:1"], "provider name"),
        (["--provider", "a=h:1", "--pool-size", "0"], "pool_size"),
        (["--provider", "a=h:1", "--transport", "http", "--listen", "0.0.0.0:80"], "token"),
        (["--provider", "a=h:1", "--max-connections", "0"], "max_connections"),
        (["--provider", "a=h:1", "--header-timeout", "-1"], "header_timeout_s"),
    ],
)
def test_settings_rejects_bad_values(argv: list[str], needle: str) -> None:
    with pytest.raises(SettingsError, match=needle):
        load_settings(argv, {})


def test_tool_names_are_portable_by_default_and_dotted_from_flag_or_file(tmp_path: Path) -> None:
    cfg = tmp_path / "g.toml"
    cfg.write_text('tool_names = "dotted"\n[[providers]]\nname = "a"\naddress = "localhost:1"\n')
    assert load_settings(["--provider", "a=localhost:1"], {}).tool_names is ToolNames.PORTABLE
    assert load_settings(["--provider", "a=localhost:1", "--tool-names", "dotted"], {}).tool_names is ToolNames.DOTTED
    assert load_settings(["--config", str(cfg)], {}).tool_names is ToolNames.DOTTED
    assert load_settings(["--config", str(cfg), "--tool-names", "portable"], {}).tool_names is ToolNames.PORTABLE
    cfg.write_text('tool_names = "dots"\n[[providers]]\nname = "a"\naddress = "localhost:1"\n')
    with pytest.raises(SettingsError, match="tool_names"):
        load_settings(["--config", str(cfg)], {})


def test_settings_rejects_unknown_toml_keys(tmp_path: Path) -> None:
    cfg = tmp_path / "g.toml"
    cfg.write_text('pool_sise = 3\n[[providers]]\nname = "a"\naddress = "h:1"\n')
    with pytest.raises(SettingsError, match="unknown keys"):
        load_settings(["--config", str(cfg)], {})


def test_http_beyond_loopback_accepts_token_from_environment() -> None:
    argv = ["--provider", "a=localhost:1", "--transport", "http", "--listen", "0.0.0.0:8765"]
    s = load_settings(argv, {"MCP_GATEWAY_TOKEN": "t0ken"})
    assert s.http.token == "t0ken" and not s.http.is_loopback
    assert "t0ken" not in repr(s)


# -- pool ----------------------------------------------------------------------------------


@given(size=st.integers(1, 8), picks=st.integers(1, 40))
def test_pool_rotates_over_every_slot_in_order(size: int, picks: int) -> None:
    book: PoolBook[object] = PoolBook(size)
    order = [book.pick()[0] for _ in range(picks)]
    assert order == [i % size for i in range(picks)]


@given(st.lists(st.tuples(st.sampled_from(["pick", "evict", "evict_stale"]), st.integers(0, 7))))
def test_pool_bookkeeping_never_loses_or_duplicates_channels(ops: list[tuple[str, int]]) -> None:
    book: PoolBook[object] = PoolBook(4)
    opened: list[object] = []
    closed: list[object] = []
    for op, _ in ops:
        index, channel = book.pick()
        if channel is None:
            channel = book.fill(index, object())
            opened.append(channel)
        if op == "evict":
            stale = book.evict(index, channel)
            assert stale is channel
            closed.append(stale)
        elif op == "evict_stale":
            assert book.evict(index, object()) is None
    closed += book.drain()
    assert sorted(map(id, opened)) == sorted(map(id, closed))
    assert book.live() == 0


# -- catalog -------------------------------------------------------------------------------


def _caps(name: str, tools: list[provider_pb2.ToolDescriptor]) -> provider_pb2.Capabilities:
    return provider_pb2.Capabilities(provider=name, tools=tools)


def _tools(*names: str) -> list[provider_pb2.ToolDescriptor]:
    return [provider_pb2.ToolDescriptor(name=n, input_schema_json='{"type":"object"}') for n in names]


def _routed(cat: Catalog, name: str) -> str:
    route = cat.tool(name)
    assert route is not None, name
    return route.remote_name


def test_catalog_keeps_namespaced_names_and_prefixes_others() -> None:
    cat = build_catalog([ProviderSnapshot("fake", _caps("fake", default_tools()))])
    assert set(cat.tools) == {"fake_echo", "fake_add", "fake_place_thing", "fake_slow"}
    assert cat.tools["fake_add"].remote_name == "add"
    assert cat.tools["fake_add"].canonical == "fake.add"
    assert cat.tools["fake_echo"].remote_name == "fake.echo"


def test_catalog_lists_portable_names_by_default_and_routes_both_forms() -> None:
    cat = build_catalog([ProviderSnapshot("fake", _caps("fake", default_tools()))])
    assert all(PORTABLE_NAME.match(name) for name in cat.tools)
    assert _routed(cat, "fake_echo") == _routed(cat, "fake.echo") == "fake.echo"
    assert _routed(cat, "fake_add") == _routed(cat, "fake.add") == "add"
    assert cat.tool("fake.nothing") is None and cat.tool("echo") is None


def test_catalog_lists_dotted_names_when_asked_and_still_routes_portable_ones() -> None:
    snaps = [ProviderSnapshot("fake", _caps("fake", default_tools()))]
    cat = build_catalog(snaps, tool_names=ToolNames.DOTTED)
    assert set(cat.tools) == {"fake.echo", "fake.add", "fake.place_thing", "fake.slow"}
    assert _routed(cat, "fake_place_thing") == "place_thing"
    assert cat.tools_key() != build_catalog(snaps).tools_key()


def test_catalog_resolves_collisions_by_prefixing_and_notes_them() -> None:
    cat = build_catalog([ProviderSnapshot("a", _caps("a", _tools("a.x", "x")))])
    assert _routed(cat, "a.x") == _routed(cat, "a_x") == "a.x"
    assert _routed(cat, "a.a.x") == _routed(cat, "a_a_x") == "x"
    assert any("collision" in n for n in cat.notes)


def test_portable_name_collision_refuses_the_second_tool_and_never_misroutes() -> None:
    cat = build_catalog([ProviderSnapshot("a", _caps("a", _tools("a.b_c", "a.b.c")))])
    assert list(cat.tools) == ["a_b_c"]
    assert _routed(cat, "a_b_c") == _routed(cat, "a.b_c") == "a.b_c"
    assert cat.tool("a.b.c") is None
    [error] = cat.errors
    assert "a.b.c" in error and "'a_b_c'" in error


def test_portable_name_collision_across_providers_keeps_the_first_in_configuration_order() -> None:
    snaps = [
        ProviderSnapshot("x", _caps("x", _tools("x.y_z"))),
        ProviderSnapshot("x_y", _caps("x_y", _tools("z", "w"))),
    ]
    cat = build_catalog(snaps)
    assert set(cat.tools) == {"x_y_z", "x_y_w"}
    assert cat.tools["x_y_z"].provider == "x"
    assert cat.tool("x_y.z") is None
    assert len(cat.errors) == 1


def test_long_names_are_shortened_deterministically_and_stay_distinct() -> None:
    stem = "very_long_tool_name_" * 5
    cat = build_catalog([ProviderSnapshot("p", _caps("p", _tools(stem + "one", stem + "two")))])
    names = sorted(cat.tools)
    assert len(names) == 2 and all(PORTABLE_NAME.match(n) and len(n) == 64 for n in names)
    assert names == sorted(build_catalog([ProviderSnapshot("p", _caps("p", _tools(stem + "one", stem + "two")))]).tools)
    route = cat.tool(f"p.{stem}one")
    assert route is not None and route.remote_name == stem + "one"
    assert route.portable == portable_name(f"p.{stem}one") and cat.tool(route.portable) is route


@given(st.text(min_size=1, max_size=200))
def test_every_canonical_name_has_a_portable_form(canonical: str) -> None:
    name = portable_name(canonical)
    assert PORTABLE_NAME.match(name)
    assert name == portable_name(canonical)


@given(st.lists(st.text(st.sampled_from("ab._-/é"), min_size=1, max_size=70), max_size=12))
def test_every_listed_tool_is_reached_under_both_names_and_no_name_reaches_another(names: list[str]) -> None:
    cat = build_catalog([ProviderSnapshot("p", _caps("p", _tools(*names)))])
    routes = list(cat.tools.values())
    assert len({r.portable for r in routes}) == len(routes)
    for route in routes:
        assert PORTABLE_NAME.match(route.tool.name)
        assert cat.tool(route.canonical) is route and cat.tool(route.portable) is route
    assert len(routes) + len(cat.errors) + sum("dropped" in n for n in cat.notes) == len(names)


def test_second_provider_plugs_in_without_clashing() -> None:
    snaps = [
        ProviderSnapshot("one", _caps("one", default_tools("one"))),
        ProviderSnapshot("two", _caps("two", default_tools("two"))),
    ]
    cat = build_catalog(snaps)
    assert len(cat.tools) == 8
    assert cat.tools["two_add"].provider == "two"
    assert not [n for n in cat.notes if "collision" in n]


def test_catalog_drops_tools_whose_schema_is_invalid() -> None:
    tools = [
        provider_pb2.ToolDescriptor(name="bad", input_schema_json='{"type":"object","minProperties":"x"}'),
        provider_pb2.ToolDescriptor(name="arr", input_schema_json='{"type":"array"}'),
    ]
    cat = build_catalog([ProviderSnapshot("p", _caps("p", tools))])
    assert cat.tools == {}
    assert len(cat.notes) == 2


def test_catalog_routes_uris_by_template() -> None:
    caps = provider_pb2.Capabilities(
        resource_templates=[
            provider_pb2.ResourceTemplateDescriptor(uri_template="m://market/{symbol}", name="m"),
            provider_pb2.ResourceTemplateDescriptor(uri_template="m://book/{symbol}{?depth}", name="b"),
        ]
    )
    cat = build_catalog([ProviderSnapshot("p", caps)])
    route = cat.template_for("m://book/BTCUSDT?depth=5")
    assert route is not None and route.template.name == "b"
    assert cat.template_for("m://nothing/x") is None


def _listed(*uris: str) -> list[provider_pb2.ResourceDescriptor]:
    return [provider_pb2.ResourceDescriptor(uri=u, name=u.rsplit("/", 1)[-1]) for u in uris]


def test_listed_resources_belong_to_the_first_provider_to_list_them() -> None:
    snaps = [
        ProviderSnapshot("one", _caps("one", []), _listed("x://a", "x://b")),
        ProviderSnapshot("two", _caps("two", []), _listed("x://b", "y://c", "")),
    ]
    cat = build_catalog(snaps)
    owners = [(uri, r.provider) for uri, r in cat.resources.items()]
    assert owners == [("x://a", "one"), ("x://b", "one"), ("y://c", "two")]
    assert sum("x://b" in n for n in cat.notes) == 1 and sum("no URI" in n for n in cat.notes) == 1


def test_resources_key_ignores_order_and_sees_any_change() -> None:
    def key(*uris: str) -> str:
        return build_catalog([ProviderSnapshot("p", _caps("p", []), _listed(*uris))]).resources_key()

    assert key("x://a", "x://b") == key("x://b", "x://a") != key("x://a")


def test_catalog_keys_change_only_with_the_visible_lists() -> None:
    tools = default_tools()
    a = build_catalog([ProviderSnapshot("fake", _caps("fake", tools))])
    b = build_catalog([ProviderSnapshot("fake", _caps("fake", tools))])
    c = build_catalog([ProviderSnapshot("fake", _caps("fake", tools[:2]))])
    assert a.tools_key() == b.tools_key() != c.tools_key()
    assert a.prompts_key() == c.prompts_key()


# -- arguments and errors ------------------------------------------------------------------


def test_validator_rejects_invalid_schema() -> None:
    with pytest.raises(InvalidSchema):
        ArgumentValidator({"type": "object", "required": "x"})


def test_validator_message_lists_problems_and_allowed_arguments() -> None:
    v = ArgumentValidator(
        {
            "type": "object",
            "properties": {"side": {"type": "string", "enum": ["BUY", "SELL"]}},
            "required": ["side"],
            "additionalProperties": False,
        }
    )
    assert v.problems({"side": "BUY"}) is None
    msg = v.problems({"side": "HOLD"})
    assert msg is not None
    assert "arguments.side: 'HOLD' is not one of ['BUY', 'SELL']" in msg
    assert "- side (one of 'BUY', 'SELL', required)" in msg


def test_error_details_parsed_from_trailing_metadata() -> None:
    md = (("other", "x"), ("error-details-json", json.dumps(FAILURE_DETAILS)))
    d = details_from_metadata(md)
    assert d is not None
    assert (d.binance_code, d.retry_safe, d.kind) == (-1013, False, "FilterViolation")
    assert details_from_metadata((("error-details-json", "{not json"),)) is None
    assert details_from_metadata(None) is None


def test_a_providers_other_facts_are_passed_on_as_they_came_and_bounded() -> None:
    facts = {"kind": "AlreadyClosed", "retry_safe": True, "order_status": "FILLED", "executed_qty": "0.01",
             "retry_after_s": None}
    exc = _rpc_error(grpc.StatusCode.FAILED_PRECONDITION, "already FILLED",
                     (("error-details-json", json.dumps(facts)),))
    text = _text(tool_error_result("p", "p.t", exc, idempotent=False))
    assert 'Details: {"order_status": "FILLED", "executed_qty": "0.01"}' in text.splitlines()
    data = protocol_error("Reading x", exc).data
    assert data == {"kind": "AlreadyClosed", "retry_safe": True, "order_status": "FILLED", "executed_qty": "0.01",
                    "grpc_status": "FAILED_PRECONDITION"}
    huge = _rpc_error(grpc.StatusCode.INTERNAL, "x", (("error-details-json", json.dumps({"blob": "y" * 100_000})),))
    (line,) = [x for x in _text(tool_error_result("p", "p.t", huge, idempotent=True)).splitlines()
               if x.startswith("Details: ")]
    assert len(line) <= len("Details: ") + MAX_EXTRA_CHARS


def _rpc_error(code: grpc.StatusCode, details: str, md: tuple[tuple[str, str], ...] = ()) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(*md), details=details)


def _text(result: types.CallToolResult) -> str:
    [block] = result.content
    assert isinstance(block, types.TextContent)
    return block.text


def test_unavailable_without_details_means_unreachable() -> None:
    r = tool_error_result("p", "p.t", _rpc_error(grpc.StatusCode.UNAVAILABLE, "conn refused"), idempotent=True)
    assert r.is_error and "unreachable" in _text(r)


def test_deadline_on_non_idempotent_tool_warns_outcome_unknown() -> None:
    exc = _rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded")
    r = tool_error_result("p", "p.t", exc, idempotent=False)
    assert "outcome is unknown" in _text(r)


def test_protocol_error_codes() -> None:
    nf = protocol_error("Reading x", _rpc_error(grpc.StatusCode.NOT_FOUND, "nope"))
    internal = protocol_error("Reading x", _rpc_error(grpc.StatusCode.INTERNAL, "boom"))
    assert (nf.code, internal.code) == (-32602, -32603)
    assert nf.data == {"grpc_status": "NOT_FOUND"}


# -- logging -------------------------------------------------------------------------------


def test_log_levels_follow_rfc5424_order_and_python_names_map_onto_them() -> None:
    assert wants("warning", "warning") and wants("error", "notice") and wants("emergency", "debug")
    assert not wants("info", "notice") and not wants("warning", "error")
    assert [mcp_level(n) for n in ("debug", "info", "warning", "exception", "critical", "odd")] == [
        "debug",
        "info",
        "warning",
        "error",
        "critical",
        "info",
    ]
    assert all(wants(level, "debug") for level in MCP_LEVELS)


# -- stdio: answering what the SDK cannot parse --------------------------------------------

_JSON_LEAF = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5)
_JSON = st.recursive(
    _JSON_LEAF, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
)
_IDS = st.integers(-(2**63), 2**63) | st.text(max_size=10)


@given(_IDS, st.dictionaries(st.text(max_size=5).filter(lambda k: k != "id"), _JSON, max_size=4), st.integers(0, 3))
def test_top_level_id_is_found_beside_any_members_in_any_position(
    request_id: int | str, members: dict[str, object], position: int
) -> None:
    items = list(members.items())
    items.insert(min(position, len(items)), ("id", request_id))
    assert top_level_id(json.dumps(dict(items))) == request_id
    assert top_level_id(json.dumps(dict(items), indent=2, ensure_ascii=False)) == request_id


@given(st.text(max_size=300))
def test_top_level_id_never_raises_on_any_text(text: str) -> None:
    top_level_id(text)
    top_level_id('{"id": 1, "x": ' + text)


def test_top_level_id_ignores_nested_ids_has_no_depth_limit_and_refuses_odd_ids() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    assert top_level_id('{"params": {"id": 3}, "x": ' + deep + ', "id": 7}') == 7
    assert top_level_id('{"params": {"id": 3}}') is ABSENT
    assert top_level_id('{"id": null}') is None
    assert top_level_id('{"id": 12') == 12  # a line cut short still gets its answer
    for odd in ('{"id": 1.5}', '{"id": true}', '{"id": [1]}', '["id", 1]', "id: 1", '{"x": [1, "id": 2'):
        assert top_level_id(odd) is ABSENT, odd
    assert top_level_id(r'{"id": "\ud800"}') is ABSENT  # a lone surrogate cannot be echoed


def _refusal(line: str) -> types.JSONRPCError:
    try:
        types.jsonrpc_message_adapter.validate_json(line, by_name=False)
    except Exception as exc:
        return bad_line_error(line, exc)
    raise AssertionError(f"the SDK accepted {line!r}")


def test_bad_lines_are_parse_errors_or_invalid_requests_answered_to_their_id() -> None:
    surrogate = _refusal(r'{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"\udc00"}}')
    deep = _refusal('{"jsonrpc":"2.0","id":2,"method":"x","params":{"a":' + "[" * 300 + "]" * 300 + "}}")
    envelope = _refusal('{"jsonrpc":"2.0","id":3,"method":5}')
    garbage = _refusal("hello")
    assert (surrogate.id, surrogate.error.code) == ("a", -32700) and "surrogate" in surrogate.error.message
    assert (deep.id, deep.error.code) == (2, -32700) and "recursion" in deep.error.message
    assert (envelope.id, envelope.error.code) == (3, -32600)
    assert (garbage.id, garbage.error.code) == (None, -32700)


def test_log_throttle_allows_one_line_per_interval_and_counts_the_rest() -> None:
    throttle = LogThrottle(interval_s=10)
    assert throttle.note("a", 0.0) == 0
    assert [throttle.note("a", t) for t in (1.0, 2.0, 9.9)] == [None, None, None]
    assert throttle.note("b", 5.0) == 0
    assert throttle.note("a", 10.0) == 3
    assert throttle.note("a", 10.5) is None


# -- HTTP connection bookkeeping -----------------------------------------------------------


_CONN_OPS = st.lists(
    st.tuples(st.sampled_from(["open", "busy", "idle", "close"]), st.integers(0, 3), st.integers(0, 40)),
    max_size=120,
)


@given(_CONN_OPS)
def test_connection_book_keeps_limits_never_sheds_busy_connections_and_loses_none(
    ops: list[tuple[str, int, int]],
) -> None:
    book: ConnectionBook[int] = ConnectionBook(max_total=6, max_per_client=3)
    open_conns: dict[int, str] = {}
    busy: set[int] = set()
    next_id = 0
    for op, client_n, pick in ops:
        client = f"c{client_n}"
        if op == "open":
            conn, next_id = next_id, next_id + 1
            idle_same = [c for c, cl in open_conns.items() if cl == client and c not in busy]
            idle_any = [c for c in open_conns if c not in busy]
            decision = book.open(conn, client)
            assert not set(decision.close) & busy
            for victim in decision.close:
                del open_conns[victim]
            if decision.admitted:
                open_conns[conn] = client
            else:
                assert not decision.close
                full_client = sum(cl == client for cl in open_conns.values()) >= 3
                assert (full_client and not idle_same) or (len(open_conns) >= 6 and not idle_any)
        elif open_conns:
            conn = sorted(open_conns)[pick % len(open_conns)]
            if op == "busy":
                book.busy(conn)
                busy.add(conn)
            elif op == "idle":
                book.idle(conn)
                busy.discard(conn)
            else:
                book.close(conn)
                del open_conns[conn]
                busy.discard(conn)
        assert len(book) == len(open_conns) <= 6
        assert all(book.count(c) == list(open_conns.values()).count(c) <= 3 for c in set(open_conns.values()))


def test_connection_book_makes_room_from_the_oldest_idle_connection_of_the_full_client_first() -> None:
    book: ConnectionBook[str] = ConnectionBook(max_total=4, max_per_client=2)
    for conn, client in (("a1", "a"), ("b1", "b"), ("a2", "a"), ("b2", "b")):
        assert book.open(conn, client).admitted
    book.busy("a1")
    decision = book.open("a3", "a")
    assert decision.admitted and decision.close == ("a2",)
    book.busy("a3")
    assert book.open("a4", "a").admitted is False  # both of a's connections are serving requests
    assert book.open("c1", "c").close == ("b1",)  # total full: the oldest idle anywhere


def test_state_keys_come_from_the_environment_and_must_be_long_enough() -> None:
    args = ["--provider", "x=127.0.0.1:1"]
    keys = load_settings(args, {"MCP_GATEWAY_STATE_KEYS": "a" * 32 + ", " + "b" * 40}).state_keys
    assert keys == ("a" * 32, "b" * 40)
    assert load_settings(args, {}).state_keys == ()
    with pytest.raises(SettingsError, match="MCP_GATEWAY_STATE_KEYS"):
        load_settings(args, {"MCP_GATEWAY_STATE_KEYS": "short"})


def test_a_provider_can_keep_its_tool_names_and_namespace_must_be_a_boolean(tmp_path: Path) -> None:
    cfg = tmp_path / "g.toml"
    cfg.write_text('[[providers]]\nname = "f"\naddress = "127.0.0.1:1"\nnamespace = false\n')
    assert load_settings(["--config", str(cfg)], {}).providers[0].namespace is False
    cfg.write_text('[[providers]]\nname = "f"\naddress = "127.0.0.1:1"\nnamespace = "no"\n')
    with pytest.raises(SettingsError, match="namespace"):
        load_settings(["--config", str(cfg)], {})
