"""A subscriber's consumption chart: the kWh of their last bills, one bar a period, as a PNG.

matplotlib 3.11 (pinned) lays out complex scripts itself (libraqm, in its wheels): Persian text
is given to it in logical order, as it is stored, and comes out joined and right to left.
Reshaping it first with arabic-reshaper and python-bidi, as older matplotlib needed, would now
reverse it a second time (checked by eye on the rendered image). Numbers are in the reader's
digits (locales.values), in Vazirmatn as the PDFs are. Agg renderer, a figure of its own per
chart (no pyplot state), no timestamp: the same figures give the same bytes.
"""

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from channels.pdf import FONTS_DIR
from locales.values import Digits, Msg, format_number, render

CONTENT_TYPE = "image/png"
FONT_FILE = FONTS_DIR / "Vazirmatn-Regular.ttf"
BAR = "#1f6fb2"
LATEST = "#e08a1e"  # the bill the chart is sent with


@dataclass(frozen=True)
class PeriodConsumption:
    jalali_year: int
    period: int
    kwh: int


def consumption_chart_name(bill_id: str, latest: PeriodConsumption) -> str:
    return f"consumption-{bill_id}-{latest.jalali_year}-{latest.period:02d}.png"


def consumption_chart_png(periods: Sequence[PeriodConsumption], locale: str) -> bytes:
    """The periods' consumption, oldest first (on the right in Persian), the latest marked."""
    # matplotlib takes a second to import: only a process that draws a chart pays for it.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    font = _font_family()
    figure = Figure(figsize=(7, 4), dpi=100)
    figure.set_layout_engine("constrained")
    axes = figure.subplots()
    positions = range(len(periods))
    heights = [p.kwh for p in periods]
    colours = [BAR] * (len(periods) - 1) + [LATEST]
    bars = axes.bar(positions, heights, color=colours)
    labels = [render(_period(p), locale) for p in periods]
    axes.set_xticks(list(positions), labels)
    axes.bar_label(bars, [format_number(h, locale) for h in heights], fontfamily=font)

    def kwh(value: float, _: Any) -> str:
        return format_number(round(value), locale)

    axes.yaxis.set_major_formatter(FuncFormatter(kwh))
    axes.margins(y=0.12)  # room for the tallest bar's figure under the title
    axes.tick_params(labelfontfamily=font)
    axes.set_ylabel(render(Msg("my_bill.chart_kwh"), locale), fontfamily=font)
    axes.set_title(render(Msg("my_bill.chart_title"), locale), fontfamily=font)
    if locale == "fa":  # read right to left: the latest period on the left
        axes.invert_xaxis()
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer, metadata={"Software": None})  # type: ignore[no-untyped-call]
    return buffer.getvalue()


def _period(consumption: PeriodConsumption) -> Msg:
    year = Digits(consumption.jalali_year)
    return Msg("my_bill.chart_period", {"period": consumption.period, "year": year})


@cache
def _font_family() -> str:
    """Vazirmatn, known to matplotlib once per process."""
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(FONT_FILE))
    name: str = font_manager.FontProperties(fname=str(FONT_FILE)).get_name()
    return name
