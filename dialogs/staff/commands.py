"""Staff commands: who may run them, parsing `/command CODE [ARGUMENT]`, and running each one."""

import logging
from collections.abc import Callable
from typing import Any

from backend import actions
from backend import staff as rules
from backend.constants import (
    CounterDocumentType,
    CounterStatus,
    DeliveryState,
    EventAction,
    InspectionStatus,
    PaymentMethod,
    RejectionReason,
    RequestKind,
    RequestStatus,
)
from backend.counters import may_see_request
from backend.identifiers import InvalidIdentifier, parse_bounded_int
from backend.models import Bill, ServiceRequest, Staff
from backend.notice_status import deliveries_of
from backend.outcomes import verify_clearance
from backend.staff import QueueSection
from backend.tracking import parse_tracking_code
from backend.workflows import Refused, find_transition
from channels.replies import Reply
from dialogs import states
from dialogs.engine import Context
from dialogs.staff import counters, reports, service_steps, words
from dialogs.staff.lines import code_of, listed, role_list, stacked_lines, statement_line
from dialogs.staff.show import history_page, show
from locales.values import Code, Digits, Msg, Rials

log = logging.getLogger(__name__)

Handler = Callable[[Context, Staff, str], None]
RequestHandler = Callable[[Context, Staff, ServiceRequest, str], None]
ALL_KINDS = "all"


def _refusal_params(refusal: Refused) -> dict[str, Any]:
    """Refused's parameters as message values: labels for codes, rials for amounts."""
    params: dict[str, Any] = {}
    for name, value in refusal.params.items():
        if name == "next":
            params[name] = value
        elif isinstance(value, CounterStatus):
            params[name] = Msg(f"counter.status.{value}")
        elif isinstance(value, CounterDocumentType):
            params[name] = Msg(f"counter.document.{value}")
        elif isinstance(value, InspectionStatus):
            params[name] = Msg(f"staff.inspect.status.{value}")
        elif name in ("status", "kind"):
            params[name] = Msg(f"{name}.{value}")
        elif name.endswith("_rials"):
            params[name] = Rials(value)
        elif name in ("paid_code", "reference"):
            params[name] = Code(value)
        else:
            params[name] = value
    if refusal.code == "wrong_status" and "next" not in params:
        params["next"] = Msg("refused.next_show")
    return params


def guarded(
    ctx: Context, command: str, work: Callable[[Staff], None], refused: Callable[..., None]
) -> bool:
    """Runs `work` for the staff member if their role may run `command`; False for anyone else.

    A refusal undoes just what `work` did (a savepoint): the conversation itself still commits.
    """
    staff = rules.authorize(
        ctx.session, channel=ctx.event.channel, user_id=ctx.event.user_id, command=command
    )
    if staff is None:
        return False
    log.info("staff:%s runs %s", staff.id, command)
    try:
        with ctx.session.begin_nested():
            work(staff)
    except Refused as refusal:
        refused(f"refused.{refusal.code}", **_refusal_params(refusal))
    return True


def run_staff_command(ctx: Context, name: str, argument: str) -> bool:
    """The engine's hook for commands it does not know: staff commands, for whoever may run them.

    Anyone else gets the reply to an unknown command; staff are told where to look instead: a
    command of another role names the roles that run it, any other points to /staffhelp.
    """
    handler = HANDLERS.get(name)
    if handler is not None and guarded(
        ctx, name, lambda staff: handler(ctx, staff, argument), ctx.say
    ):
        return True
    if rules.staff_for(ctx.session, channel=ctx.event.channel, user_id=ctx.event.user_id) is None:
        return False
    roles = [role for role, commands in rules.ROLE_COMMANDS.items() if name in commands]
    if roles:
        ctx.retry("staff.not_your_role", command=Code(f"/{name}"), roles=role_list(roles))
    else:
        ctx.retry("staff.unknown_command", command=Code(f"/{name}"))
    return True


def _usage(ctx: Context, command: str) -> None:
    ctx.say("staff.usage", usage=Msg(f"staff.help.{command}"))


