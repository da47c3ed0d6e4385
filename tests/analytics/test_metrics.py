"""Hand-computed checks of every analytics number."""

from decimal import Decimal

import pytest

from provider.analytics import METRIC_DEFINITIONS, L1Metrics, dec_str, l1_metrics, l2_levels, vwap
from provider.orderbook.book import OrderBook

D = Decimal
BIDS = [(D(100), D(2)), (D(99), D(5)), (D(98), D(10))]
ASKS = [(D(101), D(1)), (D(102), D(4)), (D(105), D(20))]


def test_top_of_book_mid_spread_in_bps_of_mid_and_microprice() -> None:
    m = l1_metrics(BIDS, ASKS)
    assert (m.best_bid, m.best_bid_qty, m.best_ask, m.best_ask_qty) == (D(100), D(2), D(101), D(1))
    assert m.mid == D("100.5")
    assert m.spread == D(1)
    assert m.spread_bps == pytest.approx(1 / 100.5 * 10_000)  # 99.50 bps, of the mid
    assert m.microprice == (D(100) * 1 + D(101) * 2) / 3  # leans to the ask: more bid size
    assert float(m.microprice) == pytest.approx(100.6667, abs=1e-4)


def test_imbalance_over_n_levels_is_normalised() -> None:
    assert l1_metrics(BIDS, ASKS, imbalance_levels=2).imbalance == pytest.approx(2 / 12)
    assert l1_metrics(BIDS, ASKS, imbalance_levels=10).imbalance == pytest.approx(-8 / 42)
    assert l1_metrics([], ASKS).imbalance == -1.0
    assert l1_metrics([], []).imbalance is None


def test_depth_bands_count_levels_within_bps_of_mid() -> None:
    bands = l1_metrics(BIDS, ASKS, bands_bps=(10, 100, 300)).depth_bands
    assert [b.bps for b in bands] == [10, 100, 300]
    assert (bands[0].bid_base, bands[0].ask_base) == (D(0), D(0))
    assert (bands[1].bid_base, bands[1].bid_quote, bands[1].ask_base, bands[1].ask_quote) == (
        D(2), D(200), D(1), D(101))
    assert (bands[2].bid_base, bands[2].bid_quote, bands[2].ask_base, bands[2].ask_quote) == (
        D(17), D(1675), D(5), D(509))


def test_walls_are_the_largest_levels_with_distance_from_mid() -> None:
    m = l1_metrics(BIDS, ASKS, walls_top=2)
    assert [(w.price, w.qty) for w in m.bid_walls] == [(D(98), D(10)), (D(99), D(5))]
    assert [(w.price, w.quote) for w in m.ask_walls] == [(D(105), D(2100)), (D(102), D(408))]
    assert m.bid_walls[0].distance_bps == pytest.approx(2.5 / 100.5 * 10_000)


def test_vwap_and_slippage_for_a_base_quantity() -> None:
    m = l1_metrics(BIDS, ASKS, vwap_base_qty=D(3))
    buy, sell = m.vwap_buy, m.vwap_sell
    assert buy is not None and sell is not None
    assert buy.vwap == D(305) / 3 and buy.worst_price == D(102) and buy.levels_used == 2
    assert buy.complete and buy.filled_base == D(3) and buy.filled_quote == D(305)
    assert buy.slippage_bps_vs_mid == pytest.approx((305 / 3 - 100.5) / 100.5 * 10_000)
    assert buy.slippage_bps_vs_best == pytest.approx((305 / 3 - 101) / 101 * 10_000)
    assert sell.vwap == D(299) / 3
    assert sell.slippage_bps_vs_mid == pytest.approx((100.5 - 299 / 3) / 100.5 * 10_000)
    assert sell.slippage_bps_vs_best == pytest.approx((100 - 299 / 3) / 100 * 10_000)


def test_vwap_for_a_quote_amount() -> None:
    buy = vwap(ASKS, "buy", quote_amount=D(305), mid=D("100.5"))
    assert buy.filled_base == D(3) and buy.filled_quote == D(305) and buy.complete
    half = vwap(ASKS, "buy", quote_amount=D("50.5"))
    assert half.filled_base == D("0.5") and half.vwap == D(101) and half.slippage_bps_vs_mid is None


def test_vwap_reports_an_order_larger_than_the_book() -> None:
    buy = vwap(ASKS, "buy", base_qty=D(100))
    assert not buy.complete
    assert (buy.filled_base, buy.filled_quote, buy.levels_used) == (D(25), D(2609), 3)
    empty = vwap([], "sell", base_qty=D(1))
    assert not empty.complete and empty.vwap is None


@pytest.mark.parametrize("kw", [{}, {"base_qty": D(1), "quote_amount": D(1)}, {"base_qty": D(0)}])
def test_vwap_rejects_ambiguous_or_empty_sizes(kw: dict[str, Decimal]) -> None:
    with pytest.raises(ValueError):
        vwap(ASKS, "buy", **kw)


def test_one_sided_book_has_no_mid_but_keeps_the_rest() -> None:
    m = l1_metrics(BIDS, [], vwap_base_qty=D(1))
    assert m.mid is None and m.spread is None and m.microprice is None
    assert m.depth_bands == () and m.best_bid == D(100)
    assert m.vwap_sell is not None and m.vwap_sell.slippage_bps_vs_mid is None


def test_every_metric_field_has_a_one_line_definition() -> None:
    fields = set(L1Metrics.__dataclass_fields__) - {
        "best_bid_qty", "best_ask_qty", "imbalance_levels", "bid_walls", "ask_walls",
        "vwap_buy", "vwap_sell"}
    assert fields <= set(METRIC_DEFINITIONS)
    assert {"walls", "vwap", "slippage_bps_vs_mid", "complete"} <= set(METRIC_DEFINITIONS)
    assert all("\n" not in text and text for text in METRIC_DEFINITIONS.values())


def test_l2_levels_are_plain_decimal_strings_even_below_one_cent() -> None:
    book = OrderBook()
    book.apply_snapshot(1, [["0.00000010", "12.50000000"], ["0.00000009", "1.00000000"]],
                        [["0.00000011", "100.00000000"]])
    # Binance spells every price and quantity of a symbol with the same decimals; so does the book.
    assert l2_levels(book, 1) == {
        "bids": [["0.00000010", "12.50000000"]], "asks": [["0.00000011", "100.00000000"]]}
    assert dec_str(D("1E+2")) == "100"
    with pytest.raises(ValueError):
        l2_levels(book, 0)
