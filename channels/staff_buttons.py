"""What a staff member can do about a request from a notice, as buttons: one tap each.

Each is `staff_do:<command>:<request id>`; the dialogs run the command for whoever presses it,
checking again that they may (dialogs.staff.steps.StaffActStep).
"""

from typing import Any

from sqlmodel import Session

from backend.models import ServiceRequest, Staff
from backend.services.loader import final_steps
from backend.staff import may, step_commands
from channels.replies import Button
from locales.values import Msg

PREFIX = "staff_do"
REPORT_PREFIX = "report"  # report:<first ISO day>:<last ISO day>: the weekly report's period
# The step commands a button can run: those that need no typed argument (an amount, a reading,
# a receipt is typed: the notice names the command).
ONE_TAP = ("decide", "approve", "settle", "close")


def button_value(command: str, request_id: int) -> str:
    return f"{PREFIX}:{command}:{request_id}"


def staff_buttons(session: Session, params: dict[str, Any]) -> list[list[Button]]:
    """The buttons of a staff notice (its stored parameters): the file, taking it, its step."""
    if "first_date" in params:  # the weekly report: its chart and figures, one tap away
        value = f"{REPORT_PREFIX}:{params['first_date']}:{params['last_date']}"
        return [[Button(Msg("report.act.chart"), value)]]
    if "request_id" not in params:  # about a counter: its notice names the command to look
        return []
    staff = session.get(Staff, params["staff_id"])
    request = session.get(ServiceRequest, params["request_id"])
    if staff is None or request is None or request.id is None:
        return []
    row = [Button(Msg("staff.act.show"), button_value("show", request.id))]
    if request.status in final_steps():  # a defined service's too
        return [row]
    if may(staff, "take") and request.assignee_id is None:  # nobody's yet
        row.append(Button(Msg("staff.act.take"), button_value("take", request.id)))
    steps = [c for c in step_commands(request) if c in ONE_TAP and may(staff, c)]
    if may(staff, "assign"):
        steps.append("assign")
    return [row, *([[Button(Msg(f"staff.act.{c}"), button_value(c, request.id))] for c in steps])]
