"""Injected faults (only reachable with `--faults`): what is armed and how often it fires."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RestFail:
    """Fail matching REST requests: `status`/`code`, optionally after running the handler."""

    path: str
    method: str | None = None
    status: int | None = None
    code: int | None = None
    after_execute: bool = False
    times: int = 1
    delay_ms: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method.upper()) and (
            path == self.path or path.rstrip("/") == self.path.rstrip("/")
        )


@dataclass
class Faults:
    """Armed faults; the stream and REST shells consult this on every event/request."""

    rest_fail: list[RestFail] = field(default_factory=list)
    gaps: dict[str, int] = field(default_factory=dict)
    stall_until_ms: dict[str, int] = field(default_factory=dict)
    """Per symbol ("*" for all) wall-clock ms until which streams send nothing."""

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

    def clear(self) -> None:
        self.rest_fail.clear()
        self.gaps.clear()
        self.stall_until_ms.clear()