def _on_request(command: str, handler: RequestHandler, *, needs_argument: bool) -> Handler:
    """A command of the form `/command CODE [ARGUMENT]`: finds the request, then runs `handler`."""

    def run(ctx: Context, staff: Staff, argument: str) -> None:
        code_text, _, rest = argument.partition(" ")
        rest = rest.strip()
        if not code_text or (needs_argument and not rest):
            _usage(ctx, command)
            return
        try:
            code = parse_tracking_code(code_text)
        except InvalidIdentifier as error:
            ctx.say(f"track.invalid_{error.reason}")
            return
        request = rules.request_by_code(ctx.session, code)
        if request is None:
            ctx.say("track.not_found", code=Code(code))
            return
        if not may_see_request(ctx.session, staff, request):  # another counter's, say
            ctx.say("staff.out_of_scope", code=Code(code), role=Msg(f"staff.role.{staff.role}"))
            return
        try:
            handler(ctx, staff, request, rest)
        except Refused as refusal:
            if refusal.code == "wrong_status":  # what does fit now, said with the refusal
                refusal.params.setdefault("next", _next_commands(staff, request))
            raise

    return run


def _next_commands(staff: Staff, request: ServiceRequest) -> Msg:
    mine = [f"/{c} {request.tracking_code}" for c in rules.step_commands(request)]
    mine = [command for command in mine if rules.may(staff, command[1:].partition(" ")[0])]
    if not mine:
        return Msg("refused.next_none")
    return Msg("refused.next", {"commands": listed([Code(command) for command in mine])})


def staff_draft(ctx: Context, request: ServiceRequest, **values: Any) -> None:
    """Starts a staff dialog about `request`; /cancel and the draft's expiry end it."""
    ctx.draft["staff"] = {"request_id": request.id, **values}


def draft_request(ctx: Context) -> ServiceRequest:
    return rules.locked_request(ctx.session, ctx.draft["staff"]["request_id"])


# --- Listing and looking ---


def staffhelp(ctx: Context, staff: Staff, argument: str) -> None:
    role = Msg(f"staff.role.{staff.role}")
    head = Msg("staff.help_head", {"name": staff.full_name, "role": role})
    helps = [Msg(f"staff.help.{command}") for command in rules.commands_of(staff)]
    ctx.replies.append(Reply(stacked_lines([head, *helps])))


def queue(ctx: Context, staff: Staff, argument: str) -> None:
    _open_queue(ctx, None)


def overdue(ctx: Context, staff: Staff, argument: str) -> None:
    _open_queue(ctx, QueueSection.OVERDUE)


def find(ctx: Context, staff: Staff, argument: str) -> None:
    """`/find` a bill ID, a mobile or a national ID: the requests it names, in pages."""
    if not argument.strip():
        _usage(ctx, "find")
        return
    by, value = rules.parse_find(argument)
    ctx.conversation.data["staff_find"] = {"by": by, "value": value, "page": 0}
    ctx.go(states.STAFF_FIND)


def _open_queue(ctx: Context, section: QueueSection | None) -> None:
    ctx.conversation.data["staff_queue"] = {"section": section, "kind": ALL_KINDS, "page": 0}
    ctx.go(states.STAFF_QUEUE)


def history(ctx: Context, staff: Staff, request: ServiceRequest, rest: str) -> None:
    page = parse_bounded_int(rest) if rest else 1
    if page is None:
        _usage(ctx, "history")
        return
    ctx.replies.append(history_page(ctx, request, page))


def notices(ctx: Context, staff: Staff, request: ServiceRequest, rest: str) -> None:
    assert request.id is not None
    found = deliveries_of(ctx.session, request.id)
    lines = [Msg("staff.notices.head", {"code": code_of(request), "count": len(found)})]
    for notice in found:
        kind = Msg(f"staff.notice_kind.{notice.kind}")
        lines.append(Msg("staff.notices.notice", {"when": notice.created_at, "kind": kind}))
        lines += [
            Msg(
                "staff.notices.delivery",
                {
                    "channel": Msg(f"staff.channel.{d.channel}"),
                    "state": Msg(f"staff.delivery.{DeliveryState(d.state).name.lower()}"),
                    "attempts": d.attempts,
                },
            )
            for d in notice.deliveries
        ] or [Msg("staff.notices.not_sent")]
    ctx.replies.append(Reply(stacked_lines(lines)))


def verify(ctx: Context, staff: Staff, request: ServiceRequest, rest: str) -> None:
    """`/verify CODE SEAL`: whether a clearance certificate is the desk's own, unaltered; if it
    is, the facts it states, to compare with the paper (a wrong seal tells nothing of them)."""
    clearance = verify_clearance(ctx.session, request, rest, ctx.settings)
    if clearance is None:
        ctx.say("staff.verify.invalid", code=code_of(request), seal=Code(rest))
        return
    lines = [
        Msg("staff.verify.valid", {"code": code_of(request), "closed": clearance.closed_on}),
        Msg("staff.show.bill_id", {"bill_id": Code(clearance.bill_id)}),
        Msg("staff.show.final_reading", {"reading": Digits(clearance.final_reading)}),
        statement_line(clearance.statement_rials),
    ]
    ctx.replies.append(Reply(stacked_lines(lines)))


