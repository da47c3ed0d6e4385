"""The provider's one error tree; every failure a caller can see is one of these.

Each class carries its status as a name (``status``, gRPC's code names; no transport types here:
the boundary in ``provider/services/errors.py`` turns it into a gRPC status), whether repeating the same call is safe
(``retry_safe``) and a default ``hint``. Instances keep Binance's own ``code`` and ``msg``
(``binance_code``, ``binance_msg``) untouched. Exceptions are translated into this tree once, at
the boundary that sees them (aiohttp in ``provider/binance/transport.py``, Binance error bodies in
:func:`from_binance`), and out of it once, in the gRPC server interceptor.

Caller faults (the request can never succeed as sent) are kept apart from exchange faults::

    ProviderError
    ├── CallerError                       the request itself is wrong or not allowed
    │   ├── InvalidArgument               INVALID_ARGUMENT   -1100 -1102 -1106 -1111 -1120 ...
    │   │   ├── UnknownSymbol             INVALID_ARGUMENT   -1121 (with near-miss suggestions)
    │   │   └── FilterViolation           INVALID_ARGUMENT   -1013 (with nearest valid values)
    │   ├── NotFound                      NOT_FOUND          -2013, -2026, -2011 unknown order
    │   ├── FailedPrecondition            FAILED_PRECONDITION -1220
    │   │   ├── OrderRejected             FAILED_PRECONDITION -2010 (balance, would match, ...)
    │   │   ├── CancelRejected            FAILED_PRECONDITION -2011 (other than unknown order)
    │   │   │   └── AlreadyClosed         FAILED_PRECONDITION -2011 unknown order that exists, closed
    │   │   └── TradingDisabled           FAILED_PRECONDITION symbol halted, trading switched off
    │   ├── Unauthenticated               UNAUTHENTICATED    -2014 -1022, no key configured
    │   └── PermissionDenied              PERMISSION_DENIED  -2015 -1002, HTTP 403 (WAF)
    └── ExchangeError                     the exchange (or the path to it) failed
        ├── RateLimited                   RESOURCE_EXHAUSTED 429 -1003 (retry_after)
        │   ├── OrderRateLimited          RESOURCE_EXHAUSTED -1015: new orders only, reads go on
        │   ├── WafBlocked                RESOURCE_EXHAUSTED 403 from the exchange's firewall (not executed)
        │   └── IpBanned                  RESOURCE_EXHAUSTED 418 (banned_until, no REST until then)
        ├── RestrictedLocation            FAILED_PRECONDITION 451: no API for this host's location
        ├── ExchangeUnavailable           UNAVAILABLE        5xx on a read, connection errors
        │   └── ExchangeUnreachable       UNAVAILABLE        the request never left (connect failed)
        ├── ExchangeTimeout               DEADLINE_EXCEEDED  a read timed out
        ├── TimestampRejected             UNAVAILABLE        -1021 (clock re-measured; not executed)
        ├── ExecutionUnknown              UNKNOWN            -1007, 5xx, timeout on a mutating call
        └── UnexpectedResponse            INTERNAL           a body that is not Binance's JSON
    Unimplemented                         UNIMPLEMENTED      a listed tool this build does not serve

``ExecutionUnknown`` is the one class whose retry is *never* safe: the order may have executed,
and the caller must reconcile by client order id before doing anything else.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

__all__ = [
    "AlreadyClosed",
    "CallerError",
    "CancelRejected",
    "ExchangeError",
    "ExchangeTimeout",
    "ExchangeUnavailable",
    "ExchangeUnreachable",
    "ExecutionUnknown",
    "FailedPrecondition",
    "FilterViolation",
    "InvalidArgument",
    "IpBanned",
    "NotFound",
    "OrderRateLimited",
    "OrderRejected",
    "PermissionDenied",
    "ProviderError",
    "RateLimited",
    "RestrictedLocation",
    "TimestampRejected",
    "TradingDisabled",
    "Unauthenticated",
    "UnexpectedResponse",
    "Unimplemented",
    "UnknownSymbol",
    "WafBlocked",
    "from_binance",
    "usable_retry_after",
]


class ProviderError(Exception):
    """Base of every error the provider reports; carries its gRPC status and Binance's code/msg."""

    #: the canonical status name (gRPC's code names); the boundary in services/errors.py maps it.
    status: ClassVar[str] = "INTERNAL"
    retry_safe: ClassVar[bool] = False
    hint: str = "Unexpected provider error; see the message."

    def __init__(
        self,
        message: str,
        *,
        binance_code: int | None = None,
        binance_msg: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.binance_code = binance_code
        self.binance_msg = binance_msg
        if hint is not None:
            self.hint = hint

    @property
    def kind(self) -> str:
        """Stable machine-readable name of the error class (used in error-details-json)."""
        return type(self).__name__

    def to_details(self) -> dict[str, Any]:
        """Return the ``error-details-json`` payload attached to failed gRPC calls."""
        return {
            "kind": self.kind,
            "binance_code": self.binance_code,
            "binance_msg": self.binance_msg,
            "hint": self.hint,
            "retry_safe": self.retry_safe,
        }

    def __repr__(self) -> str:
        return f"{self.kind}({self.message!r}, binance_code={self.binance_code!r})"


# --- caller faults -------------------------------------------------------------------------


class CallerError(ProviderError):
    """The request is wrong or not allowed; sending it again unchanged cannot succeed."""

    status = "INVALID_ARGUMENT"
    retry_safe = True
    hint = "Fix the request before sending it again."


class InvalidArgument(CallerError):
    """A parameter is missing, malformed or out of range (Binance -11xx)."""

    status = "INVALID_ARGUMENT"
    hint = "Fix the parameter named in the message; nothing was executed."


class UnknownSymbol(InvalidArgument):
    """The symbol does not exist on this environment (-1121); ``suggestions`` lists near misses."""

    hint = "Use a symbol listed by exchangeInfo (upper case, e.g. BTCUSDT)."

    def __init__(self, message: str, *, suggestions: tuple[str, ...] = (), **kw: Any) -> None:
        super().__init__(message, **kw)
        self.suggestions = suggestions


class FilterViolation(InvalidArgument):
    """The order breaks a symbol filter (-1013); ``violations`` explain which and propose fixes."""

    hint = "Round price to tickSize and quantity to stepSize, and respect min/max notional."

    def __init__(self, message: str, *, violations: tuple[Any, ...] = (), **kw: Any) -> None:
        super().__init__(message, **kw)
        self.violations = violations

    def to_details(self) -> dict[str, Any]:
        """Adds every violation with its nearest valid values, for callers that act on fields."""
        details = super().to_details()
        if self.violations:
            details["violations"] = list(self.violations)
        return details


class NotFound(CallerError):
    """The order (or other object) does not exist (-2013, -2011 "Unknown order sent.", -2026)."""

    status = "NOT_FOUND"
    hint = "Check the symbol and the order id / client order id; closed orders may be archived."


class FailedPrecondition(CallerError):
    """The request is valid but the account or market state does not allow it now."""

    status = "FAILED_PRECONDITION"
    hint = "The account or market state does not allow this now."


class OrderRejected(FailedPrecondition):
    """The matching engine refused the new order (-2010): balance, would-match, duplicate id..."""

    hint = "Read binance_msg: e.g. insufficient balance, LIMIT_MAKER would take, duplicate id."


class CancelRejected(FailedPrecondition):
    """The matching engine refused the cancel (-2011), other than for an unknown order."""

    hint = "The order may already be filled or cancelled; query it to see its status."


class AlreadyClosed(CancelRejected):
    """A cancel refused as "Unknown order sent." (-2011) of an order or list that exists but is closed.

    Binance answers -2011 alike for an id it never had and for an order already CANCELED, FILLED or
    EXPIRED; a cancel retried after one whose answer was lost (it ran detached and succeeded) lands
    here, and must not be told the order does not exist. ``facts`` (the order's or list's status,
    ids and quantities) go into the details.
    """

    hint = (
        "The order is already closed: there is nothing left to cancel, and repeating the cancel gives the "
        "same answer. get_order shows its final state and fills."
    )

    def __init__(self, message: str, *, facts: dict[str, Any], **kw: Any) -> None:
        super().__init__(message, **kw)
        self.facts = facts

    def to_details(self) -> dict[str, Any]:
        return {**super().to_details(), **self.facts}


class TradingDisabled(FailedPrecondition):
    """Trading is off: symbol not TRADING, account may not trade, or trading not enabled here."""

    hint = "Trading is disabled for this symbol, account or provider; it cannot be placed now."


class Unauthenticated(CallerError):
    """No usable credentials: missing key, malformed key (-2014) or bad signature (-1022)."""

    status = "UNAUTHENTICATED"
    retry_safe = False
    hint = "Configure a valid API key plus its HMAC secret or Ed25519 private key."


class PermissionDenied(CallerError):
    """The key is valid-looking but not allowed here (-2015 key/IP/permission, -1002, HTTP 403)."""

    status = "PERMISSION_DENIED"
    retry_safe = False
    hint = "Check the key's permissions (e.g. spot trading enabled) and its IP whitelist."


# --- exchange faults -----------------------------------------------------------------------


class ExchangeError(ProviderError):
    """The exchange, or the network path to it, failed; not the caller's fault."""

    status = "UNAVAILABLE"
    retry_safe = True
    hint = "The exchange failed; retry later."


class RateLimited(ExchangeError):
    """Request weight or order count exhausted (HTTP 429, -1003, -1015); wait ``retry_after_s``."""

    status = "RESOURCE_EXHAUSTED"
    hint = "Request weight exhausted; wait retry_after seconds, or use streams instead of polling."

    def __init__(self, message: str, *, retry_after_s: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after_s = retry_after_s

    def to_details(self) -> dict[str, Any]:
        details = super().to_details()
        details["retry_after_s"] = self.retry_after_s
        return details


class OrderRateLimited(RateLimited):
    """-1015: the account's unfilled-order count is at its limit; new orders wait, nothing else does."""

    hint = (
        "Too many new orders on this account in the current window; wait retry_after seconds before "
        "placing another. Reads and cancels are not affected."
    )


class WafBlocked(RateLimited):
    """HTTP 403 without a Binance error body: the exchange's web application firewall refused the call.

    The request never reached the exchange's API, so nothing executed; every call backs off.
    """

    hint = (
        "The exchange's firewall (WAF) blocked this host's requests, for their rate or a security rule; "
        "nothing was executed. Calls back off until retry_after; if it persists, check what else on this "
        "IP calls Binance."
    )


class RestrictedLocation(ExchangeError):
    """HTTP 451: Binance serves no API to this host's location; retrying cannot help, nothing executed."""

    status = "FAILED_PRECONDITION"
    retry_safe = False
    hint = (
        "Binance refuses API requests from this host's location (its terms, 'b. Eligibility'); cloud "
        "regions are often affected. Run the provider from an eligible location. Nothing was executed."
    )


class IpBanned(RateLimited):
    """The IP is banned (HTTP 418); no REST call is sent until ``banned_until_s`` (epoch s)."""

    hint = "The IP is banned by Binance (after ignored 429s); REST is refused until the ban ends."

    def __init__(self, message: str, *, banned_until_s: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.banned_until_s = banned_until_s


class ExchangeUnavailable(ExchangeError):
    """Binance answered 5xx on a read, or the connection failed; the read may be repeated."""

    status = "UNAVAILABLE"
    hint = "The exchange is unreachable or failing; retry later."


class ExchangeUnreachable(ExchangeUnavailable):
    """The request never left this host (connect failed), so even a mutating call did not run."""

    hint = "Could not connect to the exchange; check the environment URL and the network."


class ExchangeTimeout(ExchangeError):
    """A read got no answer within its timeout."""

    status = "DEADLINE_EXCEEDED"
    hint = "The exchange did not answer in time; retry later."


class TimestampRejected(ExchangeError):
    """-1021: timestamp outside recvWindow; the clock was re-measured and the call was refused."""

    status = "UNAVAILABLE"
    hint = "Local clock and server clock disagree; the offset was re-measured, send the call again."


class ExecutionUnknown(ExchangeError):
    """A mutating call's outcome is unknown (-1006, -1007, 5xx, timeout, dropped connection).

    The order may or may not exist. Never resend it blindly: query it by client order id first.
    """

    status = "UNKNOWN"
    retry_safe = False
    hint = (
        "Execution status unknown: the order may have been placed. Query it by its client "
        "order id before doing anything else; do not resend blindly."
    )

    def __init__(self, message: str, *, symbol: str | None = None,
                 client_order_id: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.symbol = symbol
        self.client_order_id = client_order_id
        #: the signed request's ``timestamp`` (server clock); it may execute until this + recvWindow.
        self.request_timestamp_ms: int | None = None

    def to_details(self) -> dict[str, Any]:
        details = super().to_details()
        details["symbol"] = self.symbol
        details["client_order_id"] = self.client_order_id
        return details


class Unimplemented(ProviderError):
    """A tool this provider build lists in its contract but does not serve."""

    status = "UNIMPLEMENTED"
    hint = "This provider build does not serve the tool yet."


class UnexpectedResponse(ExchangeError):
    """The answer was not the JSON Binance documents (e.g. an HTML error page)."""

    status = "INTERNAL"
    retry_safe = False
    hint = "The exchange returned something unexpected; check the environment URL."


# --- Binance error body -> class ----------------------------------------------------------

_INVALID_ARGUMENT_CODES = frozenset(
    {-1100, -1101, -1102, -1103, -1104, -1105, -1106, -1111, -1114, -1115, -1116, -1117,
     -1118, -1119, -1120, -1122, -1125, -1127, -1128, -1130, -1134, -1139, -1145, -1151,
     -1014, -1020, -2039}
)
_EXECUTION_UNKNOWN_CODES = frozenset({-1000, -1001, -1006, -1007})

_HINTS: dict[int, str] = {
    -1003: "Too much request weight; wait retry_after seconds. Prefer streams to polling.",
    -1007: "Backend timeout: execution status unknown. Query the order before any retry.",
    -1008: "Server busy; retry a read in a few seconds.",
    -1013: "Filter failure: round price to tickSize, quantity to stepSize, check min notional.",
    -1015: "Too many new orders (unfilled order count); wait for the window to pass.",
    -1021: "Timestamp outside recvWindow: the clock offset was re-measured; send again.",
    -1022: "Signature invalid: check the API secret / private key belongs to this API key.",
    -1100: "Illegal characters: decimals must be plain strings like '0.001', ids [A-Za-z0-9-_].",
    -1102: "A mandatory parameter is missing or malformed; see binance_msg for its name.",
    -1106: "A parameter was sent that this order type does not take (e.g. timeInForce on MARKET).",
    -1111: "Too much precision: round to the symbol's tickSize / stepSize.",
    -1120: "Invalid kline interval; use 1s 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M.",
    -1121: "Invalid symbol: use an exchangeInfo symbol in upper case, e.g. BTCUSDT.",
    -2010: "Order rejected by the matching engine; binance_msg says why (balance, would take...).",
    -2011: "Cancel rejected: the order is unknown or already closed; query it first.",
    -2013: "Order does not exist: check symbol and order id / client order id.",
    -2014: "API key format invalid: check the configured key.",
    -2015: "Invalid API key, IP or permissions: check the key, its IP whitelist and permissions.",
}


def _hint_for(code: int | None, msg: str) -> str | None:
    if code == -2010 and "insufficient balance" in msg.lower():
        return "Insufficient balance: lower the quantity or free locked funds (cancel orders)."
    return _HINTS.get(code) if code is not None else None


#: Binance's longest IP ban (bans scale from 2 minutes to 3 days): a longer Retry-After is cut to it
LONGEST_BAN_S = 3 * 24 * 3600.0


def usable_retry_after(retry_after_s: float | None) -> float | None:
    """A Retry-After in seconds, None unless it is a finite number >= 0: "inf" would stop every call
    until a restart, "nan" would ignore the refusal (the header is the exchange's to write). A finite
    value past the longest ban Binance gives (3 days) is cut to it: "1e9" would stop calls for 31 years."""
    if retry_after_s is None or not 0 <= retry_after_s < math.inf:
        return None
    return min(retry_after_s, LONGEST_BAN_S)


#: a 418 without a usable Retry-After is taken as Binance's shortest ban
SHORTEST_BAN_S = 120.0


def ban_length_s(retry_after_s: float | None) -> float:
    """How long a 418 bans: its usable Retry-After (0: a ban already over), else the shortest ban."""
    usable = usable_retry_after(retry_after_s)
    return SHORTEST_BAN_S if usable is None else usable


def from_binance(
    http_status: int,
    code: int | None,
    msg: str | None,
    *,
    mutating: bool,
    retry_after_s: float | None = None,
    now_s: float | None = None,
) -> ProviderError:
    """Translate one Binance error answer (HTTP status + ``{code,msg}``) into the tree.

    ``mutating`` marks calls that change state (orders, cancels): their ambiguous failures
    (5xx, -1006, -1007) become :class:`ExecutionUnknown` instead of a retry-safe unavailability
    (spec §1.4: "5XX: execution status UNKNOWN — do not treat as failure").
    """
    text = msg or f"HTTP {http_status}"
    kw: dict[str, Any] = {"binance_code": code, "binance_msg": msg, "hint": _hint_for(code, text)}
    retry_after_s = usable_retry_after(retry_after_s)
    if http_status == 418:
        until = now_s + ban_length_s(retry_after_s) if now_s is not None else None
        return IpBanned(
            f"IP banned by the exchange: {text}",
            retry_after_s=retry_after_s,
            banned_until_s=until,
            **kw,
        )
    if code == -1015:
        kw["hint"] = OrderRateLimited.hint
        return OrderRateLimited(f"too many new orders: {text}", retry_after_s=retry_after_s, **kw)
    if http_status == 451:
        return RestrictedLocation(f"restricted location (HTTP 451): {text}", **{**kw, "hint": RestrictedLocation.hint})
    if http_status == 403 and code is None:
        return WafBlocked(
            f"blocked by the exchange's firewall (HTTP 403): {text}",
            retry_after_s=retry_after_s if retry_after_s is not None else 60.0,
            **{**kw, "hint": WafBlocked.hint},
        )
    if http_status == 429 or code == -1003:
        return RateLimited(f"rate limited: {text}", retry_after_s=retry_after_s, **kw)
    if http_status >= 500 or code in _EXECUTION_UNKNOWN_CODES or code == -1008:
        if mutating:  # even -1008 "busy": a 5xx says nothing certain about execution (§1.4)
            return ExecutionUnknown(f"execution status unknown: {text}", **kw)
        return ExchangeUnavailable(f"exchange error: {text}", **kw)
    if code == -1021:
        return TimestampRejected(f"timestamp rejected: {text}", **kw)
    if code in (-1022, -2014) or (http_status == 401 and code is None):
        return Unauthenticated(f"authentication failed: {text}", **kw)
    if code in (-2015, -1002) or http_status in (401, 403):
        return PermissionDenied(f"permission denied: {text}", **kw)
    if code == -1121:
        return UnknownSymbol(f"unknown symbol: {text}", **kw)
    if code == -1013:
        return FilterViolation(f"filter failure: {text}", **kw)
    if code in (-2013, -2026) or (code == -2011 and "unknown order" in text.lower()):
        return NotFound(f"not found: {text}", **kw)
    if code == -2011:
        return CancelRejected(f"cancel rejected: {text}", **kw)
    if code == -2010:
        lowered = text.lower()
        if any(s in lowered for s in ("market is closed", "disabled on this account",
                                      "may not place or cancel", "trading is not enabled")):
            return TradingDisabled(f"trading disabled: {text}", **kw)
        return OrderRejected(f"order rejected: {text}", **kw)
    if code == -1220:
        return FailedPrecondition(f"symbol status mismatch: {text}", **kw)
    if http_status == 404 and code is None:
        return UnexpectedResponse(
            f"endpoint not found (HTTP 404): {text}",
            hint="This environment does not serve the endpoint; check the REST base URL.", **{
                k: v for k, v in kw.items() if k != "hint"})
    if code in _INVALID_ARGUMENT_CODES or 400 <= http_status < 500:
        return InvalidArgument(f"invalid request: {text}", **kw)
    return UnexpectedResponse(f"unexpected answer HTTP {http_status}: {text}", **kw)
