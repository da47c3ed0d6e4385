"""The placement state machine of one order request; pure (times are passed in, no I/O).

States and what moves them (``TRANSITIONS``, the table that drives :class:`Placement`)::

    SENDING --accepted--> PLACED           the exchange answered: the order exists
    SENDING --rejected--> REJECTED         the exchange answered: it does not
    SENDING --answer_lost--> UNKNOWN       timeout, 5xx, -1006/-1007: it may exist
    UNKNOWN --found--> EXISTS              a lookup by client order id found it
    UNKNOWN --not_found_early--> UNKNOWN   not there yet, but the exchange may still execute it
    UNKNOWN --not_found_final--> ABSENT    not there, and the exchange can no longer execute it
    UNKNOWN --lookup_failed--> UNKNOWN

Rule 1 (Binance, spec §1.7): the matching engine refuses a request once server time is past
``timestamp + recvWindow``. A request whose answer was lost may therefore still execute until
then, and a lookup that does not find it proves nothing before that moment.
Rule 2: "absent" is concluded only from a lookup sent when server time was already past
``timestamp + recvWindow + margin``; the margin covers the uncertainty of our server-clock estimate.
Rule 3: until then the outcome is UNKNOWN, with the time (``known_at_ms``) after which a lookup is
definitive; a client order id only protects while its order is open (Binance accepts a reused id
once the first order is closed), so a filled MARKET order is not protected by the id alone.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

__all__ = ["LOOKUP_DELAYS_MS", "TRANSITIONS", "InvalidTransition", "Placement", "State", "Trigger"]


class State(enum.Enum):
    SENDING = "SENDING"
    PLACED = "PLACED"
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"
    EXISTS = "EXISTS"
    ABSENT = "ABSENT"


class Trigger(enum.Enum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    ANSWER_LOST = "answer_lost"
    FOUND = "found"
    NOT_FOUND_EARLY = "not_found_early"
    NOT_FOUND_FINAL = "not_found_final"
    LOOKUP_FAILED = "lookup_failed"


TRANSITIONS: dict[tuple[State, Trigger], State] = {
    (State.SENDING, Trigger.ACCEPTED): State.PLACED,
    (State.SENDING, Trigger.REJECTED): State.REJECTED,
    (State.SENDING, Trigger.ANSWER_LOST): State.UNKNOWN,
    (State.UNKNOWN, Trigger.FOUND): State.EXISTS,
    (State.UNKNOWN, Trigger.NOT_FOUND_EARLY): State.UNKNOWN,
    (State.UNKNOWN, Trigger.NOT_FOUND_FINAL): State.ABSENT,
    (State.UNKNOWN, Trigger.LOOKUP_FAILED): State.UNKNOWN,
}
FINAL = frozenset({State.PLACED, State.REJECTED, State.EXISTS, State.ABSENT})

#: pauses between lookups while the outcome is unknown (the last one repeats).
LOOKUP_DELAYS_MS = (250, 500, 1000, 2000)


class InvalidTransition(Exception):
    """A trigger that the table does not allow in the current state (a bug in the caller)."""


@dataclass
class Placement:
    """One order request's outcome as far as it is known.

    Args:
        client_order_id: the id every answer carries.
        recv_window_ms: the recvWindow the request was signed with.
        margin_ms: added to ``timestamp + recvWindow`` before a miss counts as final (clock error).
    """

    client_order_id: str
    recv_window_ms: int
    margin_ms: int
    state: State = State.SENDING
    known_at_ms: int | None = None
    lookups: int = 0
    history: list[State] = field(default_factory=list)

    @property
    def final(self) -> bool:
        """True once the outcome can no longer change."""
        return self.state in FINAL

    def fire(self, trigger: Trigger) -> State:
        """Moves along ``TRANSITIONS``.

        Raises:
            InvalidTransition: the table has no such move from the current state.
        """
        nxt = TRANSITIONS.get((self.state, trigger))
        if nxt is None:
            raise InvalidTransition(f"{trigger.value} is not allowed in state {self.state.value}")
        self.history.append(self.state)
        self.state = nxt
        return nxt

    def answer_lost(self, request_timestamp_ms: int) -> None:
        """The request signed at ``request_timestamp_ms`` (server clock) got no usable answer."""
        self.known_at_ms = request_timestamp_ms + self.recv_window_ms + self.margin_ms
        self.fire(Trigger.ANSWER_LOST)

    def looked_up(self, found: bool, sent_at_server_ms: int) -> State:
        """A lookup by client order id, sent at ``sent_at_server_ms`` (server clock), answered."""
        self.lookups += 1
        if found:
            return self.fire(Trigger.FOUND)
        assert self.known_at_ms is not None
        late = sent_at_server_ms > self.known_at_ms
        return self.fire(Trigger.NOT_FOUND_FINAL if late else Trigger.NOT_FOUND_EARLY)

    def lookup_failed(self) -> State:
        """A lookup itself failed (the exchange did not answer it)."""
        self.lookups += 1
        return self.fire(Trigger.LOOKUP_FAILED)

    def next_lookup_in_ms(self, server_now_ms: int) -> int:
        """How long to wait before the next lookup: backed off, and never past the moment a miss
        becomes final (so the definitive lookup is not delayed)."""
        assert self.known_at_ms is not None
        delay = LOOKUP_DELAYS_MS[min(max(self.lookups - 1, 0), len(LOOKUP_DELAYS_MS) - 1)]
        until_final = self.known_at_ms - server_now_ms + 1
        return max(0, min(delay, until_final)) if until_final > 0 else delay
