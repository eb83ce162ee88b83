"""What /show tells a member of staff about a request: its summary for their role, its latest
history, its documents; and the whole history, page by page, for /history and its buttons."""

from typing import Any

from backend import actions
from backend import staff as rules
from backend.constants import EventAction, PaymentMethod, RequestKind
from backend.models import Bill, Counter, RequestEvent, ServiceRequest, Staff
from backend.services.engine import defined_service
from backend.storage import safe_file_name
from channels.registry import MESSENGERS
from channels.replies import Button, OutgoingFile, Reply
from dialogs.engine import Context
from dialogs.staff.assessment import assessment_lines
from dialogs.staff.lines import (
    code_of,
    mobile_line,
    role_list,
    stacked_lines,
    statement_line,
)
from dialogs.staff.service_steps import next_commands, service_lines
from locales.values import PLAIN, Code, Msg, Rials, render


def show(ctx: Context, staff: Staff, request: ServiceRequest, rest: str) -> None:
    # A bill review opens, under its title line, with its dispute assessed (advice only).
    head, *summary = _summary(ctx, staff, request)
    lines = [head, *assessment_lines(ctx, staff, request), *summary]
    ctx.replies.append(Reply(stacked_lines(lines)))
    ctx.replies.append(_history(ctx, request))
    documents = rules.documents_for(ctx.session, request, staff)
    # Names kept before they were made safe on arrival (dialogs.documents) are made safe here.
    files = [
        OutgoingFile(d.storage_key, safe_file_name(d.original_name) or "document", d.content_type)
        for d in documents
    ]
    text = Msg("staff.show.documents", {"count": len(files)})
    hidden = rules.hidden_documents(ctx.session, request, staff)
    if hidden:
        seeing = role_list(rules.roles_seeing(rules.Detail.IDENTITY_DOCUMENTS))
        hint = Msg("staff.show.documents_hidden", {"count": hidden, "roles": seeing})
        text = stacked_lines([text, hint])
    ctx.replies.append(Reply(text, files=files))


