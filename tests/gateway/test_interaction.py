"""The pure rules of `gateway/interaction.py` and `gateway/content.py`."""

from __future__ import annotations

import json

import mcp_types as types
import pytest

from contracts.provider.v1 import provider_pb2
from gateway.content import content_blocks, from_block, prompt_messages, resource_contents, to_block
from gateway.interaction import (
    Answers,
    BadInputRequest,
    BadState,
    InputState,
    missing_capability,
    parse_request,
    question_digest,
)


def _request(key: str, method: str, params: dict[str, object] | None = None) -> provider_pb2.InputRequest:
    return provider_pb2.InputRequest(key=key, method=method, params_json=json.dumps(params) if params else "")


ELICIT = _request("name", "elicitation/create", {"message": "Name?", "requestedSchema": {"type": "object"}})
SAMPLE = _request(
    "s",
    "sampling/createMessage",
    {"messages": [{"role": "user", "content": {"type": "text", "text": "hi"}}], "maxTokens": 5},
)


def test_input_requests_parse_to_mcp_requests_and_bad_ones_are_refused() -> None:
    assert isinstance(parse_request(ELICIT), types.ElicitRequest)
    assert isinstance(parse_request(SAMPLE), types.CreateMessageRequest)
    assert isinstance(parse_request(_request("r", "roots/list")), types.ListRootsRequest)
    for bad in (_request("x", "tools/call", {"name": "a"}), _request("x", "elicitation/create", {"message": 1})):
        with pytest.raises(BadInputRequest):
            parse_request(bad)
    with pytest.raises(BadInputRequest):
        parse_request(provider_pb2.InputRequest(key="x", method="roots/list", params_json="[1]"))


def test_the_digest_changes_with_the_question() -> None:
    reworded = _request("name", "elicitation/create", {"message": "Who?", "requestedSchema": {"type": "object"}})
    assert question_digest(parse_request(ELICIT)) == question_digest(parse_request(ELICIT))
    assert question_digest(parse_request(ELICIT)) != question_digest(parse_request(reworded))


def test_a_capability_is_missing_unless_the_client_declared_it() -> None:
    elicit, sample, roots = parse_request(ELICIT), parse_request(SAMPLE), parse_request(_request("r", "roots/list"))
    none = types.ClientCapabilities()
    everything = types.ClientCapabilities(
        elicitation=types.ElicitationCapability(), sampling=types.SamplingCapability(), roots=types.RootsCapability()
    )
    assert missing_capability(elicit, none) == {"elicitation": {"form": {}}}
    assert missing_capability(sample, None) == {"sampling": {}}
    assert missing_capability(roots, none) == {"roots": {}}
    assert [missing_capability(r, everything) for r in (elicit, sample, roots)] == [None, None, None]
    url_only = types.ClientCapabilities(elicitation=types.ElicitationCapability(url=types.UrlElicitationCapability()))
    assert missing_capability(elicit, url_only) == {"elicitation": {"form": {}}}


def test_the_state_round_trips_and_refuses_what_it_did_not_mint() -> None:
    state = Answers.of(InputState(), None).next_state("provider-state", {"name": "d1"})
    assert InputState.decode(state.encode()) == state
    assert InputState.decode(None) == InputState()
    for bad in ('{"v": 2}', "[]", "not json", '{"v":1,"p":3,"q":{},"r":{}}'):
        with pytest.raises(BadState):
            InputState.decode(bad)


def test_answers_count_only_for_the_question_asked() -> None:
    accept = types.ElicitResult(action="accept", content={"name": "Ann"})
    asked = InputState(asked={"name": "d1"})
    answers = Answers.of(asked, {"name": accept, "stray": accept})
    # Rule 4: a key the state did not ask is dropped; rule 2: another question's digest is not answered.
    assert [r.key for r in answers.for_provider()] == ["name"]
    assert answers.in_call("name", "d2") is None
    assert answers.in_call("name", "d1") == {"action": "accept", "content": {"name": "Ann"}}
    # Recorded: a later round reuses it for the same question without the client answering again.
    later = Answers.of(answers.next_state("", {"other": "d3"}), None)
    assert later.in_call("name", "d1") == {"action": "accept", "content": {"name": "Ann"}}
    assert later.in_call("name", "d9") is None


def test_answers_given_before_any_question_reach_the_provider() -> None:
    accept = types.ElicitResult(action="accept", content={"name": "Ann"})
    answers = Answers.of(InputState(), {"name": accept, "extra": accept})
    assert sorted(r.key for r in answers.for_provider()) == ["extra", "name"]
    assert answers.in_call("name", "any") is not None


def test_content_blocks_round_trip_with_annotations() -> None:
    annotations = types.Annotations(audience=["user"], priority=0.5)
    blocks: list[types.ContentBlock] = [
        types.TextContent(text="t", annotations=annotations),
        types.ImageContent(data="iVBORw0=", mime_type="image/png"),
        types.AudioContent(data="UklGRg==", mime_type="audio/wav"),
        types.EmbeddedResource(resource=types.BlobResourceContents(uri="x://b", mime_type="a/b", blob="AAE=")),
        types.EmbeddedResource(resource=types.TextResourceContents(uri="x://t", text="hi")),
        types.ResourceLink(uri="x://l", name="l", title="L", description="d", mime_type="text/plain"),
    ]
    assert [to_block(from_block(b)) for b in blocks] == blocks


def test_text_stands_in_when_there_are_no_blocks_and_bad_annotations_are_dropped() -> None:
    assert content_blocks([], "plain") == [types.TextContent(text="plain")]
    block = provider_pb2.ContentBlock(text=provider_pb2.TextContent(text="t"), annotations_json='{"priority": 7}')
    assert to_block(block) == types.TextContent(text="t")
    assert to_block(provider_pb2.ContentBlock()) is None
    message = provider_pb2.PromptMessage(role="system", text="be brief")
    assert prompt_messages([message]) == [types.PromptMessage(role="user", content=types.TextContent(text="be brief"))]
    contents = resource_contents(provider_pb2.ResourceContents(text="x"), "u://default", "text/plain")
    assert contents == types.TextResourceContents(uri="u://default", mime_type="text/plain", text="x")
