"""Injected faults (only reachable with `--faults`): what is armed and how often it fires."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RestFail:
    """Fail, delay or hold matching REST requests (fault `rest_fail`).

    `status`/`code` make the answer a failure; `after_execute` runs the request first;
    `execute_after_ms` answers the failure at once and runs the request that much later in the
    background (only if it is then still inside its recvWindow); `delay_ms` delays the answer;
    `hold_ms` delays the request itself before it is executed (a slow exchange).
    """

    path: str | None = None
    """None matches every REST path."""
    method: str | None = None
    status: int | None = None
    code: int | None = None
    after_execute: bool = False
    times: int = 1
    delay_ms: int = 0
    hold_ms: int = 0
    execute_after_ms: int | None = None
    answer: str = "binance"
    """How the failure looks: `binance` (JSON `{code,msg}`), `http_error` (the edge: WAF, geo
    block, proxy), `truncated` (a 200 whose JSON is cut) or `reset` (no answer at all)."""

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method.upper()) and (
            self.path is None or path.rstrip("/") == self.path.rstrip("/")
        )

    @property
    def failing(self) -> bool:
        """The answer is a failure (a code, a status other than 200, or not Binance's)."""
        return self.answer != "binance" or self.code is not None or self.status not in (None, 200)


@dataclass
class Faults:
    """Armed faults; the stream and REST shells consult this on every event/request."""

    rest_fail: list[RestFail] = field(default_factory=list)
    gaps: dict[str, int] = field(default_factory=dict)
    stall_until_ms: dict[str, int] = field(default_factory=dict)
    """Per symbol ("*" for all) wall-clock ms until which streams send nothing."""
    snapshot_lag: dict[str, tuple[str, int]] = field(default_factory=dict)
    """Per symbol ("*" for all): REST depth serves the book `("updates", n)` update ids or
    `("ms", n)` milliseconds behind the stream (fault `snapshot_lag`)."""
    held: int = 0
    """Requests currently held by a `hold_ms` fault (ground truth for tests: `GET /sim/held`)."""

    def take_rest_fail(self, method: str, path: str) -> RestFail | None:
        for f in self.rest_fail:
            if f.matches(method, path):
                f.times -= 1
                if f.times <= 0:
                    self.rest_fail.remove(f)
                return f
        return None

    def stalled(self, symbol: str, now_ms: int) -> bool:
        return max(self.stall_until_ms.get(symbol, 0), self.stall_until_ms.get("*", 0)) > now_ms

    def lag(self, symbol: str) -> tuple[str, int] | None:
        return self.snapshot_lag.get(symbol) or self.snapshot_lag.get("*")

    def clear(self) -> None:
        self.snapshot_lag.clear()
        self.rest_fail.clear()
        self.gaps.clear()
        self.stall_until_ms.clear()
