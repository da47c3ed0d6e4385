"""The shared package stays a leaf: both processes import it, it imports neither (so the gateway, which
never imports the provider, reaches no provider code through it)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUR_PACKAGES = {"provider", "gateway", "simulator", "contracts", "fixture_provider"}


def imported_tops(directory: str) -> dict[str, str]:
    """Top-level module imported -> one file importing it (imports inside functions included)."""
    found: dict[str, str] = {}
    for path in (ROOT / directory).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def test_common_imports_none_of_our_other_packages() -> None:
    assert not OUR_PACKAGES & set(imported_tops("common"))


def test_the_gateway_never_imports_the_provider() -> None:
    assert "provider" not in imported_tops("gateway")
