"""The pieces staff replies are made of: roles, codes, statements; lines stacked into one
message and lists (dialogs.lines, kept importable from here)."""

from collections.abc import Sequence

from backend.constants import StaffRole
from backend.identifiers import local_mobile
from backend.models import ServiceRequest
from dialogs.lines import listed as listed
from dialogs.lines import stacked_lines as stacked_lines
from locales.values import Code, Msg, Rials


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
