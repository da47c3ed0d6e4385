"""WebSocket API request core (`/ws-api/v3`; spec §1.9, §8.1, `web-socket-api.md`), sans-I/O.

`handle(sim, session, text, now_ms) -> Answer` turns one text frame into its response frame; the
shell (`simulator/wsapi_hub.py`) only moves frames. Time is an argument; the session is plain data.

Rules of this file:
1. A request is one JSON object `{"id", "method", "params"}`. `id` is an integer, a string
   matching `^[a-zA-Z0-9-_]{1,36}$`, or null; `params` may be omitted; `method` may carry the
   `v3/` prefix.
2. Envelope errors are answered with status 400 and no `rateLimits`: text that is not a JSON
   object -> -1135 "Invalid JSON Request" (`id` null); a bad `id` -> -1135 with Binance's
   observed message (`id` null); a bad `params` -> -1135; no `method` -> -1102; an unknown
   method -> -1100 naming the methods the sandbox serves.
3. Method answers: `{"id", "status": 200, "result", "rateLimits"}` or `{"id", "status": 4xx,
   "error": {"code", "msg"[, "data"]}, "rateLimits"}`; `rateLimits` (REQUEST_WEIGHT of the shared
   IP limiter) is left out when `returnRateLimits` is false (per request, or in the URL).
4. Pipeline of a method: request weight (429/418 with `data.serverTime`/`data.retryAfter`) ->
   for signed methods `apiKey` (-1102, -2014/-2015 HTTP 401), `timestamp`, `signature`
   (-1022 over the §1.9 payload), timestamp window (-1021) -> unread parameters (-1104,
   strict mode) -> the method.
5. One account: a connection holds at most one active user data stream subscription (-2035);
   ids count up from 0 per connection, at most 65,535 over its lifetime (-2042).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from simulator.auth import BAD_SIGNATURE, api_key_kind, check_timestamp, verify, ws_signature_payload
from simulator.errors import ApiError, mandatory
from simulator.params import Params
from simulator.state import Sim

ID_RE = re.compile(r"^[a-zA-Z0-9_-]{1,36}$")
VERSION_PREFIX = "v3/"
MAX_SUBSCRIPTION_IDS = 65_535
MINUTE_MS = 60_000
INVALID_JSON = "Invalid JSON Request"
BAD_ID = ("Invalid 'id' in JSON request; expected an integer, a string matching "
          "'^[a-zA-Z0-9-_]{1,36}$', or null.")
BAD_PARAMS = "Invalid 'params' in JSON request; expected an object."
SIGNED = ("apiKey", "signature", "timestamp", "recvWindow")
ALWAYS_READ = frozenset({"returnRateLimits"})


class EnvelopeError(Exception):
    """A frame refused before its method runs (rule 2)."""

    def __init__(self, request_id: Any, error: ApiError) -> None:
        super().__init__(error.msg)
        self.request_id = request_id
        self.error = error


@dataclass
class WsApiSession:
    """One connection's authentication and user data stream subscriptions (plain data)."""

    connected_since: int
    return_rate_limits: bool = True
    """The connection default for `rateLimits` (URL `returnRateLimits=false` turns it off)."""
    api_key: str | None = None
    authorized_since: int | None = None
    subscriptions: dict[int, bool] = field(default_factory=dict)
    """Active subscription id -> True when `userDataStream.subscribe` (the logon key) made it."""
    next_subscription_id: int = 0

    def status(self, now_ms: int) -> dict[str, Any]:
        """The result of `session.logon`, `session.status` and `session.logout`."""
        return {
            "apiKey": self.api_key,
            "authorizedSince": self.authorized_since,
            "connectedSince": self.connected_since,
            "returnRateLimits": self.return_rate_limits,
            "serverTime": now_ms,
            "userDataStream": bool(self.subscriptions),
        }

    def subscribe(self, logon: bool) -> int:
        """A new subscription id, or -2035 (one account, already subscribed) / -2042."""
        if self.subscriptions:
            raise ApiError(-2035, "User Data Stream subscription already active.")
        if self.next_subscription_id >= MAX_SUBSCRIPTION_IDS:
            raise ApiError(-2042, "Maximum subscription ID reached for this connection.")
        sid = self.next_subscription_id
        self.next_subscription_id += 1
        self.subscriptions[sid] = logon
        return sid

    def unsubscribe(self, sid: int | None) -> list[int]:
        """End one subscription (or all with `sid` None); -2036 when there is nothing to end."""
        ended = sorted(self.subscriptions) if sid is None else [sid]
        if not ended or any(s not in self.subscriptions for s in ended):
            raise ApiError(-2036, "User Data Stream subscription not active.")
        for s in ended:
            del self.subscriptions[s]
        return ended

    def end(self, logon_only: bool = False) -> list[int]:
        """End the subscriptions (only the logon one after `session.logout`); their ids."""
        ended = sorted(s for s, logon in self.subscriptions.items() if logon or not logon_only)
        for s in ended:
            del self.subscriptions[s]
        return ended


