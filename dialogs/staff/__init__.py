"""Staff commands inside the bots: the work queue, a request's file, and each workflow step.

`commands` parses and runs the commands, `show` renders a request for a role, `steps` holds the
button flows, `lines` the pieces their replies share; `counters` shows the pishkhan counters and
`inspection` walks a visit's checklist.
"""

from dialogs.engine import Step
from dialogs.staff import inspection, reports, steps
from dialogs.staff.commands import HANDLERS, run_staff_command
from dialogs.staff.lines import listed, stacked_lines
from dialogs.staff.steps import (
    CONFIRM_CANCEL,
    CONFIRM_SEND,
    METHOD_PREFIX,
    QUEUE_SHOW,
    REASON_PREFIX,
    REJECTED,
    UPHELD,
)

STEPS: list[Step] = [*steps.STEPS, *inspection.STEPS, *reports.STEPS]

__all__ = [
    "CONFIRM_CANCEL",
    "CONFIRM_SEND",
    "HANDLERS",
    "METHOD_PREFIX",
    "QUEUE_SHOW",
    "REASON_PREFIX",
    "REJECTED",
    "STEPS",
    "UPHELD",
    "listed",
    "run_staff_command",
    "stacked_lines",
]
