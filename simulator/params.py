"""Request parameter access with Binance's validation errors (spec §1.2, §5).

Query string and form body are merged; a name present in both takes the query value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal
from urllib.parse import parse_qsl

from simulator import errors
from simulator.decimals import parse_decimal

SYMBOLS_RANGE = '^\\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\\]$'
LONG_RE = re.compile(r"^-?[0-9]{1,20}$")


class Params:
    """Read-only typed view over the merged request parameters."""

    def __init__(self, values: Mapping[str, str], counts: Mapping[str, int] | None = None) -> None:
        self.values = dict(values)
        self.counts = dict(counts) if counts is not None else dict.fromkeys(self.values, 1)
        """How many times each name was sent (query and body together)."""

    @classmethod
    def parse(cls, query: str, body: str) -> Params:
        merged: dict[str, str] = {}
        counts: dict[str, int] = {}
        for source in (body, query):  # the query wins (spec §1.2)
            for k, v in parse_qsl(source, keep_blank_values=True):
                merged[k] = v
                counts[k] = counts.get(k, 0) + 1
        return cls(merged, counts)

    @property
    def count(self) -> int:
        """The number of parameters sent."""
        return sum(self.counts.values())

    def check_all_read(self, reads: frozenset[str]) -> None:
        """-1104 when a parameter outside `reads` was sent (Binance's strictness)."""
        sent = self.count
        read = sum(n for name, n in self.counts.items() if name in reads)
        if read < sent:
            raise errors.ApiError(-1104, f"Not all sent parameters were read; read '{read}' "
                                         f"parameter(s) but was sent '{sent}'.")

    def has(self, name: str) -> bool:
        return name in self.values

    def str_opt(self, name: str) -> str | None:
        v = self.values.get(name)
        return v if v not in (None, "") else None

    def str_req(self, name: str) -> str:
        v = self.str_opt(name)
        if v is None:
            raise errors.mandatory(name)
        return v

    def int_opt(self, name: str) -> int | None:
        v = self.values.get(name)
        if v is None:
            return None
        if v == "" or not LONG_RE.match(v):
            raise errors.mandatory(name) if v == "" else errors.illegal_chars(
                name, "^[0-9]{1,20}$")
        return int(v)

    def int_req(self, name: str) -> int:
        v = self.int_opt(name)
        if v is None:
            raise errors.mandatory(name)
        return v

    def decimal_opt(self, name: str) -> Decimal | None:
        v = self.values.get(name)
        if v is None:
            return None
        if v == "":
            raise errors.mandatory(name)
        d = parse_decimal(v)
        if d is None:
            raise errors.illegal_chars(name, "^([0-9]{1,20})(\\.[0-9]{1,20})?$")
        return d

    def decimal_req(self, name: str) -> Decimal:
        v = self.decimal_opt(name)
        if v is None:
            raise errors.mandatory(name)
        return v

    def bool_opt(self, name: str, default: bool) -> bool:
        v = self.values.get(name)
        if v is None:
            return default
        low = v.lower()
        if low not in ("true", "false"):
            raise errors.invalid_param(name)
        return low == "true"

    def symbols_opt(self, strict: bool = False) -> list[str] | None:
        """The JSON array parameter `symbols` (spec §1.2); upper-cased unless `strict`, where a
        lower-case name is refused with -1100."""
        v = self.values.get("symbols")
        if v is None:
            return None
        try:
            parsed = json.loads(v)
        except ValueError:
            raise errors.illegal_chars("symbols", SYMBOLS_RANGE) from None
        if not isinstance(parsed, list) or not parsed or not all(
            isinstance(s, str) for s in parsed
        ):
            raise errors.illegal_chars("symbols", SYMBOLS_RANGE)
        if strict and any(s != s.upper() for s in parsed):
            raise errors.illegal_chars("symbols", SYMBOLS_RANGE)
        if len(set(parsed)) != len(parsed):
            raise errors.ApiError(-1151, "Symbol is present multiple times in the list.")
        return [s.upper() for s in parsed]