def _summary(ctx: Context, staff: Staff, request: ServiceRequest) -> list[Msg]:
    lines = [
        Msg(
            "staff.show.head",
            {
                "code": code_of(request),
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
    counter = ctx.session.get(Counter, request.counter_id) if request.counter_id else None
    if counter is not None:
        filer = ctx.session.get(Staff, request.filed_by_id) if request.filed_by_id else None
        params = {"counter": counter.name, "code": Code(counter.code)}
        lines.append(Msg("staff.show.counter", {**params, "by": filer.full_name if filer else ""}))
    lines += _subscriber(rules.subscriber_view(ctx.session, request, staff))
    definition = defined_service(request.kind)
    if request.kind == RequestKind.BILL_REVIEW:
        lines += _review(ctx, staff, request)
    elif definition is not None:
        lines += service_lines(request, staff)
    else:
        lines += _removal(ctx, staff, request)
    if request.description:
        lines.append(Msg("staff.show.description", {"text": request.description}))
    mine = [f"/{c}" for c in rules.step_commands(request) if rules.may(staff, c)]
    if mine:
        lines.append(Msg("staff.show.next", {"commands": Code(" ".join(mine))}))
    elif definition is not None and rules.may(staff, "act"):
        commands = next_commands(definition, request, staff)
        lines.append(Msg("staff.show.next", {"commands": commands}))
    return lines


def _subscriber(view: rules.SubscriberView) -> list[Msg]:
    lines = [Msg("staff.show.bill_id", {"bill_id": Code(view.bill_id)})]
    if view.name is not None:
        lines.append(Msg("staff.show.name", {"name": view.name}))
    if view.mobile is not None:
        lines.append(mobile_line(view.mobile))
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
                    "note": _shortened(request.decision_note or ""),  # whole in the history
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
        lines.append(statement_line(request.statement_rials))
    pending = actions.pending_payment_of(ctx.session, request)
    if money and pending is not None:
        lines.append(Msg("staff.show.pending_payment", {"amount": Rials(pending.amount_rials)}))
    return lines


# The history pages: every reply of them stays one message on the messenger of the staff member.
RECENT_EVENTS = 15  # history lines /show gives, the latest; the full history has them all
NOTE_SHOWN = 200  # characters of a note in /show; the full history has it whole
PAGE_CHARS = 3500  # of event lines in one history reply, as sent: 4,096 less the head and foot
HISTORY_PREFIX = "staff_hist"  # buttons `staff_hist:<request id>:<page>`, pages from 1


def _history(ctx: Context, request: ServiceRequest) -> Reply:
    """The latest events, long notes cut; a way to the full history when anything is left out."""
    events = rules.history(ctx.session, request)
    staff = rules.staff_by_actor(ctx.session, [e.actor for e in events])
    shown: list[Msg] = []
    room = PAGE_CHARS
    for event in reversed(events[-RECENT_EVENTS:]):
        line = _event(event, staff, cut=True)
        room -= _length(ctx, line)
        if shown and room < 0:
            break
        shown.insert(0, line)
    lines = [Msg("staff.history.head", {"count": len(events)})]
    if len(events) > len(shown):
        lines.append(Msg("staff.history.earlier", {"count": len(events) - len(shown)}))
    lines += shown
    cut = any(len(e.note or "") > NOTE_SHOWN for e in events[len(events) - len(shown) :])
    if len(events) == len(shown) and not cut:
        return Reply(stacked_lines(lines))
    command = Code(f"/history {request.tracking_code}")
    lines.append(Msg("staff.history.more", {"command": command}))
    button = Button(Msg("staff.history.full"), f"{HISTORY_PREFIX}:{request.id}:1")
    return Reply(stacked_lines(lines), [[button]])


def history_page(ctx: Context, request: ServiceRequest, page: int) -> Reply:
    """Page `page` (from 1, the oldest; past the last, the last) of the whole history, each note
    whole, with buttons to the pages before and after it."""
    events = rules.history(ctx.session, request)
    staff = rules.staff_by_actor(ctx.session, [e.actor for e in events])
    pages = _pages(ctx, [_event(event, staff, cut=False) for event in events])
    number = min(max(page, 1), len(pages))
    head = Msg(
        "staff.history.page",
        {"code": code_of(request), "count": len(events), "page": number, "pages": len(pages)},
    )

    def to(target: int, label: str) -> Button:
        return Button(Msg(label), f"{HISTORY_PREFIX}:{request.id}:{target}")

    turn = [to(number - 1, "staff.history.previous")] if number > 1 else []
    turn += [to(number + 1, "staff.history.next")] if number < len(pages) else []
    return Reply(stacked_lines([head, *pages[number - 1]]), [turn] if turn else [])


def _pages(ctx: Context, lines: list[Msg]) -> list[list[Msg]]:
    """The lines in order, as pages of at most PAGE_CHARS (and one line at least); one page,
    empty, for none. Earlier pages stay as they are when events are added."""
    pages: list[list[Msg]] = [[]]
    room = PAGE_CHARS
    for line in lines:
        length = _length(ctx, line)
        if pages[-1] and length > room:
            pages.append([])
            room = PAGE_CHARS
        pages[-1].append(line)
        room -= length
    return pages


def _length(ctx: Context, line: Msg) -> int:
    """The line's characters as the staff member's messenger is sent them (markup and the line
    break included)."""
    messenger = MESSENGERS.get(ctx.event.channel)
    return len(render(line, ctx.locale, messenger.markup if messenger else PLAIN)) + 1


def _shortened(note: str) -> str:
    """A long note's beginning, cut after a word where one ends near the limit, with «…»."""
    if len(note) <= NOTE_SHOWN:
        return note
    space = note.rfind(" ", NOTE_SHOWN * 3 // 4, NOTE_SHOWN)
    return note[: space if space > 0 else NOTE_SHOWN].rstrip() + "…"


def _actor(actor: str, staff: dict[str, Staff]) -> Msg | str:
    if actor in staff:
        return staff[actor].full_name
    if actor == actions.SYSTEM:
        return Msg("staff.actor.system")
    if actor.startswith("subscriber:"):
        return Msg("staff.actor.subscriber")
    return actor


PAYMENT_ACTIONS = (EventAction.PAY_FEE, EventAction.SETTLE)


def _event(event: RequestEvent, staff: dict[str, Staff], *, cut: bool) -> Msg:
    params: dict[str, Any] = {
        "when": event.created_at,
        "action": Msg(f"staff.event.{event.action}"),
        "actor": _actor(event.actor, staff),
    }
    if not event.note:
        return Msg("staff.history.event", params)
    note = _shortened(event.note) if cut else event.note
    if event.action == EventAction.ASSIGN:
        # The note names the assignee as they were then, to be read, never parsed: who has the
        # request now is its assignee_id, which the summary shows.
        return Msg("staff.history.assigned", {**params, "assignee": note})
    method, _, reference = event.note.partition(" ")
    if event.action in PAYMENT_ACTIONS and method in set(PaymentMethod) and reference:
        # actions.record_payment's note: the method's code and the receipt, said in words here.
        by = Msg(f"staff.method.{method}")
        return Msg("staff.history.paid", {**params, "method": by, "reference": Code(reference)})
    return Msg("staff.history.event_note", {**params, "note": note})
