"""A service defined only as data is counted by the reports as the built ones are, from its
definition: its timed steps done, on time and overdue (on SQLite, counted here, and on
PostgreSQL, in SQL: every test runs on both), named in /report, its chart and the export,
and chosen by its name."""

import pytest

from backend.compliance import Dimension, Scope, by_key, compliance, step_rows
from backend.constants import RequestKind, StaffRole
from backend.exports import build_export
from backend.services.loader import definitions
from backend.settings import get_settings
from channels.workbooks import export_sheets, step_label
from dialogs.staff.reports import report_figures
from locales.catalogs import LOCALES, message_ids
from locales.values import PLAIN, render
from tests.helpers.staff import Hire
from tests.reports.conftest import NOW, WEEK, Desk, actor, tehran

HOUR = 1 / 24
# The kinds are definitions' codes, stored as the built ones are.
METER_TEST, CHANGE_OF_NAME = "meter_test", "change_of_name"


@pytest.fixture
def services(desk: Desk) -> Desk:
    a = desk.staff_a
    # Filed Wednesday 10:00, the fee set Thursday 09:00: within its day. Paid on Saturday
    # 10:00 (the subscriber's step, untimed), the test's 3 working days ran out this morning.
    desk.request(
        METER_TEST,  # type: ignore[arg-type]
        tehran(21, 10),
        ("set_fee", "service_fee_due", tehran(22, 9), actor(a)),  # type: ignore[arg-type]
        ("receive_fee", "service_fee_paid", tehran(24, 10), actor(a)),  # type: ignore[arg-type]
        holder=a,
    )
    # Two working days, due Saturday 10:00; refused Saturday 12:00: done, two hours late.
    desk.request(
        CHANGE_OF_NAME,  # type: ignore[arg-type]
        tehran(21, 10),
        ("refuse", "refused", tehran(24, 12), actor(a)),  # type: ignore[arg-type]
    )
    desk.request(RequestKind.BILL_REVIEW, tehran(27, 9))  # a built one beside them
    return desk


def test_a_data_service_s_steps_are_counted(services: Desk) -> None:
    rows = by_key(compliance(services.session, period=WEEK, dimensions=[Dimension.STEP], now=NOW))
    fee = rows[("meter_test.submitted",)]
    assert (fee.steps, fee.done, fee.on_time, fee.overdue) == (1, 1, 1, 0)
    assert fee.median_days == pytest.approx(1 - HOUR)
    test = rows[("meter_test.service_fee_paid",)]
    assert (test.steps, test.done, test.on_time, test.overdue) == (1, 0, 0, 1)
    name = rows[("change_of_name.submitted",)]
    assert (name.done, name.on_time, name.on_time_share) == (1, 0, 0)
    assert name.median_days == pytest.approx(2 + 2 * HOUR)  # Wednesday 14h, Thursday, 12h
    # The subscriber's step (the fee awaited) has no target: not a step of the report.
    assert set(rows) == {
        ("meter_test.submitted",),
        ("meter_test.service_fee_paid",),
        ("change_of_name.submitted",),
        ("review",),
    }
    by_service = by_key(
        compliance(services.session, period=WEEK, dimensions=[Dimension.SERVICE], now=NOW)
    )
    assert (by_service[(METER_TEST,)].steps, by_service[(METER_TEST,)].overdue) == (2, 1)
    (only,) = compliance(services.session, period=WEEK, scope=Scope(kind=METER_TEST), now=NOW)
    assert (only.figures.requests, only.figures.steps, only.figures.on_time) == (1, 2, 1)


def test_the_export_rows_of_a_data_service(services: Desk) -> None:
    steps = step_rows(services.session, period=WEEK, scope=Scope(kind=METER_TEST), now=NOW)
    assert [(s.step, s.target, s.done, s.overdue) for s in steps] == [
        ("meter_test.submitted", 1, True, False),
        ("meter_test.service_fee_paid", 3, False, True),
    ]
    export = build_export(
        services.session,
        period=WEEK,
        scope=Scope(kind=METER_TEST),
        sees=frozenset(),
        now=NOW,
        settings=get_settings(),
    )
    assert [line.service for line in export.requests] == [METER_TEST]
    sheets = {sheet.name: sheet for sheet in export_sheets(export, "en")}
    assert sheets["steps"].rows[1][1] == "Meter test — service fee paid, in progress"


def test_report_names_a_data_service_and_its_steps(services: Desk) -> None:
    chart, text = report_figures(
        services.session, period=WEEK, scope=Scope(), now=NOW, settings=get_settings()
    )
    labels = [render(series.label, "en") for series in chart.on_time]
    assert labels == ["Bill review", "Change of name", "Meter test"]
    overdue = {render(step, "en"): count for step, count in chart.overdue}
    assert overdue["Meter test — service fee paid, in progress"] == 1
    assert overdue["Change of name — filed, awaiting review"] == 0
    words = render(text, "en")
    assert "Meter test: requests 1; on time 50%; " in words
    assert "Change of name: requests 1; on time 0%; " in words


def test_report_is_filtered_by_a_data_service_s_name(services: Desk, hire: Hire) -> None:
    supervisor = hire(StaffRole.SUPERVISOR)
    supervisor.say("/report ۱۴۰۵/۰۷/۲۹-۱۴۰۵/۰۸/۰۶ درخواست آزمایش کنتور")
    shown = supervisor.text()
    assert "درخواست آزمایش کنتور: ۱ درخواست" in shown
    assert "اعتراض به صورت‌حساب:" not in shown and "تغییر نام:" not in shown
    supervisor.say("/report 1405/07/29-1405/08/06 change_of_name")
    assert "تغییر نام: ۱ درخواست" in supervisor.text()


@pytest.mark.parametrize("locale", LOCALES)
def test_every_final_step_has_its_outcome_in_tavanir_s_summary(locale: str) -> None:
    finals = {s.code for d in definitions().values() for s in d.steps if s.final}
    assert {f"tavanir.outcome.{code}" for code in finals} - message_ids(locale) == set()


def test_a_step_is_worded_by_its_service_or_its_own_name() -> None:
    assert render(step_label("meter_test.submitted"), "fa", PLAIN) == (
        "درخواست آزمایش کنتور — ثبت شده، در انتظار بررسی"
    )
    assert render(step_label("review"), "en") == "Review"
