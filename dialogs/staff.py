"""Staff commands inside the bots: the work queue, a request's file, and each workflow step."""

import logging
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from backend import actions
from backend import staff as rules
from backend.constants import (
    DeliveryState,
    EventAction,
    MeterTestResult,
    PaymentMethod,
    RejectionReason,
    RequestKind,
)
from backend.identifiers import InvalidIdentifier
from backend.models import Bill, RequestEvent, ServiceRequest, Staff
from backend.staff import QueueSection
from backend.tracking import parse_tracking_code
from backend.workflows import Refused, find_transition
from dialogs import states
from dialogs.engine import Context, Step
from dialogs.events import Button, OutgoingFile, Reply
from dialogs.menu import MenuStep
from locales.values import Code, Msg, Rials, tehran_date
from notifications.status import deliveries_of

log = logging.getLogger(__name__)

Handler = Callable[[Context, Staff, str], None]
RequestHandler = Callable[[Context, Staff, ServiceRequest, str], None]
ALL_KINDS = "all"


def stacked_lines(messages: Sequence[Msg]) -> Msg:
    """Messages one under another, as one message (each line is a whole sentence of its own)."""
    *head, joined = messages
    for message in reversed(head):
        joined = Msg("staff.lines", {"first": message, "rest": joined})
    return joined


def _refusal_params(refusal: Refused) -> dict[str, Any]:
    """Refused's parameters as message values: labels for codes, rials for amounts."""
    params: dict[str, Any] = {}
    for name, value in refusal.params.items():
        if name in ("status", "kind"):
            params[name] = Msg(f"{name}.{value}")
        elif name.endswith("_rials"):
            params[name] = Rials(value)
        else:
            params[name] = value
    return params


