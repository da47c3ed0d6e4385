"""Shared fixtures: `sim` is a started sandbox exchange subprocess (with `--faults`)."""

from __future__ import annotations

from collections import Counter
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


#: Modules that run long for their few tests (process-level: the Inspector CLI, the soak, Redis lost and
#: restarted, books through many faults, every README command...), longest first, as measured on
#: 2026-12-02. pytest-xdist's loadscope hands out whole modules, by default most tests first, which
#: put these last: one worker ran them alone for the last minutes of the run while the other idled.
#: `scripts/test` turns that order off (--no-loadscope-reorder) and these are collected first; the
#: rest keep xdist's order (most tests first), so short modules fill the end.
LONG_MODULES = (
    "tests/gateway/test_inspector.py",
    "tests/e2e/test_soak_short.py",
    "tests/e2e/test_replicas_redis_lost.py",
    "tests/orderbook/test_manager_sandbox.py",
    "tests/simulator/test_public_rest.py",
    "tests/e2e/test_readme.py",
    "tests/gateway/test_conformance.py",
    "tests/orderbook/test_replicas_sandbox.py",
    "tests/e2e/test_replicas_stack.py",
    "tests/e2e/test_review_attacks_replicas.py",
    "tests/e2e/test_replicas_orders.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long modules first (`LONG_MODULES`), then the others by number of tests; each module stays whole."""
    modules = [item.nodeid.split("::", 1)[0] for item in items]
    counts = Counter(modules)
    first_seen = {module: i for i, module in reversed(list(enumerate(modules)))}
    rank = {module: i for i, module in enumerate(LONG_MODULES)}

    def order(i: int) -> tuple[int, int, int, int]:
        module = modules[i]
        long = rank.get(module)
        if long is not None:
            return (0, long, 0, i)
        return (1, -counts[module], first_seen[module], i)

    items[:] = [items[i] for i in sorted(range(len(items)), key=order)]
