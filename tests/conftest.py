"""Shared fixtures: `sim` is a started sandbox exchange subprocess (with `--faults`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from hypothesis import settings

from tests.sim_fixture import SimProcess

# Hypothesis's default 200 ms deadline per example is a timed assertion: on a loaded 2-core CI machine
# it fails examples that are merely slow. Property tests judge results, never time.
settings.register_profile("project", deadline=None)
settings.load_profile("project")


@pytest.fixture
async def sim() -> AsyncIterator[SimProcess]:
    """A fresh sandbox on a free loopback port, stopped after the test."""
    proc = await SimProcess.start("--faults", "--rate", "50")
    try:
        yield proc
    finally:
        await proc.stop()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def module_sim() -> AsyncIterator[SimProcess]:
    """One sandbox for a whole module (tests that clear the faults they arm)."""
    proc = await SimProcess.start("--faults", "--rate", "20")
    try:
        yield proc
    finally:
        await proc.stop()
