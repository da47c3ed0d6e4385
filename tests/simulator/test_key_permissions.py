"""`GET /sapi/v1/account/apiRestrictions`: the sandbox key's permissions, set by the `api_restrictions`
fault, so the provider's key-hygiene checks can be tested against every answer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.sim_fixture import SimProcess
from tests.simulator.helpers import Api
from tests.simulator.test_order_lists_rest import call


@pytest.fixture
async def api(sim: SimProcess) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(sim, session)


async def test_key_permissions_answer_and_change_with_the_fault(sim: SimProcess, api: Api) -> None:
    restrictions = await call(api, "GET", "/sapi/v1/account/apiRestrictions")
    assert (
        restrictions["enableWithdrawals"],
        restrictions["ipRestrict"],
        restrictions["enableSpotAndMarginTrading"],
    ) == (False, False, True)
    await sim.fault("api_restrictions", enableWithdrawals=True, ipRestrict=True)
    changed = await call(api, "GET", "/sapi/v1/account/apiRestrictions")
    assert (changed["enableWithdrawals"], changed["ipRestrict"]) == (True, True)
    await sim.fault("clear")
    assert (await call(api, "GET", "/sapi/v1/account/apiRestrictions")) == restrictions
