"""One user data connection per account across provider replicas (issue 19): the pure rules of what
a follower replays (``provider/shared/account_feed.py``). Provider processes sharing it against the
sandbox: ``tests/orderbook/test_replicas_sandbox.py``."""

from __future__ import annotations

from provider.shared.account_feed import AccountEntry, AccountFollow, Gap, decode, encode


def entry(seq: int, kind: str, fence: int = 1, payload: object = None) -> AccountEntry:
    return AccountEntry(fence, seq, kind, payload)


def test_a_follower_replays_from_a_resync_and_stops_at_a_gap_until_the_next_one() -> None:
    follow = AccountFollow()
    assert follow.feed(entry(7, "e", payload={"e": "x"})) is None  # joined mid-run: wait for a resync
    assert follow.feed(entry(8, "b", payload="subscribed")) == entry(8, "b", payload="subscribed")
    assert follow.feed(entry(9, "s", payload={})) == entry(9, "s", payload={})
    assert follow.feed(entry(10, "h")) is None  # a heartbeat only moves the position
    assert follow.feed(entry(11, "e", payload={})) == entry(11, "e", payload={})
    assert isinstance(follow.feed(entry(13, "e", payload={})), Gap)  # 12 never came
    assert follow.feed(entry(14, "e", payload={})) is None
    assert follow.feed(entry(1, "b", fence=2)) == entry(1, "b", fence=2)  # a new holder's resync
    assert follow.feed(entry(15, "e", fence=1)) is None  # an older fence: ignored
    assert follow.feed(entry(2, "e", fence=2, payload={})) == entry(2, "e", fence=2, payload={})


def test_published_account_entries_survive_their_wire_form() -> None:
    sent = entry(3, "s", payload={"account": {"balances": [{"asset": "USDT", "free": "1.5"}]}, "open_orders": []})
    assert decode(encode(sent)) == sent
