"""The pieces staff replies are made of: lines stacked into one message, codes, statements."""

from collections.abc import Sequence

from backend.models import ServiceRequest
from locales.values import Code, Msg, Rials


def stacked_lines(messages: Sequence[Msg]) -> Msg:
    """Messages one under another, as one message (each line is a whole sentence of its own)."""
    *head, joined = messages
    for message in reversed(head):
        joined = Msg("staff.lines", {"first": message, "rest": joined})
    return joined


def code_of(request: ServiceRequest) -> Code:
    return Code(request.tracking_code)


def statement_line(amount: int) -> Msg:
    if amount > 0:
        return Msg("staff.statement.debt", {"amount": Rials(amount)})
    if amount < 0:
        return Msg("staff.statement.credit", {"amount": Rials(-amount)})
    return Msg("staff.statement.even")
