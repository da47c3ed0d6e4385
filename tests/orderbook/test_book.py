"""Unit tests of the sans-I/O book core (Rules 1-5 of provider/orderbook/book.py)."""

from decimal import Decimal

import pytest

from provider.orderbook.book import BookError, DiffOutcome, OrderBook, Side

D = Decimal


def snapshot_book(**kw: object) -> OrderBook:
    book = OrderBook(**kw)  # type: ignore[arg-type]
    book.apply_snapshot(
        100,
        [["0.00000010", "5"], ["0.00000009", "1.5"], ["0.00000008", "2"]],
        [["0.00000011", "3"], ["0.00000012", "4"], ["0.00000013", "7"]],
    )
    return book


def test_snapshot_keeps_satoshi_prices_exact_and_sorted() -> None:
    book = snapshot_book()
    assert book.last_update_id == 100
    assert book.bids(2) == [(D("0.00000010"), D(5)), (D("0.00000009"), D("1.5"))]
    assert book.asks(10)[0] == (D("0.00000011"), D(3))
    assert [p for p, _ in book.asks(10)] == sorted(p for p, _ in book.asks(10))
    assert f"{book.bids(1)[0][0]:f}" == "0.00000010"  # exact digits survive, no float


def test_diff_sets_absolute_quantity_and_zero_removes_even_unknown_levels() -> None:
    book = snapshot_book()
    out = book.apply_diff(101, 103, [["0.00000010", "0"], ["0.00000007", "1"]],
                          [["0.00000012", "9"], ["0.00000020", "0.00000000"]])
    assert out is DiffOutcome.APPLIED
    assert book.last_update_id == 103
    assert book.best_bid() == (D("0.00000009"), D("1.5"))
    assert book.quantity(Side.ASK, D("0.00000012")) == D(9)
    assert book.quantity(Side.ASK, D("0.00000020")) is None
    assert book.depth(Side.BID) == 3


def test_stale_and_gap_events_change_nothing() -> None:
    book = snapshot_book()
    before = book.levels(10)
    assert book.apply_diff(90, 100, [["0.00000010", "0"]], []) is DiffOutcome.STALE
    assert book.apply_diff(102, 105, [["0.00000010", "0"]], []) is DiffOutcome.GAP
    assert book.levels(10) == before and book.last_update_id == 100


def test_bridging_event_that_starts_before_the_snapshot_is_applied() -> None:
    book = snapshot_book()
    assert book.apply_diff(95, 101, [["0.00000010", "6"]], []) is DiffOutcome.APPLIED
    assert book.best_bid() == (D("0.00000010"), D(6))


def test_crossing_diff_is_reverted_and_reported_when_settled() -> None:
    book = snapshot_book()
    before = book.levels(10)
    out = book.apply_diff(101, 101, [["0.00000009", "0"], ["0.00000009", "3"],
                                     ["0.00000012", "1"]], [])
    assert out is DiffOutcome.APPLIED  # recorded (Rule 6); checked when settled (Rule 7)
    assert book.settle() is DiffOutcome.CROSSED
    assert book.levels(10) == before
    assert book.last_update_id == 100
    assert not book.is_crossed()
    assert book.take_failure() is DiffOutcome.CROSSED and book.take_failure() is None


def test_a_read_settles_and_never_shows_a_crossed_book() -> None:
    book = snapshot_book()
    before = book.levels(10)
    book.apply_diff(101, 101, [["0.00000012", "1"]], [])
    assert book.levels(10) == before and book.failure is DiffOutcome.CROSSED


@pytest.mark.parametrize("bad", [["x", "1"], ["1", "-1"], ["0", "1"], ["NaN", "1"],
                                 ["1", "Infinity"], ["1e-30", "1"]])
def test_malformed_levels_never_reach_the_book(bad: list[str]) -> None:
    book = snapshot_book()
    before = book.levels(10)
    assert book.apply_diff(101, 101, [["0.00000010", "1"], bad], []) is DiffOutcome.APPLIED
    assert book.settle() is DiffOutcome.MALFORMED
    assert book.levels(10) == before and book.last_update_id == 100


@pytest.mark.parametrize("bad", [["1"], ["1", "2", "3"], 7])
def test_a_level_that_is_not_a_pair_raises_and_leaves_the_book_alone(bad: object) -> None:
    book = snapshot_book()
    before = book.levels(10)
    with pytest.raises(BookError):
        book.apply_diff(101, 101, [["0.00000010", "1"], bad], [])  # type: ignore[list-item]
    assert book.levels(10) == before and book.last_update_id == 100


def test_two_spellings_of_one_price_in_one_window_are_refused() -> None:
    book = snapshot_book()
    book.apply_diff(101, 101, [["0.00000010", "1"]], [])
    book.apply_diff(102, 102, [["0.0000001", "2"]], [])
    assert book.settle() is DiffOutcome.MALFORMED


def test_more_decimals_rescale_exactly_and_values_stay_exact() -> None:
    book = OrderBook()
    book.apply_snapshot(1, [["10.5", "1"]], [["11", "2.25"]])
    book.apply_diff(2, 2, [["10.55", "0.000000001"]], [["10.875", "3"]])
    assert book.levels(5) == ([(D("10.55"), D("0.000000001")), (D("10.5"), D(1))],
                              [(D("10.875"), D(3)), (D(11), D("2.25"))])
    assert book.quantity(Side.ASK, D("11.000")) == D("2.25")
    assert book.quantity(Side.ASK, D("11.0001")) is None


def test_big_overlays_settle_by_themselves_and_report_failures_from_apply() -> None:
    book = snapshot_book()
    outcome = DiffOutcome.APPLIED
    for i in range(1, 600):  # distinct bids below the best: the overlay outgrows its bound
        outcome = book.apply_diff(100 + i, 100 + i, [[f"0.{i:08d}", "1"]], [])
        if outcome is not DiffOutcome.APPLIED:
            break
    assert outcome is DiffOutcome.CROSSED  # bids up to 0.00000599 cross the asks at 0.00000011
    assert book.last_update_id == 100 and not book.is_crossed()


def test_diff_before_snapshot_raises() -> None:
    with pytest.raises(BookError):
        OrderBook().apply_diff(1, 1, [], [])


def test_cut_snapshot_marks_the_unknown_depth() -> None:
    book = OrderBook()
    book.apply_snapshot(1, [["10", "1"], ["9", "1"]], [["11", "1"]], depth_limit=2)
    assert book.bid_floor == D(9) and book.ask_ceiling is None
    book.apply_diff(2, 2, [["8", "1"]], [])
    assert book.depth(Side.BID) == 3
    assert book.exact_depth(Side.BID) == 2
    assert book.exact_depth(Side.ASK) == 1


def test_trimming_keeps_the_best_levels_and_marks_the_boundary() -> None:
    book = OrderBook(max_levels=2)
    book.apply_snapshot(1, [["10", "1"], ["9", "1"], ["8", "1"]],
                        [["11", "1"], ["12", "1"], ["13", "1"]])
    assert book.bids(5) == [(D(10), D(1)), (D(9), D(1))]
    assert book.ask_ceiling == D(12)
    book.apply_diff(2, 2, [["10", "0"]], [])
    assert book.exact_depth(Side.BID) == 1  # 9 is known; below it, 8 was trimmed away


def test_copy_is_independent() -> None:
    book = snapshot_book()
    frozen = book.copy()
    book.apply_diff(101, 101, [["0.00000010", "0"]], [])
    assert frozen.best_bid() == (D("0.00000010"), D(5))
    assert frozen.last_update_id == 100
