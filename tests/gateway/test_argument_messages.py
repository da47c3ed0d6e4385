"""The gateway's invalid-argument messages stay under 2 KB for every tool yet name every allowed argument."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.arguments import ArgumentValidator
from provider.catalog.tools import tool_specs

BUDGET_BYTES = 2048
SCHEMAS = {name: spec.input_schema for name, spec in tool_specs().items()}


def _allowed_names_present(message: str, schema: dict[str, Any]) -> bool:
    return all(name in message for name in schema.get("properties", {}))


@pytest.mark.parametrize("tool", sorted(SCHEMAS))
def test_an_unknown_argument_is_explained_within_the_budget(tool: str) -> None:
    schema = SCHEMAS[tool]
    message = ArgumentValidator(schema).problems({"not_an_argument": 1})
    assert message is not None and "not_an_argument" in message
    assert len(message.encode()) < BUDGET_BYTES, message
    assert _allowed_names_present(message, schema)


@pytest.mark.parametrize("tool", sorted(SCHEMAS))
def test_every_value_wrong_and_a_huge_key_stay_within_the_budget_and_echo_little(tool: str) -> None:
    schema = SCHEMAS[tool]
    bad: dict[str, Any] = {name: "x" * 50_000 for name in schema.get("properties", {})}
    bad["k" * 50_000] = 1
    message = ArgumentValidator(schema).problems(bad)
    assert message is not None
    assert len(message.encode()) < BUDGET_BYTES, message
    assert "x" * 250 not in message and "k" * 250 not in message
    assert _allowed_names_present(message, schema)


def test_a_short_list_keeps_every_description() -> None:
    schema = SCHEMAS["binance.get_ticker"]
    message = ArgumentValidator(schema).problems({"symbol": 5})
    assert message is not None
    for name, prop in schema["properties"].items():
        if prop.get("description"):
            assert prop["description"].splitlines()[0] in message, name
