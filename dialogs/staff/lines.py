"""The pieces staff replies are made of: lines stacked into one message, roles, codes,
statements."""

from collections.abc import Sequence

from backend.constants import StaffRole
from backend.identifiers import local_mobile
from backend.models import ServiceRequest
from locales.values import Code, Msg, Rials


def stacked_lines(messages: Sequence[Msg]) -> Msg:
    """Messages one under another, as one message (each line is a whole sentence of its own)."""
    *head, joined = messages
    for message in reversed(head):
        joined = Msg("staff.lines", {"first": message, "rest": joined})
    return joined


def listed(messages: Sequence[Msg | Code]) -> Msg | Code:
    """Messages (or codes) one after another on one line, separated as a list is in the reader's
    language (at least one)."""
    *head, joined = messages
    for message in reversed(head):
        joined = Msg("staff.role_list", {"first": message, "rest": joined})
    return joined


def role_list(roles: Sequence[StaffRole]) -> Msg:
    """Roles named in words, as a list is said: «الف، ب و ج» (at least one)."""
    *head, last = [Msg(f"staff.role.{role}") for role in roles]
    if not head:
        return last
    return Msg("staff.role_list_last", {"first": listed(head), "rest": last})


def mobile_line(e164: str) -> Msg:
    return Msg("staff.show.mobile", {"mobile": Code(local_mobile(e164))})


def code_of(request: ServiceRequest) -> Code:
    return Code(request.tracking_code)


def statement_line(amount: int) -> Msg:
    if amount > 0:
        return Msg("staff.statement.debt", {"amount": Rials(amount)})
    if amount < 0:
        return Msg("staff.statement.credit", {"amount": Rials(-amount)})
    return Msg("staff.statement.even")