def _guarded(
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
    """The engine's hook for commands it does not know: staff commands, for whoever may run them."""
    handler = HANDLERS.get(name)
    if handler is None:
        return False
    return _guarded(ctx, name, lambda staff: handler(ctx, staff, argument), ctx.say)


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
        else:
            handler(ctx, staff, request, rest)

    return run


def _code(request: ServiceRequest) -> Code:
    return Code(request.tracking_code)


def _staff_draft(ctx: Context, request: ServiceRequest, **values: Any) -> None:
    """Starts a staff dialog about `request`; /cancel and the draft's expiry end it."""
    ctx.draft["staff"] = {"request_id": request.id, **values}


def _draft_request(ctx: Context) -> ServiceRequest:
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


def _open_queue(ctx: Context, section: QueueSection | None) -> None:
    ctx.conversation.data["staff_queue"] = {"section": section, "kind": ALL_KINDS, "page": 0}
    ctx.go(states.STAFF_QUEUE)


def show(ctx: Context, staff: Staff, request: ServiceRequest, rest: str) -> None:
    ctx.replies.append(Reply(stacked_lines(_summary(ctx, staff, request))))
    ctx.replies.append(Reply(stacked_lines(_history(ctx, request))))
    documents = rules.documents_for(ctx.session, request, staff)
    files = [OutgoingFile(d.storage_key, d.original_name, d.content_type) for d in documents]
    ctx.replies.append(Reply(Msg("staff.show.documents", {"count": len(files)}), files=files))


def _summary(ctx: Context, staff: Staff, request: ServiceRequest) -> list[Msg]:
    lines = [
        Msg(
            "staff.show.head",
            {
                "code": _code(request),
                "kind": Msg(f"kind.{request.kind}"),
                "status": Msg(f"status.{request.status}"),
                "filed": request.created_at,
            },
        )
    ]
    if request.step_deadline is not None:
        late = request.step_deadline < ctx.now
        key = "staff.show.deadline_passed" if late else "staff.show.deadline"
        lines.append(Msg(key, {"deadline": request.step_deadline}))
    assignee = ctx.session.get(Staff, request.assignee_id) if request.assignee_id else None
    lines.append(
        Msg("staff.show.assignee", {"name": assignee.full_name})
        if assignee
        else Msg("staff.show.unassigned")
    )
    lines += _subscriber(rules.subscriber_view(ctx.session, request, staff))
    if request.kind == RequestKind.BILL_REVIEW:
        lines += _review(ctx, staff, request)
    else:
        lines += _removal(ctx, staff, request)
    if request.description:
        lines.append(Msg("staff.show.description", {"text": request.description}))
    mine = [f"/{c}" for c in rules.step_commands(request) if rules.may(staff, c)]
    if mine:
        lines.append(Msg("staff.show.next", {"commands": Code(" ".join(mine))}))
    return lines


def _subscriber(view: rules.SubscriberView) -> list[Msg]:
    lines = [Msg("staff.show.bill_id", {"bill_id": Code(view.bill_id)})]
    if view.name is not None:
        lines.append(Msg("staff.show.name", {"name": view.name}))
    if view.mobile is not None:
        lines.append(Msg("staff.show.mobile", {"mobile": Code(view.mobile)}))
    if view.national_id is not None:
        lines.append(Msg("staff.show.national_id", {"national_id": Code(view.national_id)}))
    if view.address is not None:
        lines.append(Msg("staff.show.address", {"address": view.address}))
    return lines


def _review(ctx: Context, staff: Staff, request: ServiceRequest) -> list[Msg]:
    lines = [Msg("staff.show.review_reason", {"reason": Msg(f"reason.{request.reason}")})]
    if rules.sees(staff, rules.Detail.BILL) and request.disputed_bill_id is not None:
        bill = ctx.session.get(Bill, request.disputed_bill_id)
        assert bill is not None  # bills are never deleted
        lines.append(
            Msg(
                "staff.show.bill",
                {
                    "start": bill.previous_reading_date,
                    "end": bill.current_reading_date,
                    "previous": bill.previous_reading,
                    "current": bill.current_reading,
                    "kwh": bill.consumption_kwh,
                    "amount": Rials(bill.amount_rials),
                },
            )
        )
        if request.proposed_amount_rials is not None:
            key = "staff.show.corrected" if request.corrected_bill_id else "staff.show.proposed"
            lines.append(Msg(key, {"amount": Rials(request.proposed_amount_rials)}))
    if request.decision_reason is not None:
        lines.append(
            Msg(
                "staff.show.rejection",
                {
                    "reason": Msg(f"staff.rejection.{request.decision_reason}"),
                    "note": request.decision_note or "",
                },
            )
        )
    return lines


def _removal(ctx: Context, staff: Staff, request: ServiceRequest) -> list[Msg]:
    reason = Msg(f"removal_reason.{request.reason}")
    lines = [Msg("staff.show.removal_reason", {"reason": reason})]
    # Whether the ID card has come, for every role (finance announces the fee and sees no
    # identity papers): only that it is missing, nothing of the papers themselves.
    if actions.id_card_missing(ctx.session, request):
        lines.append(Msg("staff.show.id_card_missing"))
    money = rules.sees(staff, rules.Detail.BILL)
    if money and request.fee_rials is not None:
        lines.append(Msg("staff.show.fee", {"amount": Rials(request.fee_rials)}))
    if request.meter_test_result is not None:
        result = Msg(f"staff.meter.{request.meter_test_result}")
        reading = request.meter_test_reading
        lines.append(Msg("staff.show.meter_test", {"result": result, "reading": reading}))
    if request.terms is not None:
        lines.append(Msg("staff.show.terms", {"terms": request.terms}))
    if request.final_reading is not None:
        lines.append(Msg("staff.show.final_reading", {"reading": request.final_reading}))
    if money and request.statement_rials is not None:
        lines.append(_statement(request.statement_rials))
    pending = actions.pending_payment_of(ctx.session, request)
    if money and pending is not None:
        lines.append(Msg("staff.show.pending_payment", {"amount": Rials(pending.amount_rials)}))
    return lines


def _statement(amount: int) -> Msg:
    if amount > 0:
        return Msg("staff.statement.debt", {"amount": Rials(amount)})
    if amount < 0:
        return Msg("staff.statement.credit", {"amount": Rials(-amount)})
    return Msg("staff.statement.even")


def _history(ctx: Context, request: ServiceRequest) -> list[Msg]:
    events = rules.history(ctx.session, request)
    shown = events[-rules.HISTORY_SHOWN :]
    # Assignments name the assignee in their note, the same way actors are named.
    notes = [e.note.rpartition(" ")[2] for e in shown if e.action == EventAction.ASSIGN and e.note]
    staff = rules.staff_by_actor(ctx.session, [e.actor for e in shown] + notes)
    lines = [Msg("staff.history.head", {"count": len(events)})]
    if len(events) > len(shown):
        lines.append(Msg("staff.history.earlier", {"count": len(events) - len(shown)}))
    lines += [_event(event, staff) for event in shown]
    return lines


def _actor(actor: str, staff: dict[str, Staff]) -> Msg | str:
    if actor in staff:
        return staff[actor].full_name
    if actor == actions.SYSTEM:
        return Msg("staff.actor.system")
    if actor.startswith("subscriber:"):
        return Msg("staff.actor.subscriber")
    return actor


def _event(event: RequestEvent, staff: dict[str, Staff]) -> Msg:
    params: dict[str, Any] = {
        "when": event.created_at,
        "action": Msg(f"staff.event.{event.action}"),
        "actor": _actor(event.actor, staff),
    }
    assignee = (event.note or "").rpartition(" ")[2]
    if event.action == EventAction.ASSIGN and assignee in staff:
        return Msg("staff.history.assigned", {**params, "assignee": staff[assignee].full_name})
    if event.note:
        return Msg("staff.history.event_note", {**params, "note": event.note})
    return Msg("staff.history.event", params)


def notices(ctx: Context, staff: Staff, request: ServiceRequest, rest: str) -> None:
    assert request.id is not None
    found = deliveries_of(ctx.session, request.id)
    lines = [Msg("staff.notices.head", {"code": _code(request), "count": len(found)})]
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


# --- Moving requests on ---


def take(ctx: Context, staff: Staff, request: ServiceRequest, rest: str) -> None:
    actions.take(ctx.session, request, staff, now=ctx.now, settings=ctx.settings)
    ctx.say("staff.taken", code=_code(request))


def assign(ctx: Context, staff: Staff, request: ServiceRequest, rest: str) -> None:
    rules.ensure_open(request)
    _staff_draft(ctx, request)
    ctx.go(states.STAFF_ASSIGN)


def decide(ctx: Context, staff: Staff, request: ServiceRequest, rest: str) -> None:
    decision, _, detail = rest.partition(" ")
    reason, _, explanation = detail.strip().partition(" ")
    if not decision:
        find_transition(request, EventAction.UPHOLD)  # refused before any question is asked
        _staff_draft(ctx, request)
        ctx.go(states.STAFF_DECIDE)
    elif decision == "upheld" and detail:
        _uphold(ctx, staff, request, rules.parse_amount(detail))
    elif decision == "rejected" and reason in set(RejectionReason) and explanation:
        _reject(ctx, staff, request, RejectionReason(reason), explanation)
    else:
        _usage(ctx, "decide")


def _uphold(ctx: Context, staff: Staff, request: ServiceRequest, amount: int) -> None:
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
    params = {"code": _code(request), "amount": Rials(request.proposed_amount_rials)}
    if took_effect:
        ctx.say("staff.corrected", **params)
    else:
        ctx.say(
            "staff.awaiting_approval", limit=Rials(ctx.settings.two_person_limit_rials), **params
        )


def _reject(
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
    ctx.say("staff.rejected", code=_code(request), reason=Msg(f"staff.rejection.{reason}"))


def approve(ctx: Context, staff: Staff, request: ServiceRequest, rest: str) -> None:
    actions.approve(ctx.session, request, staff, now=ctx.now, settings=ctx.settings)
    assert request.proposed_amount_rials is not None
    ctx.say("staff.approved", code=_code(request), amount=Rials(request.proposed_amount_rials))


def fee(ctx: Context, staff: Staff, request: ServiceRequest, rest: str) -> None:
    amount = rules.parse_amount(rest)
    actions.announce_fee(
        ctx.session, request, staff, amount_rials=amount, now=ctx.now, settings=ctx.settings
    )
    ctx.say("staff.fee_announced", code=_code(request), amount=Rials(amount))


def paid(ctx: Context, staff: Staff, request: ServiceRequest, rest: str) -> None:
    typed_reference, _, method = rest.partition(" ")
    reference = rules.clean_reference(typed_reference)
    if method.strip() in set(PaymentMethod):
        _record_paid(ctx, staff, request, reference, PaymentMethod(method.strip()))
    elif method.strip():
        _usage(ctx, "paid")
    elif rules.payable(ctx.session, request, reference) is None:
        ctx.say("staff.paid_already", code=_code(request), reference=Code(reference))
    else:
        _staff_draft(ctx, request, reference=reference)
        ctx.go(states.STAFF_PAID_METHOD)


def _record_paid(
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
        ctx.say("staff.paid_already", code=_code(request), reference=Code(reference))
    else:
        ctx.say(
            "staff.payment_recorded",
            code=_code(request),
            amount=Rials(payment.amount_rials),
            method=Msg(f"staff.method.{method}"),
            status=Msg(f"status.{request.status}"),
        )


def metertest(ctx: Context, staff: Staff, request: ServiceRequest, rest: str) -> None:
    result, _, reading = rest.partition(" ")
    if result not in set(MeterTestResult) or not reading.strip():
        _usage(ctx, "metertest")
        return
    value = rules.parse_reading(reading)
    actions.record_meter_test(
        ctx.session,
        request,
        staff,
        result=MeterTestResult(result),
        reading=value,
        now=ctx.now,
        settings=ctx.settings,
    )
    outcome = Msg(f"staff.meter.{result}")
    ctx.say("staff.meter_tested", code=_code(request), result=outcome, reading=value)


def terms(ctx: Context, staff: Staff, request: ServiceRequest, rest: str) -> None:
    actions.announce_terms(
        ctx.session,
        request,
        staff,
        terms=rules.clean_text(rest),
        now=ctx.now,
        settings=ctx.settings,
    )
    ctx.say("staff.terms_announced", code=_code(request))


def collected(ctx: Context, staff: Staff, request: ServiceRequest, rest: str) -> None:
    reading = rules.parse_reading(rest)
    actions.collect(
        ctx.session, request, staff, final_reading=reading, now=ctx.now, settings=ctx.settings
    )
    ctx.say("staff.collected", code=_code(request), reading=reading)


def statement(ctx: Context, staff: Staff, request: ServiceRequest, rest: str) -> None:
    amount = rules.parse_amount(rest, signed=True)
    actions.issue_statement(
        ctx.session, request, staff, amount_rials=amount, now=ctx.now, settings=ctx.settings
    )
    ctx.say("staff.statement_issued", code=_code(request), statement=_statement(amount))


def settle(ctx: Context, staff: Staff, request: ServiceRequest, rest: str) -> None:
    actions.settle(ctx.session, request, staff, now=ctx.now, settings=ctx.settings)
    ctx.say("staff.settled", code=_code(request))


def close(ctx: Context, staff: Staff, request: ServiceRequest, rest: str) -> None:
    actions.close(ctx.session, request, staff, now=ctx.now, settings=ctx.settings)
    ctx.say("staff.closed", code=_code(request))


def note(ctx: Context, staff: Staff, request: ServiceRequest, rest: str) -> None:
    actions.add_note(ctx.session, request, staff, text=rules.clean_text(rest), now=ctx.now)
    ctx.say("staff.noted", code=_code(request))


HANDLERS: dict[str, Handler] = {
    "staffhelp": staffhelp,
    "queue": queue,
    "overdue": overdue,
    "show": _on_request("show", show, needs_argument=False),
    "notices": _on_request("notices", notices, needs_argument=False),
    "note": _on_request("note", note, needs_argument=True),
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
    "settle": _on_request("settle", settle, needs_argument=False),
    "close": _on_request("close", close, needs_argument=False),
}


# --- The staff dialogs' steps ---


class StaffStep(Step):
    """A step of a staff dialog: every input passes the same permission check as the command."""

    command: ClassVar[str]
    back = states.MENU
    help = "staff.step_help"

    def prompt(self, ctx: Context) -> Reply:
        staff = rules.authorize(
            ctx.session, channel=ctx.event.channel, user_id=ctx.event.user_id, command=self.command
        )
        if staff is None:
            # Someone who lost the role meanwhile is back at the menu, like anyone who is not staff.
            ctx.conversation.state = states.MENU
            return MenuStep().prompt(ctx)
        return self.ask(ctx, staff)

    def ask(self, ctx: Context, staff: Staff) -> Reply:
        raise NotImplementedError

    def command_for(self, value: str) -> str:
        return self.command

    def on_choice(self, ctx: Context, value: str) -> None:
        self._guard(ctx, self.command_for(value), lambda staff: self.choose(ctx, staff, value))

    def on_text(self, ctx: Context, text: str) -> None:
        self._guard(ctx, self.command, lambda staff: self.typed(ctx, staff, text))

    def choose(self, ctx: Context, staff: Staff, value: str) -> None:
        ctx.retry("input.button_expired")

    def typed(self, ctx: Context, staff: Staff, text: str) -> None:
        ctx.retry("input.use_buttons")

    @staticmethod
    def _guard(ctx: Context, command: str, work: Callable[[Staff], None]) -> None:
        if not _guarded(ctx, command, work, ctx.retry):
            ctx.say("input.unknown_command")
            ctx.reset()


QUEUE_PREFIX = "staff_q:"
QUEUE_SHOW = QUEUE_PREFIX + "show:"


class QueueStep(StaffStep):
    name = states.STAFF_QUEUE
    command = "queue"
    back = None  # staff leave the queue with any other command

    def ask(self, ctx: Context, staff: Staff) -> Reply:
        stored = ctx.conversation.data["staff_queue"]
        kind = None if stored["kind"] == ALL_KINDS else RequestKind(stored["kind"])
        view = rules.queue_view(
            ctx.session,
            staff=staff,
            section=QueueSection(stored["section"]) if stored["section"] else None,
            kind=kind,
            page=stored["page"],
            now=ctx.now,
        )
        stored.update(section=view.section, page=view.page)  # what the buttons page through
        head = Msg(
            "staff.queue.head",
            {
                "section": Msg(f"staff.queue.section_{view.section}"),
                "kind": Msg(f"kind.{kind}") if kind else Msg("staff.queue.all_kinds"),
                "total": view.counts[view.section],
                "page": view.page + 1,
                "pages": view.pages,
            },
        )
        items = [self._item(ctx, request) for request in view.requests]
        text = stacked_lines([head, *(items or [Msg("staff.queue.empty")])])
        return Reply(text, self._buttons(view))

    @staticmethod
    def _buttons(view: rules.QueueView) -> list[list[Button]]:
        """A button per request shown, the pages, the sections with their counts, the kinds."""
        buttons = [
            [Button(Msg("staff.queue.show", {"code": _code(r)}), f"{QUEUE_SHOW}{r.id}")]
            for r in view.requests
        ]
        pager = []
        if view.page > 0:
            pager.append(Button(Msg("staff.queue.previous"), f"{QUEUE_PREFIX}p:{view.page - 1}"))
        if view.page + 1 < view.pages:
            pager.append(Button(Msg("staff.queue.next"), f"{QUEUE_PREFIX}p:{view.page + 1}"))
        buttons += [pager] if pager else []
        sections = [
            Button(
                Msg(
                    "staff.queue.section_button",
                    {"section": Msg(f"staff.queue.section_{s}"), "count": count},
                ),
                f"{QUEUE_PREFIX}s:{s}",
            )
            for s, count in view.counts.items()
        ]
        kinds = [Button(Msg("staff.queue.all_kinds"), f"{QUEUE_PREFIX}k:{ALL_KINDS}")]
        kinds += [Button(Msg(f"kind.{k}"), f"{QUEUE_PREFIX}k:{k}") for k in RequestKind]
        return [*buttons, sections, kinds]

    @staticmethod
    def _item(ctx: Context, request: ServiceRequest) -> Msg:
        params: dict[str, Any] = {
            "code": _code(request),
            "kind": Msg(f"kind.{request.kind}"),
            "status": Msg(f"status.{request.status}"),
        }
        deadline = request.step_deadline
        if deadline is None:
            return Msg("staff.queue.item_waiting", params)
        key = "staff.queue.item_overdue" if deadline < ctx.now else "staff.queue.item"
        return Msg(key, {**params, "deadline": tehran_date(deadline)})

    def command_for(self, value: str) -> str:
        return "show" if value.startswith(QUEUE_SHOW) else self.command

    def choose(self, ctx: Context, staff: Staff, value: str) -> None:
        what, _, argument = value.removeprefix(QUEUE_PREFIX).partition(":")
        if what == "show":
            request = rules.locked_request(ctx.session, int(argument))
            show(ctx, staff, request, "")
            return  # the queue's buttons stay usable
        view = ctx.conversation.data["staff_queue"]
        if what == "p":
            view["page"] = int(argument)
        else:
            view.update({{"s": "section", "k": "kind"}[what]: argument, "page": 0})
        ctx.go(self.name)


ASSIGN_PREFIX = "staff_assign:"


class AssignStep(StaffStep):
    name = states.STAFF_ASSIGN
    command = "assign"

    def ask(self, ctx: Context, staff: Staff) -> Reply:
        request = _draft_request(ctx)
        candidates = rules.eligible_assignees(ctx.session, request)
        buttons = [
            [
                Button(
                    Msg(
                        "staff.assign.button",
                        {"name": c.full_name, "role": Msg(f"staff.role.{c.role}")},
                    ),
                    f"{ASSIGN_PREFIX}{c.id}",
                )
            ]
            for c in candidates
        ]
        key = "staff.assign.prompt" if candidates else "staff.assign.nobody"
        return Reply(Msg(key, {"code": _code(request)}), buttons)

    def choose(self, ctx: Context, staff: Staff, value: str) -> None:
        request = _draft_request(ctx)
        chosen = int(value.removeprefix(ASSIGN_PREFIX))
        assignee = next(
            (c for c in rules.eligible_assignees(ctx.session, request) if c.id == chosen), None
        )
        if assignee is None:  # deactivated, or the request moved on, since the list was shown
            ctx.retry("input.button_expired")
            return
        actions.assign(ctx.session, request, assignee, by=staff, now=ctx.now, settings=ctx.settings)
        ctx.say("staff.assigned", code=_code(request), name=assignee.full_name)
        ctx.reset()


UPHELD, REJECTED = "staff_decide:upheld", "staff_decide:rejected"


class DecideStep(StaffStep):
    name = states.STAFF_DECIDE
    command = "decide"

    def ask(self, ctx: Context, staff: Staff) -> Reply:
        request = _draft_request(ctx)
        return Reply(
            Msg("staff.decide.prompt", {"code": _code(request)}),
            [
                [Button(Msg("staff.decide.upheld"), UPHELD)],
                [Button(Msg("staff.decide.rejected"), REJECTED)],
            ],
        )

    def choose(self, ctx: Context, staff: Staff, value: str) -> None:
        ctx.go(states.STAFF_DECIDE_AMOUNT if value == UPHELD else states.STAFF_DECIDE_REASON)


class DecideAmountStep(StaffStep):
    name = states.STAFF_DECIDE_AMOUNT
    command = "decide"
    back = states.STAFF_DECIDE

    def ask(self, ctx: Context, staff: Staff) -> Reply:
        request = _draft_request(ctx)
        assert request.disputed_bill_id is not None  # only reviews get here
        bill = ctx.session.get(Bill, request.disputed_bill_id)
        assert bill is not None
        return Reply(Msg("staff.decide.ask_amount", {"amount": Rials(bill.amount_rials)}))

    def typed(self, ctx: Context, staff: Staff, text: str) -> None:
        _uphold(ctx, staff, _draft_request(ctx), rules.parse_amount(text))
        ctx.reset()


REASON_PREFIX = "staff_reason:"


class DecideReasonStep(StaffStep):
    name = states.STAFF_DECIDE_REASON
    command = "decide"
    back = states.STAFF_DECIDE

    def ask(self, ctx: Context, staff: Staff) -> Reply:
        buttons = [
            [Button(Msg(f"staff.rejection.{reason}"), f"{REASON_PREFIX}{reason}")]
            for reason in RejectionReason
        ]
        return Reply(Msg("staff.decide.ask_reason"), buttons)

    def choose(self, ctx: Context, staff: Staff, value: str) -> None:
        ctx.draft["staff"]["reason"] = RejectionReason(value.removeprefix(REASON_PREFIX))
        ctx.go(states.STAFF_DECIDE_NOTE)


class DecideNoteStep(StaffStep):
    name = states.STAFF_DECIDE_NOTE
    command = "decide"
    back = states.STAFF_DECIDE_REASON

    def ask(self, ctx: Context, staff: Staff) -> Reply:
        return Reply(Msg("staff.decide.ask_note", {"max": rules.TEXT_MAX_CHARS}))

    def typed(self, ctx: Context, staff: Staff, text: str) -> None:
        reason = RejectionReason(ctx.draft["staff"]["reason"])
        _reject(ctx, staff, _draft_request(ctx), reason, text)
        ctx.reset()


METHOD_PREFIX = "staff_method:"


class PaidMethodStep(StaffStep):
    name = states.STAFF_PAID_METHOD
    command = "paid"

    def ask(self, ctx: Context, staff: Staff) -> Reply:
        request = _draft_request(ctx)
        payment = actions.pending_payment_of(ctx.session, request)
        amount = Rials(payment.amount_rials if payment else 0)
        buttons = [
            [Button(Msg(f"staff.method.{m}"), f"{METHOD_PREFIX}{m}")] for m in rules.DESK_METHODS
        ]
        return Reply(
            Msg("staff.paid.ask_method", {"code": _code(request), "amount": amount}), buttons
        )

    def choose(self, ctx: Context, staff: Staff, value: str) -> None:
        method = PaymentMethod(value.removeprefix(METHOD_PREFIX))
        _record_paid(ctx, staff, _draft_request(ctx), ctx.draft["staff"]["reference"], method)
        ctx.reset()


STEPS: list[Step] = [
    QueueStep(),
    AssignStep(),
    DecideStep(),
    DecideAmountStep(),
    DecideReasonStep(),
    DecideNoteStep(),
    PaidMethodStep(),
]
