"""Provider settings: validated once, errors name the variable, no secret in reprs or descriptions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

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
    s = load({"PROVIDER_ENV_FILE": str(env_file), "PROVIDER_LISTEN": "127.0.0.1:7000"}, prepare_audit_log=False)
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


# -- files and credentials are checked at start (issue 13) -------------------------------------------------


def _pem(key: object) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _key_file(tmp_path: Path, content: bytes) -> dict[str, str]:
    path = tmp_path / "key.pem"
    path.write_bytes(content)
    return {"BINANCE_API_KEY": "k", "BINANCE_PRIVATE_KEY_FILE": str(path)}


def test_a_valid_ed25519_key_file_is_accepted(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    s = from_mapping(_key_file(tmp_path, _pem(Ed25519PrivateKey.generate())))
    assert s.describe()["credentials"] == "ed25519"


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "empty"),
        (b"  \n", "empty"),
        (b"-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n", "Ed25519"),
        (b"\x00\xff garbage", "Ed25519"),
    ],
)
def test_an_empty_or_garbage_private_key_file_fails_naming_the_variable(
    tmp_path: Path, content: bytes, says: str
) -> None:
    with pytest.raises(SettingsError, match=r"^BINANCE_PRIVATE_KEY_FILE: ") as err:
        from_mapping(_key_file(tmp_path, content))
    assert says in str(err.value)


def test_a_private_key_of_another_kind_fails_naming_the_variable(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    with pytest.raises(SettingsError, match=r"^BINANCE_PRIVATE_KEY_FILE: .*not an Ed25519 key"):
        from_mapping(_key_file(tmp_path, _pem(ec.generate_private_key(ec.SECP256R1()))))


@pytest.mark.parametrize("name", ["BINANCE_API_KEY", "BINANCE_API_SECRET"])
@pytest.mark.parametrize("bad", ["abc\r\nX-Injected: 1", "abc\ndef", "a\tb", "a\x00b", "a\x7fb", "k\u00e9y", "a b"])
def test_a_key_or_secret_with_control_or_non_ascii_characters_fails_without_echoing_it(name: str, bad: str) -> None:
    env = {"BINANCE_API_KEY": "key-123", "BINANCE_API_SECRET": "s3cr3t-value", name: "s3cr3t" + bad}
    with pytest.raises(SettingsError, match=f"^{name}: ") as err:
        from_mapping(env)
    assert "s3cr3t" not in str(err.value)


@pytest.mark.parametrize("name", ["PROVIDER_AUDIT_LOG", "BINANCE_PRIVATE_KEY_FILE", "PROVIDER_TLS_CERT_FILE"])
def test_a_path_with_a_control_character_fails_naming_the_variable(name: str) -> None:
    with pytest.raises(SettingsError, match=f"^{name}: "):
        from_mapping({"BINANCE_API_KEY": "k", name: "var/a\x00b"})


@pytest.mark.parametrize("kind", ["under_a_file", "a_directory"])
def test_an_audit_log_that_cannot_be_appended_to_fails_at_load(tmp_path: Path, kind: str) -> None:
    (tmp_path / "file").write_text("x")
    path = tmp_path / "file" / "audit.log" if kind == "under_a_file" else tmp_path
    with pytest.raises(SettingsError, match=r"^PROVIDER_AUDIT_LOG: cannot append"):
        load({"PROVIDER_ENV_FILE": str(_empty_env(tmp_path)), "PROVIDER_AUDIT_LOG": str(path)})


def test_the_audit_log_and_its_directories_are_created_at_load_but_not_for_doctor(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "audit.log"
    env = {"PROVIDER_ENV_FILE": str(_empty_env(tmp_path)), "PROVIDER_AUDIT_LOG": str(path)}
    load(env, prepare_audit_log=False)
    assert not path.parent.exists()
    load(env)
    assert path.is_file() and path.read_bytes() == b""


def _empty_env(tmp_path: Path) -> Path:
    env_file = tmp_path / "empty.env"
    env_file.write_text("")
    return env_file


@pytest.mark.parametrize("content", [b"BINANCE_ENV=\xff\xfe\n", b"NOT A SETTING LINE\n"])
def test_an_unreadable_env_file_fails_naming_the_variable(tmp_path: Path, content: bytes) -> None:
    env_file = tmp_path / "bad.env"
    env_file.write_bytes(content)
    with pytest.raises(SettingsError) as err:
        load({"PROVIDER_ENV_FILE": str(env_file)}, prepare_audit_log=False)
    assert str(env_file) in str(err.value)


def test_allowed_symbols_must_be_symbols() -> None:
    with pytest.raises(SettingsError, match=r"^BINANCE_ALLOWED_SYMBOLS: "):
        from_mapping({"BINANCE_ALLOWED_SYMBOLS": "BTCUSDT, BTC/USDT"})


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.dictionaries(st.sampled_from(sorted(VARIABLES)), st.text(max_size=40), max_size=6))
@example({"PROVIDER_LISTEN": "127.0.0.1:\u00b2"})  # str.isdigit() is true for a superscript two, int() refuses it
@example({"BINANCE_API_KEY": "k", "BINANCE_PRIVATE_KEY_FILE": "key\x00.pem"})
def test_any_values_give_settings_or_a_settings_error_naming_a_variable(env: dict[str, str]) -> None:
    env.pop("PROVIDER_ENV_FILE", None)  # from_mapping does not read it; load's own test covers the file
    try:
        from_mapping(env)
    except SettingsError as err:
        assert any(name in str(err) for name in VARIABLES), str(err)
