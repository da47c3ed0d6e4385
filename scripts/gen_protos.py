#!/usr/bin/env python3
"""Regenerate the Python code of the contracts in protos/ into the `contracts` package.

The generated modules are committed so that a fresh clone runs without grpcio-tools; CI runs
`scripts/gen_protos.py --check` and fails when the committed code is stale.

Generated imports are rewritten from `binance.v1` / `provider.v1` to `contracts.binance.v1` /
`contracts.provider.v1`, so the code lives in one importable package and never needs sys.path tricks.
The gRPC package names on the wire stay `binance.v1` and `provider.v1`. `descriptors.binpb` keeps the
source comments, from which the provider derives tool and field descriptions.
"""

from __future__ import annotations

import argparse
import filecmp
import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
OUT = ROOT / "contracts"
IMPORT_RE = re.compile(r"^(from|import) (binance|provider)\.v1", re.MULTILINE)


def generate(out: Path) -> None:
    import grpc_tools
    from grpc_tools import protoc  # imported here: only developers need grpcio-tools

    include = Path(grpc_tools.__file__).parent / "_proto"
    files = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    args = [
        "protoc",
        f"-I{PROTOS}",
        f"-I{include}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        f"--descriptor_set_out={out / 'descriptors.binpb'}",
        "--include_source_info",
        "--include_imports",
        *files,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    for path in out.rglob("*.py*"):  # .py and .pyi
        text = path.read_text()
        fixed = IMPORT_RE.sub(lambda m: f"{m.group(1)} contracts.{m.group(2)}.v1", text)
        if fixed != text:
            path.write_text(fixed)
    for folder in [out, *[p for p in out.rglob("*") if p.is_dir()]]:
        init = folder / "__init__.py"
        if not init.exists():
            init.write_text('"""Generated from protos/ by scripts/gen_protos.py; do not edit."""\n')


def same_tree(a: Path, b: Path) -> bool:
    cmp = filecmp.dircmp(a, b, ignore=["__pycache__"])
    if cmp.left_only or cmp.right_only or cmp.diff_files:
        return False
    return all(same_tree(a / d, b / d) for d in cmp.common_dirs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed code is stale")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "contracts"
        fresh.mkdir()
        generate(fresh)
        if args.check:
            if not OUT.exists() or not same_tree(fresh, OUT):
                sys.stderr.write("contracts/ is stale: run scripts/gen_protos.py and commit\n")
                return 1
            return 0
        if OUT.exists():
            shutil.rmtree(OUT)
        shutil.copytree(fresh, OUT)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
