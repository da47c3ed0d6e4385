"""Pure order-book analytics: L1 metrics, depth bands, walls, VWAP/slippage and L2 slices."""

from provider.analytics.l2 import LevelSource, dec_str, l2_levels
from provider.analytics.metrics import (
    METRIC_DEFINITIONS,
    DepthBand,
    L1Metrics,
    Vwap,
    Wall,
    l1_metrics,
    vwap,
)

__all__ = [
    "METRIC_DEFINITIONS",
    "DepthBand",
    "L1Metrics",
    "LevelSource",
    "Vwap",
    "Wall",
    "dec_str",
    "l1_metrics",
    "l2_levels",
    "vwap",
]
