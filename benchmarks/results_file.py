"""Write one section of `benchmarks/RESULTS.md` in place, leaving the other sections as they are.

Each script owns the text between `<!-- NAME:start -->` and `<!-- NAME:end -->`; a missing section
is appended. So `scripts/bench --write` and `scripts/soak --write` can refresh their own figures.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["write_section"]

HEADER = (
    "# Benchmark and soak results\n\n"
    "Latest figures, each with the command that produced it. Figures depend on the machine; "
    "compare each with its reference measured in the same run. Re-run the command to reproduce.\n"
)


def write_section(path: Path, name: str, title: str, body: str) -> None:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n## {title}\n\n{body.rstrip()}\n{end}"
    text = path.read_text() if path.exists() else HEADER
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)
