"""Messages put together as one: lines stacked into one message, items listed on one line (the
catalog says how each language joins them)."""

from collections.abc import Sequence

from locales.values import Code, Msg


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