# --- Moving requests on ---


def take(ctx: Context, staff: Staff, request: ServiceRequest, rest: str) -> None:
    actions.take(ctx.session, request, staff, now=ctx.now, settings=ctx.settings)
    ctx.say("staff.taken", code=code_of(request))


def assign(ctx: Context, staff: Staff, request: ServiceRequest, rest: str) -> None:
    rules.ensure_open(request)
    staff_draft(ctx, request)
    ctx.go(states.STAFF_ASSIGN)


def decide(ctx: Context, staff: Staff, request: ServiceRequest, rest: str) -> None:
    decision, _, detail = rest.partition(" ")
    detail = detail.strip()
    said = words.verdict(decision)
    rejection = words.reason_and_text(detail) if said == words.REJECTED else None
    if not decision:
        if not _untaken_review(request):
            find_transition(request, EventAction.UPHOLD)  # refused before any question is asked
        staff_draft(ctx, request)
        ctx.go(states.STAFF_DECIDE)
    elif said == words.UPHELD and detail:
        propose(ctx, staff, request, {"do": UPHOLD, "amount": rules.parse_amount(detail)})
    elif rejection is not None and rejection[1]:
        propose_rejection(ctx, staff, request, *rejection)
    else:
        _usage(ctx, "decide")


# --- What is sent to the subscriber is shown, and sent only once confirmed ---

UPHOLD, REJECT, FEE, STATEMENT = "uphold", "reject", "fee", "statement"
CORRECT = "correct"
# The command each pending decision belongs to: its permission is checked again on confirming.
PENDING_COMMANDS = {
    UPHOLD: "decide",
    REJECT: "decide",
    FEE: "fee",
    STATEMENT: "statement",
    CORRECT: "correct",
}


def propose_rejection(
    ctx: Context, staff: Staff, request: ServiceRequest, reason: RejectionReason, text: str
) -> None:
    pending = {"do": REJECT, "reason": reason, "note": rules.clean_text(text)}
    propose(ctx, staff, request, pending)


def propose(ctx: Context, staff: Staff, request: ServiceRequest, pending: dict[str, Any]) -> None:
    """Refuses now what `pending` would be refused for (rehearsed in a savepoint undone at once,
    so nothing is stored or sent); otherwise keeps it in the draft and asks to confirm it."""
    replies = len(ctx.replies)
    rehearsal = ctx.session.begin_nested()
    try:
        perform(ctx, staff, request, pending)
    finally:
        rehearsal.rollback()
        del ctx.replies[replies:]
    staff_draft(ctx, request, pending=pending)
    ctx.go(states.STAFF_CONFIRM)


def perform(ctx: Context, staff: Staff, request: ServiceRequest, pending: dict[str, Any]) -> None:
    """Does the confirmed decision and says what was done."""
    what = pending["do"]
    if what in (UPHOLD, REJECT) and _untaken_review(request):
        # Whoever decides a review nobody has taken takes it: as /fee needs no /take, no step
        # does; /take only says "mine" beforehand (and tells the subscriber it is under review).
        actions.take(ctx.session, request, staff, now=ctx.now, settings=ctx.settings)
    if what == UPHOLD:
        uphold(ctx, staff, request, pending["amount"])
    elif what == REJECT:
        reject(ctx, staff, request, RejectionReason(pending["reason"]), pending["note"])
    elif what == FEE:
        announce_fee(ctx, staff, request, pending["amount"])
    elif what == CORRECT:
        correct_statement(ctx, staff, request, pending["amount"], pending["reason"])
    else:
        issue_statement(ctx, staff, request, pending["amount"])


def _untaken_review(request: ServiceRequest) -> bool:
    return request.kind == RequestKind.BILL_REVIEW and request.status == RequestStatus.SUBMITTED


