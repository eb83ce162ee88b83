"""The dispute assessment (backend.assessment) as the first message of a bill review's /show:
how unusual the consumption is, the likely cause, and the figures behind it."""

from backend import staff as rules
from backend.assessment import Assessment, Cause, assess
from backend.constants import RequestKind
from backend.models import Bill, ServiceRequest, Staff
from dialogs.engine import Context
from locales.values import Msg

PERCENT = 100
DAYS_A_MONTH = 30


def assessment_lines(ctx: Context, staff: Staff, request: ServiceRequest) -> list[Msg]:
    """The lines, for those who see the bills; none for a removal or a review without a bill."""
    if request.kind != RequestKind.BILL_REVIEW or request.disputed_bill_id is None:
        return []
    if not rules.sees(staff, rules.Detail.BILL):
        return []
    bill = ctx.session.get(Bill, request.disputed_bill_id)
    assert bill is not None  # bills are never deleted
    found = assess(ctx.session, bill)
    lines = [
        Msg("staff.assessment.head", {"level": Msg(f"staff.assessment.level.{found.level}")}),
        Msg(
            "staff.assessment.this_period",
            {"kwh": found.kwh, "days": found.days, "monthly": _monthly(found.kwh_per_day)},
        ),
    ]
    lines += _comparisons(found)
    if found.self_reading is not None:
        own = found.self_reading
        params = {"reading": own.reading, "date": own.taken_on, "current": found.billed_reading}
        lines.append(Msg("staff.assessment.self_reading", params))
    lines += [_cause(found, cause) for cause in found.causes] or [Msg("staff.assessment.no_cause")]
    return lines


def _monthly(kwh_per_day: float) -> int:
    return round(kwh_per_day * DAYS_A_MONTH)


def _percent(ratio: float) -> int:
    return round(ratio * PERCENT)


def _comparisons(found: Assessment) -> list[Msg]:
    lines = []
    if found.history_median is not None and found.ratio_to_history is not None:
        params = {
            "count": found.history_periods,
            "median": _monthly(found.history_median),
            "percent": _percent(found.ratio_to_history),
        }
        if found.robust_z is None:
            lines.append(Msg("staff.assessment.history_flat", params))
        else:
            z = round(found.robust_z)
            lines.append(Msg("staff.assessment.history", params | {"z": z}))
    if found.last_year_kwh_per_day is not None and found.ratio_to_last_year is not None:
        params = {
            "monthly": _monthly(found.last_year_kwh_per_day),
            "percent": _percent(found.ratio_to_last_year),
        }
        lines.append(Msg("staff.assessment.last_year", params))
    return lines or [Msg("staff.assessment.no_history")]


def _cause(found: Assessment, cause: Cause) -> Msg:
    params = {}
    if cause == Cause.TARIFF_CHANGE:
        params = {"previous": found.previous_tariff or "", "tariff": found.tariff or ""}
    return Msg("staff.assessment.cause", {"cause": Msg(f"staff.assessment.cause.{cause}", params)})
