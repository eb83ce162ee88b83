"""What a tracking code of an outage report or a self-reading answers, in the chat or by SMS
(dialogs.tracking asks here when no request has the code)."""

from backend.models import OutageIncident
from backend.outage_reports import report_by_code, report_count
from backend.self_readings import reading_by_code
from dialogs.engine import Context
from locales.values import Code


def show_report_status(ctx: Context, code: str) -> bool:
    """The status of the outage report with this code, if there is one (a look-up by tracking
    code, in the chat or by SMS)."""
    report = report_by_code(ctx.session, code)
    if report is None:
        return False
    incident = ctx.session.get(OutageIncident, report.incident_id)
    assert incident is not None and incident.id is not None
    if incident.resolved_at is not None:
        ctx.say("track.report_resolved", code=Code(code), resolved=incident.resolved_at)
    else:
        count = report_count(ctx.session, incident.id)
        ctx.say("track.report_open", code=Code(code), filed=report.created_at, count=count)
    return True


def show_reading_status(ctx: Context, code: str) -> bool:
    """The self-reading with this code, if there is one (a look-up by tracking code)."""
    kept = reading_by_code(ctx.session, code)
    if kept is None:
        return False
    ctx.say("track.reading", code=Code(code), sent=kept.created_at)
    return True