def pending_summary(ctx: Context, request: ServiceRequest, pending: dict[str, Any]) -> Msg:
    """What the subscriber will be sent once the pending decision is confirmed."""
    code, what = code_of(request), pending["do"]
    if what == UPHOLD:
        assert request.disputed_bill_id is not None  # only reviews are upheld
        bill = ctx.session.get(Bill, request.disputed_bill_id)
        assert bill is not None
        corrected = Msg(
            "staff.confirm.corrected",
            {
                "code": code,
                "original": Rials(bill.amount_rials),
                "corrected": Rials(pending["amount"]),
            },
        )
        limit = ctx.settings.two_person_limit_rials
        if abs(bill.amount_rials - pending["amount"]) <= limit:
            return corrected
        later = Msg("staff.confirm.after_approval", {"limit": Rials(limit)})
        return stacked_lines([corrected, later])
    if what == REJECT:
        reason = Msg(f"staff.rejection.{pending['reason']}")
        return Msg(
            "staff.confirm.rejected",
            {"code": code, "reason": reason, "explanation": pending["note"]},
        )
    if what == FEE:
        return Msg("staff.confirm.fee", {"code": code, "amount": Rials(pending["amount"])})
    if what == CORRECT:
        return Msg(
            "staff.confirm.correct",
            {
                "code": code,
                "statement": statement_line(pending["amount"]),
                "reason": pending["reason"],
            },
        )
    return Msg(
        "staff.confirm.statement", {"code": code, "statement": statement_line(pending["amount"])}
    )


def uphold(ctx: Context, staff: Staff, request: ServiceRequest, amount: int) -> None:
    took_effect = actions.uphold(
        ctx.session,
        request,
        staff,
        corrected_amount_rials=amount,
        note=None,
        now=ctx.now,
        settings=ctx.settings,
    )
    assert request.proposed_amount_rials is not None
    params: dict[str, Any] = {
        "code": code_of(request),
        "amount": Rials(request.proposed_amount_rials),
    }
    if took_effect:
        ctx.say("staff.corrected", **params)
    else:
        ctx.say(
            "staff.awaiting_approval", limit=Rials(ctx.settings.two_person_limit_rials), **params
        )


def reject(
    ctx: Context, staff: Staff, request: ServiceRequest, reason: RejectionReason, text: str
) -> None:
    actions.reject(
        ctx.session,
        request,
        staff,
        reason=reason,
        note=rules.clean_text(text),
        now=ctx.now,
        settings=ctx.settings,
    )
    ctx.say("staff.rejected", code=code_of(request), reason=Msg(f"staff.rejection.{reason}"))


def approve(ctx: Context, staff: Staff, request: ServiceRequest, rest: str) -> None:
    actions.approve(ctx.session, request, staff, now=ctx.now, settings=ctx.settings)
    assert request.proposed_amount_rials is not None
    ctx.say("staff.approved", code=code_of(request), amount=Rials(request.proposed_amount_rials))


def fee(ctx: Context, staff: Staff, request: ServiceRequest, rest: str) -> None:
    propose(ctx, staff, request, {"do": FEE, "amount": rules.parse_amount(rest)})


def announce_fee(ctx: Context, staff: Staff, request: ServiceRequest, amount: int) -> None:
    actions.announce_fee(
        ctx.session, request, staff, amount_rials=amount, now=ctx.now, settings=ctx.settings
    )
    ctx.say("staff.fee_announced", code=code_of(request), amount=Rials(amount))


def paid(ctx: Context, staff: Staff, request: ServiceRequest, rest: str) -> None:
    typed_reference, _, typed_method = rest.partition(" ")
    reference = rules.clean_reference(typed_reference)
    method = words.payment_method(typed_method) if typed_method.strip() else None
    if method is not None:
        record_paid(ctx, staff, request, reference, method)
    elif typed_method.strip():
        _usage(ctx, "paid")
    elif rules.payable(ctx.session, request, reference) is None:
        ctx.say("staff.paid_already", code=code_of(request), reference=Code(reference))
    else:
        staff_draft(ctx, request, reference=reference)
        ctx.go(states.STAFF_PAID_METHOD)


def record_paid(
    ctx: Context, staff: Staff, request: ServiceRequest, reference: str, method: PaymentMethod
) -> None:
    payment = rules.record_desk_payment(
        ctx.session,
        request,
        staff,
        provider_ref=reference,
        method=method,
        now=ctx.now,
        settings=ctx.settings,
    )
    if payment is None:
        ctx.say("staff.paid_already", code=code_of(request), reference=Code(reference))
    else:
        ctx.say(
            "staff.payment_recorded",
            code=code_of(request),
            amount=Rials(payment.amount_rials),
            method=Msg(f"staff.method.{method}"),
            status=Msg(f"status.{request.status}"),
        )


def metertest(ctx: Context, staff: Staff, request: ServiceRequest, rest: str) -> None:
    typed_result, _, reading = rest.partition(" ")
    result = words.meter_result(typed_result)
    if result is None or not reading.strip():
        _usage(ctx, "metertest")
        return
    value = rules.parse_reading(reading)
    actions.record_meter_test(
        ctx.session,
        request,
        staff,
        result=result,
        reading=value,
        now=ctx.now,
        settings=ctx.settings,
    )
    outcome = Msg(f"staff.meter.{result}")
    ctx.say("staff.meter_tested", code=code_of(request), result=outcome, reading=value)


