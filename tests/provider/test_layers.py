"""The provider's rooms form a line (issue 14): the catalog (contracts read as tools, JSON mapping,
rendering) knows no handler; the services (typed handlers) know no resource, prompt or generic
surface; the content (resources, prompts) is built on the services and knows no surface. Read from
the source (every import, at any depth of a module), so a lazy import inside a function counts too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.stack import ROOT

#: each room, and the rooms it must not import.
FORBIDDEN = {
    "provider/catalog": ("provider.services", "provider.content", "provider.provider_api"),
    "provider/services": ("provider.content", "provider.provider_api"),
    "provider/content": ("provider.provider_api",),
}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_a_room_imports_nothing_above_it(room: str) -> None:
    files = sorted((ROOT / room).glob("*.py"))
    assert files, room
    crossings = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in sorted(imported_modules(path))
        if any(name == above or name.startswith(above + ".") for above in FORBIDDEN[room])
    ]
    assert crossings == []


def test_the_check_sees_a_crossing(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from provider.content import resources\n    import provider.provider_api\n")
    assert {"provider.content", "provider.content.resources", "provider.provider_api"} <= imported_modules(module)