@dataclass
class Answer:
    """The response frame, and the subscriptions the request ended (the shell then sends each
    an `eventStreamTerminated`, after the response)."""

    frame: dict[str, Any]
    terminated: list[int] = field(default_factory=list)


@dataclass
class Call:
    """What a method handler works with."""

    sim: Sim
    session: WsApiSession
    params: Params
    now_ms: int
    terminated: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Method:
    """One WebSocket API method: handler, weight and the parameters it reads (data, rule 4)."""

    handler: Callable[[Call], Any]
    weight: int
    params: tuple[str, ...] = ()
    signed: bool = False
    ed25519_only: bool = False
    """`session.logon`: only Ed25519 keys can log on (an HMAC key fails its signature, -1022)."""

    def reads(self) -> frozenset[str]:
        return frozenset(self.params) | ALWAYS_READ


# ------------------------------------------------------------------ methods


def _ping(call: Call) -> dict[str, Any]:
    return {}


def _time(call: Call) -> dict[str, Any]:
    return {"serverTime": call.now_ms}


def _logon(call: Call) -> dict[str, Any]:
    call.session.api_key = call.params.str_req("apiKey")
    call.session.authorized_since = call.now_ms
    return call.session.status(call.now_ms)


def _status(call: Call) -> dict[str, Any]:
    return call.session.status(call.now_ms)


def _logout(call: Call) -> dict[str, Any]:
    call.session.api_key = None
    call.session.authorized_since = None
    call.terminated.extend(call.session.end(logon_only=True))
    return call.session.status(call.now_ms)


def _subscriptions(call: Call) -> list[dict[str, int]]:
    return [{"subscriptionId": s} for s in sorted(call.session.subscriptions)]


def _subscribe(call: Call) -> dict[str, Any]:
    if call.session.api_key is None:
        raise ApiError(-1002, "You are not authorized to execute this request.", 401)
    return {"subscriptionId": call.session.subscribe(logon=True)}


def _subscribe_signature(call: Call) -> dict[str, Any]:
    return {"subscriptionId": call.session.subscribe(logon=False)}


def _unsubscribe(call: Call) -> dict[str, Any]:
    call.terminated.extend(call.session.unsubscribe(call.params.int_opt("subscriptionId")))
    return {}


METHODS: dict[str, Method] = {
    "ping": Method(_ping, 1),
    "time": Method(_time, 1),
    "session.logon": Method(_logon, 2, SIGNED, signed=True, ed25519_only=True),
    "session.status": Method(_status, 2),
    "session.logout": Method(_logout, 2),
    "session.subscriptions": Method(_subscriptions, 2),
    "userDataStream.subscribe": Method(_subscribe, 2),
    "userDataStream.subscribe.signature": Method(_subscribe_signature, 2, SIGNED, signed=True),
    "userDataStream.unsubscribe": Method(_unsubscribe, 2, ("subscriptionId",)),
}


# ------------------------------------------------------------------ pipeline


def handle(sim: Sim, session: WsApiSession, text: str, now_ms: int) -> Answer:
    """Answer one request frame (rules 1-4)."""
    try:
        request_id, name, raw = parse_envelope(text)
    except EnvelopeError as err:
        return Answer(error_frame(err.request_id, err.error))
    method = METHODS.get(name.removeprefix(VERSION_PREFIX))
    if method is None:
        return Answer(error_frame(request_id, unknown_method()))
    call = Call(sim, session, to_params(raw), now_ms)
    show_limits = session.return_rate_limits
    try:
        show_limits = call.params.bool_opt("returnRateLimits", show_limits)
        frame = {"id": request_id, "status": 200, "result": run(method, call)}
    except ApiError as err:
        frame = error_frame(request_id, err, retry_after_ms(sim, err, now_ms), now_ms)
    if show_limits:
        frame["rateLimits"] = rate_limits(sim, now_ms)
    return Answer(frame, call.terminated)