def terms(ctx: Context, staff: Staff, request: ServiceRequest, rest: str) -> None:
    actions.announce_terms(
        ctx.session,
        request,
        staff,
        terms=rules.clean_text(rest),
        now=ctx.now,
        settings=ctx.settings,
    )
    ctx.say("staff.terms_announced", code=code_of(request))


def collected(ctx: Context, staff: Staff, request: ServiceRequest, rest: str) -> None:
    reading = rules.parse_reading(rest)
    actions.collect(
        ctx.session, request, staff, final_reading=reading, now=ctx.now, settings=ctx.settings
    )
    ctx.say("staff.collected", code=code_of(request), reading=reading)


def statement(ctx: Context, staff: Staff, request: ServiceRequest, rest: str) -> None:
    propose(ctx, staff, request, {"do": STATEMENT, "amount": rules.parse_amount(rest, signed=True)})


def issue_statement(ctx: Context, staff: Staff, request: ServiceRequest, amount: int) -> None:
    actions.issue_statement(
        ctx.session, request, staff, amount_rials=amount, now=ctx.now, settings=ctx.settings
    )
    ctx.say("staff.statement_issued", code=code_of(request), statement=statement_line(amount))


def correct(ctx: Context, staff: Staff, request: ServiceRequest, rest: str) -> None:
    """`/correct CODE ±AMOUNT REASON`: the statement voided and issued again, once confirmed."""
    typed_amount, _, reason = rest.partition(" ")
    if not reason.strip():
        _usage(ctx, "correct")
        return
    amount = rules.parse_amount(typed_amount, signed=True)
    pending = {"do": CORRECT, "amount": amount, "reason": rules.clean_text(reason)}
    propose(ctx, staff, request, pending)


def correct_statement(
    ctx: Context, staff: Staff, request: ServiceRequest, amount: int, reason: str
) -> None:
    actions.correct_statement(
        ctx.session,
        request,
        staff,
        amount_rials=amount,
        reason=reason,
        now=ctx.now,
        settings=ctx.settings,
    )
    ctx.say("staff.statement_corrected", code=code_of(request), statement=statement_line(amount))


def settle(ctx: Context, staff: Staff, request: ServiceRequest, rest: str) -> None:
    actions.settle(ctx.session, request, staff, now=ctx.now, settings=ctx.settings)
    ctx.say("staff.settled", code=code_of(request))


def close(ctx: Context, staff: Staff, request: ServiceRequest, rest: str) -> None:
    actions.close(ctx.session, request, staff, now=ctx.now, settings=ctx.settings)
    ctx.say("staff.closed", code=code_of(request))


def note(ctx: Context, staff: Staff, request: ServiceRequest, rest: str) -> None:
    actions.add_note(ctx.session, request, staff, text=rules.clean_text(rest), now=ctx.now)
    ctx.say("staff.noted", code=code_of(request))


HANDLERS: dict[str, Handler] = {
    "staffhelp": staffhelp,
    "queue": queue,
    "overdue": overdue,
    "find": find,
    "show": _on_request("show", show, needs_argument=False),
    "history": _on_request("history", history, needs_argument=False),
    "notices": _on_request("notices", notices, needs_argument=False),
    "note": _on_request("note", note, needs_argument=True),
    "verify": _on_request("verify", verify, needs_argument=True),
    "take": _on_request("take", take, needs_argument=False),
    "assign": _on_request("assign", assign, needs_argument=False),
    "decide": _on_request("decide", decide, needs_argument=False),
    "approve": _on_request("approve", approve, needs_argument=False),
    "fee": _on_request("fee", fee, needs_argument=True),
    "paid": _on_request("paid", paid, needs_argument=True),
    "metertest": _on_request("metertest", metertest, needs_argument=True),
    "terms": _on_request("terms", terms, needs_argument=True),
    "collected": _on_request("collected", collected, needs_argument=True),
    "statement": _on_request("statement", statement, needs_argument=True),
    "correct": _on_request("correct", correct, needs_argument=True),
    "settle": _on_request("settle", settle, needs_argument=False),
    "close": _on_request("close", close, needs_argument=False),
    "act": _on_request("act", service_steps.act_on, needs_argument=False),
    "counters": counters.counters,
    "counter": counters.counter,
    "inspect": counters.inspect,
    "report": reports.report,
    "export": reports.export,
}


# --- The staff dialogs' steps ---
