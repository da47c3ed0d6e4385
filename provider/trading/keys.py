"""Key hygiene: may this API key be used to trade? A pure verdict over what the exchange says the key
can do (``GET /sapi/v1/account/apiRestrictions``), the environment and the operator's override.

Rule 1: a key that can withdraw is refused: anyone who reads the provider's environment could move
the funds off the exchange. Rule 2: on mainnet a key without an IP whitelist is refused: it works
from anywhere it leaks to. Rule 3: a key whose permissions cannot be read is refused on mainnet (we
cannot tell); on testnet and the sandbox it is allowed with a note (the testnet serves no ``/sapi``).
Rule 4: ``BINANCE_ALLOW_RISKY_KEY=true`` lifts rules 1-3, loudly. Rule 5: a key that cannot trade
spot is refused whatever the override (the exchange would refuse every order anyway).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["KeyVerdict", "describe", "judge"]


@dataclass(frozen=True)
class KeyVerdict:
    """Whether to trade with the key, and why (one sentence per problem)."""

    allowed: bool
    problems: tuple[str, ...] = ()
    overridden: bool = False
    permissions: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""

    def message(self) -> str:
        if not self.problems:
            return self.note or "the key can trade and cannot withdraw"
        return "; ".join(self.problems)


def describe(restrictions: Mapping[str, Any]) -> str:
    """The permissions that matter, in one line."""

    def yes(name: str) -> str:
        return "yes" if restrictions.get(name) else "no"

    return (
        f"spot trading {yes('enableSpotAndMarginTrading')}, withdrawals {yes('enableWithdrawals')}, "
        f"IP whitelist {yes('ipRestrict')}, reading {yes('enableReading')}"
    )


def judge(
    restrictions: Mapping[str, Any] | None, *, mainnet: bool, override: bool, error: str | None = None
) -> KeyVerdict:
    """The verdict of rules 1-5 (``restrictions`` None when they could not be read: ``error`` says why)."""
    if restrictions is None:
        if not mainnet:
            return KeyVerdict(True, note=f"the key's permissions could not be read ({error}); allowed off mainnet")
        problem = (
            f"the key's permissions could not be read ({error}), so it is not known whether it can "
            "withdraw or is IP-restricted"
        )
        return KeyVerdict(override, (problem,), overridden=override)
    if restrictions.get("enableSpotAndMarginTrading") is False:
        return KeyVerdict(
            False,
            (
                "the key cannot trade spot (enableSpotAndMarginTrading false): enable "
                "'Spot & Margin Trading' for it on Binance",
            ),
            permissions=restrictions,
        )
    problems = []
    if restrictions.get("enableWithdrawals"):
        problems.append("the key can WITHDRAW funds: create a key with withdrawals disabled")
    if mainnet and not restrictions.get("ipRestrict"):
        problems.append("the key has no IP whitelist on mainnet: restrict it to this host's IP address")
    if not problems:
        return KeyVerdict(True, permissions=restrictions, note=describe(restrictions))
    return KeyVerdict(override, tuple(problems), overridden=override, permissions=restrictions)