def run(method: Method, call: Call) -> Any:
    """Weight, authentication, unread parameters, then the method (rule 4)."""
    call.sim.limiter.reserve(method.weight, call.now_ms)
    if method.signed:
        authenticate(call, method.ed25519_only)
    if call.sim.strict:
        call.params.check_all_read(method.reads())
    return method.handler(call)


def authenticate(call: Call, ed25519_only: bool) -> None:
    """The signed-request checks of §1.7 and §1.9 for a WebSocket API request."""
    creds = call.sim.config.credentials
    params = call.params
    kind = api_key_kind(creds, params.str_req("apiKey"))
    params.int_req("timestamp")
    signature = params.str_req("signature")
    payload = ws_signature_payload(params.values)
    if (ed25519_only and kind != "ED25519") or not verify(creds, kind, payload, signature,
                                                          encoded=False):
        raise ApiError(-1022, BAD_SIGNATURE)
    check_timestamp(params, call.now_ms)


def parse_envelope(text: str) -> tuple[Any, str, dict[str, Any]]:
    """(id, method, params) of a request frame, or `EnvelopeError` (rules 1-2)."""
    try:
        msg = json.loads(text, parse_float=Decimal, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise EnvelopeError(None, ApiError(-1135, INVALID_JSON)) from None
    if not isinstance(msg, dict):
        raise EnvelopeError(None, ApiError(-1135, INVALID_JSON))
    request_id = msg.get("id")
    if not _valid_id(request_id):
        raise EnvelopeError(None, ApiError(-1135, BAD_ID))
    method = msg.get("method")
    if not isinstance(method, str) or not method:
        raise EnvelopeError(request_id, mandatory("method"))
    params = msg.get("params")
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise EnvelopeError(request_id, ApiError(-1135, BAD_PARAMS))
    return request_id, method, params


def _valid_id(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, int) and not isinstance(value, bool):
        return True
    return isinstance(value, str) and ID_RE.match(value) is not None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def to_params(raw: dict[str, Any]) -> Params:
    """JSON parameter values as the text they sign as (§1.9: values as they are, no encoding)."""
    return Params({k: _text(v) for k, v in raw.items()})


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | Decimal):
        return str(value)
    return json.dumps(value, separators=(",", ":"), default=str)


def unknown_method() -> ApiError:
    names = ", ".join(METHODS)
    return ApiError(-1100, f"Illegal characters found in parameter 'method'; legal range is '{names}'.")


def error_frame(request_id: Any, err: ApiError, retry_after: int | None = None,
                now_ms: int | None = None) -> dict[str, Any]:
    """`{"id", "status", "error"}`; 429/418 carry `data: {serverTime, retryAfter}` (§1.9)."""
    error: dict[str, Any] = {"code": err.code, "msg": err.msg}
    if retry_after is not None:
        error["data"] = {"serverTime": now_ms, "retryAfter": retry_after}
    return {"id": request_id, "status": err.status, "error": error}


def retry_after_ms(sim: Sim, err: ApiError, now_ms: int) -> int | None:
    """Epoch ms when a refused request may be retried: the ban's end, else the next window."""
    if err.retry_after is None:
        return None
    if err.status == 418:
        return sim.limiter.banned_until_ms
    return (now_ms // MINUTE_MS + 1) * MINUTE_MS  # weight windows are calendar minutes


def rate_limits(sim: Sim, now_ms: int) -> list[dict[str, Any]]:
    """The REQUEST_WEIGHT status after this request (rule 3)."""
    return [{
        "rateLimitType": "REQUEST_WEIGHT",
        "interval": "MINUTE",
        "intervalNum": 1,
        "limit": sim.limiter.limit,
        "count": sim.limiter.current(now_ms),
    }]


__all__ = ["METHODS", "Answer", "WsApiSession", "handle"]
