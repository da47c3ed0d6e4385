"""Every package the code imports is declared in pyproject.toml, not only present because another
package pulls it in: runtime code (provider, gateway, simulator, contracts) by `dependencies`,
tests, scripts and benchmarks by those or the `dev` extra. Unknown pytest markers fail."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCAL = {
    "provider", "provider_kit", "gateway", "simulator", "contracts", "fixture_provider", "common", "tests", "scripts",
    "benchmarks",
}
RUNTIME_DIRS = ("provider", "provider_kit", "gateway", "simulator", "contracts", "common")
DEV_DIRS = ("tests", "scripts", "benchmarks")


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group()).lower()


RUNTIME = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
DEV = {_name(r) for r in PYPROJECT["project"]["optional-dependencies"]["dev"]}


def _python_files(directory: str) -> list[Path]:
    files = list((ROOT / directory).rglob("*.py"))
    if directory == "scripts":  # extensionless scripts that are Python
        extensionless = [p for p in (ROOT / directory).iterdir() if p.is_file() and not p.suffix]
        files += [p for p in extensionless if "python" in p.read_text()[:80]]
    return files


def imported_modules(directory: str) -> dict[str, str]:
    """Top-level third-party module -> one file importing it (imports inside functions included)."""
    found: dict[str, str] = {}
    for path in _python_files(directory):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in LOCAL and top != "__future__":
                    found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def _distributions(module: str) -> set[str]:
    return {_name(d) for d in packages_distributions().get(module, [])}


@pytest.mark.parametrize("directory", RUNTIME_DIRS)
def test_runtime_code_imports_only_declared_dependencies(directory: str) -> None:
    missing = {
        module: where
        for module, where in imported_modules(directory).items()
        if not _distributions(module) & RUNTIME
    }
    assert not missing, f"imported but not in [project] dependencies: {missing}"


@pytest.mark.parametrize("directory", DEV_DIRS)
def test_tests_scripts_and_benchmarks_import_only_declared_packages(directory: str) -> None:
    missing = {
        module: where
        for module, where in imported_modules(directory).items()
        if not _distributions(module) & (RUNTIME | DEV)
    }
    assert not missing, f"imported but declared neither in dependencies nor in the dev extra: {missing}"


def test_unknown_pytest_markers_fail() -> None:
    assert "--strict-markers" in PYPROJECT["tool"]["pytest"]["ini_options"]["addopts"]
