"""Who may run which staff command, and which command performs each workflow step: the one
table permissions are decided by (backend.staff applies it; staff notices ask it whom to tell)."""

from collections.abc import Iterable, Mapping

from backend.constants import EventAction, RequestKind, StaffRole
from backend.models import Staff

R = StaffRole

# Every staff command, in the order /staffhelp lists them.
COMMANDS = (
    "staffhelp",
    "queue",
    "overdue",
    "find",
    "show",
    "history",
    "notices",
    "note",
    "verify",
    "take",
    "assign",
    "decide",
    "approve",
    "fee",
    "paid",
    "metertest",
    "terms",
    "collected",
    "statement",
    "correct",
    "settle",
    "close",
    "act",  # a step of a service defined as data (backend.services): its role decides
    "broadcast",
    "broadcasts",
    "counters",
    "counter",
    "inspect",
    "counteradd",
    "counterstep",
    "onbehalf",
    "incidents",
    "resolve",
    "outages",
    "report",
    "export",
)
_COMMON = frozenset(
    {"staffhelp", "queue", "overdue", "find", "show", "history", "notices", "note", "verify"}
)
ROLE_COMMANDS: Mapping[StaffRole, frozenset[str]] = {
    R.ADMIN: _COMMON
    | {"assign", "broadcast", "broadcasts", "counters", "counter", "counteradd", "counterstep"}
    | {"outages", "incidents"}
    | {"report", "export"},
    R.BILLING_REVIEWER: _COMMON | {"take", "decide", "close", "act"},
    # Outage incidents (issue 15): technicians see the open ones and resolve them on site.
    R.FIELD_TECHNICIAN: _COMMON | {"take", "metertest", "collected", "incidents", "resolve", "act"},
    R.FINANCE: _COMMON
    | {"take", "fee", "paid", "terms", "statement", "correct", "settle", "close", "act"},
    R.SUPERVISOR: frozenset(COMMANDS),
    # Counters (seed 002): what each may see is backend.counters' scope. An operator files on
    # a subscriber's behalf and sees what their counter filed.
    R.COUNTER_OPERATOR: frozenset({"staffhelp", "onbehalf", "show"}),
    R.AREA_HEAD: frozenset({"staffhelp", "counters", "counter", "inspect", "report", "export"}),
    R.HQ_INSPECTOR: frozenset({"staffhelp", "counters", "counter", "inspect", "report", "export"}),
}
# The roles whose members work each service's steps: they are told when one reaches their
# queue. Admins and supervisors may run anything, and are told only of a step no working role
# can do (an approval) or of one past its deadline.
WORKING_ROLES: Mapping[RequestKind, tuple[StaffRole, ...]] = {
    RequestKind.BILL_REVIEW: (R.BILLING_REVIEWER,),
    RequestKind.CONNECTION_REMOVAL: (R.FIELD_TECHNICIAN, R.FINANCE),
}


def may(staff: Staff, command: str) -> bool:
    return command in ROLE_COMMANDS[staff.role]


def commands_of(staff: Staff) -> list[str]:
    return [command for command in COMMANDS if may(staff, command)]


# The command that performs each staff step of a workflow (taking a review leads to deciding it).
STEP_COMMANDS: Mapping[EventAction, str] = {
    EventAction.TAKE: "decide",
    EventAction.UPHOLD: "decide",
    EventAction.REJECT: "decide",
    EventAction.CORRECT: "approve",
    EventAction.ANNOUNCE_FEE: "fee",
    EventAction.PAY_FEE: "paid",
    EventAction.TEST_METER: "metertest",
    EventAction.ANNOUNCE_TERMS: "terms",
    EventAction.COLLECT: "collected",
    EventAction.ISSUE_STATEMENT: "statement",
    EventAction.SETTLE: "settle",
    EventAction.CLOSE: "close",
}


def commands_for(actions: Iterable[EventAction]) -> list[str]:
    """The commands that perform these workflow actions, once each, in order."""
    return list(dict.fromkeys(STEP_COMMANDS[a] for a in actions if a in STEP_COMMANDS))
