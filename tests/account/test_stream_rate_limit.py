"""The user data stream under the exchange's request-weight limit (the sandbox, a real subprocess).

The WebSocket API counts weight against the same per-IP limit as REST. When it refuses the
subscription with 429 and `data.retryAfter`, the stream must wait until then (retrying sooner is
what earns a 418 ban) and hold REST calls too, instead of reconnecting at its short backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import pytest

from provider.account.stream import UserDataStream
from provider.binance.client import BinanceClient
from provider.binance.environment import Environment
from provider.errors import RateLimited
from tests.waits import until

WATCH_S = 1.5  # long enough for a 0.05-0.2 s backoff to reconnect several times


async def test_a_refused_subscription_waits_for_retry_after_and_holds_rest(sim: Any) -> None:
    env = Environment.custom(sim.info.rest_url, sim.info.ws_url, name="sandbox")
    client = await BinanceClient.create(env, sim.info.api_key, sim.info.api_secret)
    stream = UserDataStream(env.ws_api_url, client, backoff=(0.05, 0.2))
    task = asyncio.get_running_loop().create_task(stream.run())
    try:
        await until(lambda: stream.state.live, timeout_s=20)
        # Far enough from the sandbox's minute boundary that its retryAfter is later than WATCH_S.
        await until(lambda: time.time() % 60 < 50, timeout_s=15)
        await sim.fault("weight_limit", limit=1)
        await sim.fault("ws_api_drop")
        await until(lambda: stream.last_error is not None and "rate limited" in stream.last_error, timeout_s=10)
        connects = stream.connects
        sent = client.health().requests_sent
        with pytest.raises(RateLimited) as refused:  # REST holds too: refused here, nothing sent
            await client.ping()
        assert client.health().requests_sent == sent
        assert refused.value.retry_after_s is not None and refused.value.retry_after_s > WATCH_S
        await asyncio.sleep(WATCH_S)
        assert stream.connects == connects, "the stream reconnected before the exchange's retryAfter"
        assert not stream.state.live
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await client.close()
