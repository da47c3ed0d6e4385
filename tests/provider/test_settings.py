"""Provider settings: validated once, errors name the variable, no secret in reprs or descriptions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from provider.binance.environment import EnvironmentKind
from provider.settings import VARIABLES, SettingsError, from_mapping, load

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_are_testnet_read_only_on_loopback() -> None:
    s = from_mapping({})
    assert s.environment.kind is EnvironmentKind.TESTNET
    assert s.trading.enabled is False and s.listen == "127.0.0.1:50053" and not s.has_credentials


def test_sandbox_takes_its_urls_and_names_itself() -> None:
    s = from_mapping({"BINANCE_ENV": "sandbox", "BINANCE_REST_URL": "http://127.0.0.1:1", "BINANCE_WS_URL": "ws://127.0.0.1:1"})
    assert s.environment.name == "sandbox" and s.environment.rest_url == "http://127.0.0.1:1"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"BINANCE_ENV": "moon"}, "BINANCE_ENV"),
        ({"BINANCE_ENV": "sandbox"}, "BINANCE_REST_URL"),
        ({"BINANCE_TRADING_ENABLED": "perhaps"}, "BINANCE_TRADING_ENABLED"),
        ({"BINANCE_RECV_WINDOW_MS": "70000"}, "BINANCE_RECV_WINDOW_MS"),
        ({"BINANCE_MAX_ORDER_NOTIONAL": "-5"}, "BINANCE_MAX_ORDER_NOTIONAL"),
        ({"BINANCE_ALLOWED_ORDER_TYPES": "LIMIT,OCO"}, "BINANCE_ALLOWED_ORDER_TYPES"),
        ({"PROVIDER_LISTEN": "nowhere"}, "PROVIDER_LISTEN"),
        ({"BINANCE_API_SECRET": "s3cr3t-value"}, "BINANCE_API_KEY"),
        ({"BINANCE_PRIVATE_KEY_FILE": "/no/such/key.pem", "BINANCE_API_KEY": "k"}, "BINANCE_PRIVATE_KEY_FILE"),
        ({"BINANCE_TYPO": "1"}, "BINANCE_TYPO"),
    ],
)
def test_invalid_configuration_fails_naming_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError) as err:
        from_mapping(env)
    assert named in str(err.value)
    assert "s3cr3t-value" not in str(err.value)


def test_secrets_stay_out_of_repr_and_description() -> None:
    s = from_mapping({"BINANCE_API_KEY": "key-123", "BINANCE_API_SECRET": "s3cr3t-value"})
    assert "s3cr3t-value" not in repr(s) and "s3cr3t-value" not in str(s.describe())
    assert s.describe()["credentials"] == "hmac"


def test_env_file_is_read_and_the_process_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / "provider.env"
    env_file.write_text("# comment\nBINANCE_ENV=mainnet\nexport PROVIDER_LISTEN='127.0.0.1:6000'\n")
    s = load({"PROVIDER_ENV_FILE": str(env_file), "PROVIDER_LISTEN": "127.0.0.1:7000"})
    assert s.environment.kind is EnvironmentKind.MAINNET and s.listen == "127.0.0.1:7000"


def test_limits_are_parsed() -> None:
    s = from_mapping({
        "BINANCE_TRADING_ENABLED": "yes", "BINANCE_MAX_ORDER_NOTIONAL": "250.5",
        "BINANCE_ALLOWED_SYMBOLS": "btcusdt, ethusdt", "BINANCE_ALLOWED_ORDER_TYPES": "limit",
    })
    assert s.trading.enabled and str(s.trading.max_order_notional) == "250.5"
    assert s.trading.allowed_symbols == {"BTCUSDT", "ETHUSDT"} and s.trading.allowed_order_types == {"LIMIT"}


def test_env_example_and_readme_document_every_variable() -> None:
    example = (ROOT / ".env.example").read_text()
    readme = (ROOT / "README.md").read_text()
    assert set(re.findall(r"^([A-Z_]+)=", example, re.M)) == set(VARIABLES)
    assert set(re.findall(r"^\| `([A-Z_]+)` \|", readme, re.M)) >= set(VARIABLES)
