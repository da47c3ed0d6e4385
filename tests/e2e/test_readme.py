"""The README's grpcurl lines, run as written against a real provider (only the address differs)."""

from __future__ import annotations

import asyncio
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.stack import ROOT, ProviderProcess

README_ADDRESS = "127.0.0.1:50053"


def readme_grpcurl_lines() -> list[str]:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip().startswith("grpcurl ")]


def test_readme_has_grpcurl_examples() -> None:
    lines = readme_grpcurl_lines()
    assert len(lines) >= 4 and all(README_ADDRESS in line for line in lines)


@pytest.mark.asyncio(loop_scope="module")
async def test_every_readme_grpcurl_line_runs(stack_provider: ProviderProcess) -> None:
    binary = shutil.which("grpcurl") or str(Path(sys.executable).parent / "grpcurl")
    for line in readme_grpcurl_lines():
        argv = shlex.split(line.replace(README_ADDRESS, stack_provider.address))
        argv[0] = binary
        done = await asyncio.to_thread(subprocess.run, argv, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, f"{line}\n{done.stderr}"
        assert done.stdout.strip(), line
