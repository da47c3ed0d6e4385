"""ConnectionBook rule 3: a flood of header-less connections never closes a working client's
kept-alive connection while a never-served one can make room instead."""

from __future__ import annotations

from gateway.connections import ConnectionBook


def test_a_never_served_connection_makes_room_before_a_kept_alive_one() -> None:
    book: ConnectionBook[str] = ConnectionBook(max_total=3, max_per_client=2)
    assert book.open("client", "a").admitted
    book.busy("client")
    book.idle("client")  # served a request, kept alive: the oldest idle connection now
    assert book.open("slow1", "b").admitted and book.open("slow2", "c").admitted
    assert book.open("slow3", "d").close == ("slow1",)  # not the older "client"
    assert book.open("slow4", "e").close == ("slow2",)
    # the same within one address: its never-served connection goes first
    assert book.open("a2", "a").close == ("slow3",)
    assert book.open("a3", "a").close == ("a2",)
    # only kept-alive connections left idle: the oldest of them goes
    book.busy("a3")
    book.idle("a3")
    assert book.open("f1", "f").close == ("slow4",)
    book.busy("f1")  # serving: never closed to make room
    assert book.open("g1", "g").close == ("client",)  # no never-served one idle: the oldest kept-alive
    assert book.open("g2", "g").close == ("g1",)  # g1 never served a request, a3 has
