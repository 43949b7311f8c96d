"""Inline SVG charts of the backtest report, drawn from numpy arrays without a plotting library.

The report must be one self-contained file a trader can mail or archive, so its charts are
SVG text written here: no matplotlib (not a dependency), no script, no external style. Charts
use the page's CSS classes (``.grid``, ``.tick`` ...) so that the markup stays small, and every
coordinate is rounded to 0.1 of a viewBox unit.

Long series are reduced with :func:`min_max_downsample` (the lowest and the highest value of
each pixel column, in time order) before they are drawn: a year of M30 TDI is ~12,500 bars per
cluster, far more than the ~1,100 pixel columns of a chart, and min/max per column keeps every
spike a plain stride would drop.

- :mod:`.scales`: the plot frame, linear scales, axis ticks and their labels;
- :mod:`.paths`: series to path data, and the min/max downsampling;
- :mod:`.elements`: text, lines, rectangles, axes;
- :mod:`.equity`, :mod:`.tdi`, :mod:`.bars`: the three charts.
"""

from app.report.svg.bars import bar_chart
from app.report.svg.elements import CHART_WIDTH
from app.report.svg.equity import equity_chart
from app.report.svg.paths import min_max_downsample, path_data, step_path_data
from app.report.svg.scales import (
    Frame,
    LinearScale,
    money_tick_labels,
    nice_ticks,
    padded_range,
    percent_tick_labels,
    time_ticks,
)
from app.report.svg.tdi import Bands, TradeMark, tdi_chart, tdi_limit

__all__ = [
    "CHART_WIDTH",
    "Bands",
    "Frame",
    "LinearScale",
    "TradeMark",
    "bar_chart",
    "equity_chart",
    "min_max_downsample",
    "money_tick_labels",
    "nice_ticks",
    "padded_range",
    "path_data",
    "percent_tick_labels",
    "step_path_data",
    "tdi_chart",
    "tdi_limit",
    "time_ticks",
]
