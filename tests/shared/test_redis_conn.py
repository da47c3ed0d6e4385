"""The Redis settings and connection against a real redis-server (tests/redis_server.py)."""

from __future__ import annotations

import pytest

from provider.settings import SettingsError, from_mapping
from provider.shared.redis_conn import RedisUnavailable, connect
from tests.redis_server import running_redis


def test_without_redis_url_the_provider_keeps_in_process_state_with_a_per_environment_prefix() -> None:
    s = from_mapping({})
    assert s.redis_url is None and s.redis_prefix == "binance-mcp:testnet:"
    assert s.describe()["redis"] == "off"


def test_redis_url_password_never_shows_in_describe_or_errors() -> None:
    s = from_mapping({"PROVIDER_REDIS_URL": "redis://:s3cret@10.0.0.5:6379/0", "PROVIDER_REDIS_PREFIX": "desk1:"})
    assert s.redis_prefix == "desk1:" and "s3cret" not in str(s.describe()) and "s3cret" not in repr(s)
    with pytest.raises(SettingsError, match=r"^PROVIDER_REDIS_URL: ") as err:
        from_mapping({"PROVIDER_REDIS_URL": "http://user:s3cret@host:6379"})
    assert "s3cret" not in str(err.value)


@pytest.mark.parametrize("prefix", ["has space", "a" * 101, "ключ"])
def test_a_bad_prefix_is_refused_naming_the_variable(prefix: str) -> None:
    with pytest.raises(SettingsError, match=r"^PROVIDER_REDIS_PREFIX: "):
        from_mapping({"PROVIDER_REDIS_PREFIX": prefix})


async def test_connect_answers_while_redis_runs_and_raises_redis_unavailable_once_it_is_gone() -> None:
    async with running_redis() as server:
        conn = await connect(server.url)
        assert await conn.set("k", "v") and await conn.get("k") == b"v"
        await conn.aclose()
        await server.kill()
        with pytest.raises(RedisUnavailable) as err:
            await connect(server.url)
        assert err.value.status == "UNAVAILABLE" and err.value.retry_safe
        await server.launch()
        conn = await connect(server.url)
        assert await conn.get("k") is None  # no persistence: a killed server comes back empty
        await conn.aclose()
