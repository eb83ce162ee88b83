"""Report charts as PNG images, drawn from figures already computed (backend.compliance).

matplotlib 3.11 (pinned) lays out Persian itself (libraqm, in its wheels): labels are given in
logical order and come out joined and right to left (reshaping them first with
arabic-reshaper and python-bidi, as older matplotlib needed, reverses them: checked by eye on
the rendered chart). Vazirmatn (channels/fonts/, as the PDFs use); tick numbers in the
reader's digits; for a Persian reader the weeks run right to left, the latest on the left.
Agg renderer, a figure object of its own per chart (no pyplot state: charts may be drawn in
several threads), no timestamp in the file: the same figures give the same bytes (file storage
keeps them once). matplotlib is imported when a chart is drawn: it takes a second.
"""

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from channels.pdf import FONTS_DIR, RTL_LOCALES
from locales.values import Msg, format_date, localize_digits, render

CONTENT_TYPE = "image/png"
FONT_FILE = FONTS_DIR / "Vazirmatn-Regular.ttf"
COLOURS = ("#1f6fb2", "#e08a1e", "#3a9d5d", "#b23a48")


@dataclass(frozen=True)
class Series:
    label: Msg
    values: Sequence[float | None]  # one per week; None: nothing to measure that week


@dataclass(frozen=True)
class ReportChart:
    """What a report draws: the weekly on-time share of each service, today's overdue steps,
    and the weekly average score."""

    title: Msg
    weeks: Sequence[date]  # the Saturday of each week
    on_time: Sequence[Series]  # shares, 0 to 1
    overdue: Sequence[tuple[Msg, int]]  # a step and how many of it are late now
    csat: Sequence[float | None]  # per week, 1 to 5


@dataclass(frozen=True)
class BarPanel:
    title: Msg
    bars: Sequence[tuple[Msg, float]]  # a label and its value


@dataclass(frozen=True)
class SummaryChart:
    """Panels of bars (the monthly summary: requests by service, channel, outcome…)."""

    title: Msg
    panels: Sequence[BarPanel]


@cache
def _font() -> str:
    """Vazirmatn, known to matplotlib once per process."""
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(FONT_FILE))
    name: str = font_manager.FontProperties(fname=str(FONT_FILE)).get_name()
    return name


def _label(message: Msg, locale: str) -> str:
    return render(message, locale)


def _digits(locale: str, pattern: str) -> Any:
    from matplotlib.ticker import FuncFormatter

    def form(value: float, _: Any) -> str:
        text = localize_digits(pattern.format(value), locale)
        return text.replace("%", "٪") if locale == "fa" else text

    return FuncFormatter(form)


def _integers() -> Any:
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def _reading_order(axes: Any, locale: str) -> None:
    """Weeks as the reader reads: right to left in Persian, the latest on the left."""
    if locale in RTL_LOCALES:
        axes.invert_xaxis()


def _week_label(week: date, locale: str) -> str:
    # Month and day suffice under a report's title; the year would crowd the axis.
    return format_date(week, locale)[5:]


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100)
    figure.set_layout_engine("constrained")
    return figure


def report_chart_png(chart: ReportChart, locale: str) -> bytes:
    figure = _figure(8, 10)
    top, middle, bottom = figure.subplots(3, 1)
    figure.suptitle(_label(chart.title, locale), fontfamily=_font(), fontsize=14)
    weeks = [_week_label(week, locale) for week in chart.weeks]
    _weekly_bars(top, chart, weeks, locale)
    _overdue_bars(middle, chart, locale)
    _csat_line(bottom, chart, weeks, locale)
    return _png(figure)


def _weekly_bars(axes: Any, chart: ReportChart, weeks: list[str], locale: str) -> None:
    width = 0.8 / max(1, len(chart.on_time))
    for index, series in enumerate(chart.on_time):
        positions = [week + index * width for week in range(len(weeks))]
        heights = [100 * value if value is not None else 0 for value in series.values]
        axes.bar(
            positions,
            heights,
            width,
            label=_label(series.label, locale),
            color=COLOURS[index % len(COLOURS)],
        )
    middles = [week + 0.4 - width / 2 for week in range(len(weeks))]
    axes.set_xticks(middles, weeks, fontfamily=_font())
    axes.set_ylim(0, 100)
    _reading_order(axes, locale)
    axes.yaxis.set_major_formatter(_digits(locale, "{:.0f}%"))
    axes.set_title(_label(Msg("chart.on_time"), locale), fontfamily=_font())
    if chart.on_time:
        # Under the week labels, not over the bars.
        axes.legend(
            prop={"family": _font()},
            loc="upper center",
            bbox_to_anchor=(0.5, -0.12),
            ncols=len(chart.on_time),
            frameon=False,
        )


def _overdue_bars(axes: Any, chart: ReportChart, locale: str) -> None:
    labels = [_label(step, locale) for step, _ in chart.overdue]
    counts = [count for _, count in chart.overdue]
    axes.barh(range(len(labels)), counts, color=COLOURS[3])
    axes.set_yticks(range(len(labels)), labels, fontfamily=_font())
    axes.invert_yaxis()  # the first step on top
    axes.xaxis.set_major_locator(_integers())
    axes.xaxis.set_major_formatter(_digits(locale, "{:.0f}"))
    axes.set_title(_label(Msg("chart.overdue"), locale), fontfamily=_font())


def _csat_line(axes: Any, chart: ReportChart, weeks: list[str], locale: str) -> None:
    points = [(week, value) for week, value in enumerate(chart.csat) if value is not None]
    axes.plot([p for p, _ in points], [v for _, v in points], marker="o", color=COLOURS[2])
    axes.set_xticks(range(len(weeks)), weeks, fontfamily=_font())
    axes.set_xlim(-0.5, len(weeks) - 0.5)
    _reading_order(axes, locale)
    axes.set_ylim(1, 5)
    axes.yaxis.set_major_locator(_integers())
    axes.yaxis.set_major_formatter(_digits(locale, "{:.0f}"))
    axes.set_title(_label(Msg("chart.csat"), locale), fontfamily=_font())


def summary_chart_png(chart: SummaryChart, locale: str) -> bytes:
    rows = (len(chart.panels) + 1) // 2
    figure = _figure(10, 4 * rows)
    figure.suptitle(_label(chart.title, locale), fontfamily=_font(), fontsize=14)
    for index, panel in enumerate(chart.panels):
        axes = figure.add_subplot(rows, 2, index + 1)
        labels = [_label(label, locale) for label, _ in panel.bars]
        axes.bar(range(len(labels)), [value for _, value in panel.bars], color=COLOURS[index % 4])
        axes.set_xticks(range(len(labels)), labels, fontfamily=_font(), fontsize=8)
        axes.yaxis.set_major_formatter(_digits(locale, "{:.0f}"))
        axes.set_title(_label(panel.title, locale), fontfamily=_font())
    return _png(figure)


def _png(figure: Any) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer, metadata={"Software": None})  # type: ignore[no-untyped-call]
    return buffer.getvalue()
