"""The figures the report's chart is drawn from, for the constructed week, and the chart itself:
a PNG that decodes, the same bytes for the same figures, in Persian and English."""

from datetime import date

import pytest
from matplotlib.image import imread

from backend.compliance import Scope
from backend.settings import get_settings
from channels.charts import report_chart_png
from dialogs.staff.reports import report_figures
from locales.values import Msg, render
from tests.reports.conftest import NOW, WEEK, Desk

SATURDAYS = [date(2026, 10, 17), date(2026, 10, 24)]


def test_the_figures_behind_the_bars(week: Desk) -> None:
    chart, text = report_figures(
        week.session, period=WEEK, scope=Scope(), now=NOW, settings=get_settings()
    )
    assert list(chart.weeks) == SATURDAYS
    review, removal = chart.on_time
    assert review.label == Msg("kind.bill_review")
    # The first week: one of three on time (one late, one overdue); the second: all four done
    # on time (the withdrawn and the open one not yet due are not counted).
    assert list(review.values) == [pytest.approx(1 / 3), 1.0]
    assert list(removal.values) == [0.0, None]  # its fee late; its meter test not yet due
    overdue = {render(step, "en"): count for step, count in chart.overdue}
    assert overdue == {
        "Review": 1,
        "Correction": 0,
        "Result told": 0,
        "Fee announced": 0,
        "Meter test": 0,
        "Terms announced": 0,
        "Collection": 0,
        "Final statement": 0,
        "Settlement and closing": 0,
    }
    assert list(chart.csat) == [3.5, pytest.approx(11 / 3)]
    words = render(text, "en")
    # Of the 8 steps whose outcome is known, 5 on time; of a review's 7 (its results told), 5.
    assert "All services: requests 7; on time 62%; " in words
    assert "Bill review: requests 6; on time 71%; " in words
    assert "steps overdue now 1; satisfaction 3.7 of 5 (answers: 3)" in words


def test_only_the_service_asked_for(week: Desk) -> None:
    chart, _ = report_figures(
        week.session,
        period=WEEK,
        scope=Scope(kind="connection_removal"),  # type: ignore[arg-type]
        now=NOW,
        settings=get_settings(),
    )
    (removal,) = chart.on_time
    assert removal.label == Msg("kind.connection_removal")
    assert render(chart.overdue[0][0], "en") == "Fee announced"


@pytest.mark.parametrize("locale", ["fa", "en"])
def test_the_chart_is_a_png(week: Desk, locale: str, tmp_path: object) -> None:
    chart, _ = report_figures(
        week.session, period=WEEK, scope=Scope(), now=NOW, settings=get_settings()
    )
    png = report_chart_png(chart, locale)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert report_chart_png(chart, locale) == png  # no timestamp: stored once
    path = f"{tmp_path}/chart.png"
    with open(path, "wb") as file:
        file.write(png)
    height, width, _ = imread(path).shape
    assert (width, height) == (800, 1000)
