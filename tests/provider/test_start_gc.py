"""`python -m provider` imports and builds with the cyclic collector off (provider/__main__.py); once
SERVING, `serve` freezes what start-up built and turns the collector back on."""

import gc

from provider.server import _end_start_up


def test_a_start_with_the_collector_off_ends_with_it_on_and_start_up_frozen() -> None:
    gc.disable()
    try:
        _end_start_up()
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.enable()


def test_a_collector_left_on_by_whoever_called_serve_is_not_touched() -> None:
    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    _end_start_up()
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen
