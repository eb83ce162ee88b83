"""The staff dialogs' steps: the work queue, the button flows of /assign, /decide and /paid, the
full history's page buttons and those of staff notices."""

from collections.abc import Callable
from typing import Any, ClassVar

from backend import actions
from backend import staff as rules
from backend.constants import PaymentMethod, RejectionReason
from backend.identifiers import parse_bounded_int
from backend.models import Bill, ServiceRequest, Staff
from backend.services.loader import definitions
from backend.staff import QueueSection
from channels.replies import Button, Reply
from channels.staff_buttons import ONE_TAP
from channels.staff_buttons import PREFIX as ACT_PREFIX
from dialogs import states
from dialogs.engine import Context, Step
from dialogs.menu import MenuStep
from dialogs.staff.commands import (
    ALL_KINDS,
    PENDING_COMMANDS,
    UPHOLD,
    draft_request,
    guarded,
    pending_summary,
    perform,
    propose,
    propose_rejection,
    record_paid,
    run_staff_command,
)
from dialogs.staff.lines import code_of, listed, mobile_line, stacked_lines
from dialogs.staff.show import HISTORY_PREFIX, history_page, show
from locales.values import Code, Msg, Rials, tehran_date

ACT_COMMANDS = frozenset({"show", "take", "assign", *ONE_TAP})


class StaffStep(Step):
    """A step of a staff dialog: every input passes the same permission check as the command."""

    command: ClassVar[str]
    back: ClassVar[str | None] = states.MENU
    help = "staff.step_help"

    def prompt(self, ctx: Context) -> Reply:
        staff = rules.authorize(
            ctx.session,
            channel=ctx.event.channel,
            user_id=ctx.event.user_id,
            command=self.command_in(ctx),
        )
        if staff is None:
            # Someone who lost the role meanwhile is back at the menu, like anyone who is not staff.
            ctx.conversation.state = states.MENU
            return MenuStep().prompt(ctx)
        return self.ask(ctx, staff)

    def ask(self, ctx: Context, staff: Staff) -> Reply:
        raise NotImplementedError

    def command_in(self, ctx: Context) -> str:
        """The command whose permission this step needs, where it is now."""
        return self.command

    def command_for(self, value: str) -> str:
        return self.command

    def on_choice(self, ctx: Context, value: str) -> None:
        self._guard(ctx, self.command_for(value), lambda staff: self.choose(ctx, staff, value))

    def on_text(self, ctx: Context, text: str) -> None:
        self._guard(ctx, self.command_in(ctx), lambda staff: self.typed(ctx, staff, text))

    def choose(self, ctx: Context, staff: Staff, value: str) -> None:
        ctx.retry("input.button_expired")

    def typed(self, ctx: Context, staff: Staff, text: str) -> None:
        ctx.retry("input.use_buttons")

    @staticmethod
    def _guard(ctx: Context, command: str, work: Callable[[Staff], None]) -> None:
        if not guarded(ctx, command, work, ctx.retry):
            ctx.say("input.unknown_command")
            ctx.reset()


def _pager(prefix: str, page: int, pages: int) -> list[list[Button]]:
    """The row of buttons to the pages before and after `page` (from 0), if any; `<prefix>p:N`."""
    row = [Button(Msg("staff.queue.previous"), f"{prefix}p:{page - 1}")] if page > 0 else []
    row += [Button(Msg("staff.queue.next"), f"{prefix}p:{page + 1}")] if page + 1 < pages else []
    return [row] if row else []


QUEUE_PREFIX = "staff_q:"
QUEUE_SHOW = QUEUE_PREFIX + "show:"


class QueueStep(StaffStep):
    name = states.STAFF_QUEUE
    command = "queue"
    back = None  # staff leave the queue with any other command

    def ask(self, ctx: Context, staff: Staff) -> Reply:
        stored = ctx.conversation.data["staff_queue"]
        kind = None if stored["kind"] == ALL_KINDS else stored["kind"]
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
        items = [self._item(ctx, view, request) for request in view.requests]
        text = stacked_lines([head, *(items or [Msg("staff.queue.empty")])])
        return Reply(text, self._buttons(view))

    @staticmethod
    def _buttons(view: rules.QueueView) -> list[list[Button]]:
        """A button per request shown, the pages, the sections with their counts, the kinds."""
        buttons = [
            [Button(Msg("staff.queue.show", {"code": code_of(r)}), f"{QUEUE_SHOW}{r.id}")]
            for r in view.requests
        ]
        buttons += _pager(QUEUE_PREFIX, view.page, view.pages)
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
        # Every service, built or defined as data; two a row, their names being long.
        kinds = [Button(Msg("staff.queue.all_kinds"), f"{QUEUE_PREFIX}k:{ALL_KINDS}")]
        kinds += [Button(Msg(f"kind.{k}"), f"{QUEUE_PREFIX}k:{k}") for k in definitions()]
        return [*buttons, sections, *(kinds[i : i + 2] for i in range(0, len(kinds), 2))]

    @staticmethod
    def _item(ctx: Context, view: rules.QueueView, request: ServiceRequest) -> Msg:
        params: dict[str, Any] = {
            "code": code_of(request),
            "kind": Msg(f"kind.{request.kind}"),
            "status": Msg(f"status.{request.status}"),
        }
        deadline = request.step_deadline
        if deadline is None:
            return Msg("staff.queue.item_waiting", params)
        params["deadline"] = tehran_date(deadline)
        if request.id not in view.days_late:
            return Msg("staff.queue.item", params)
        # Late: by how much, and whose it is, so that a supervisor knows whom to ask.
        days = view.days_late[request.id]
        holder = view.holders.get(request.assignee_id or 0)
        return Msg(
            "staff.queue.item_overdue",
            {
                **params,
                "late": Msg("staff.queue.late_days", {"days": days})
                if days
                else Msg("staff.queue.late_today"),
                "holder": Msg("staff.queue.holder", {"name": holder.full_name})
                if holder
                else Msg("staff.queue.held_by_nobody"),
            },
        )

    def command_for(self, value: str) -> str:
        return "show" if value.startswith(QUEUE_SHOW) else self.command

    def choose(self, ctx: Context, staff: Staff, value: str) -> None:
        what, _, argument = value.removeprefix(QUEUE_PREFIX).partition(":")
        if what == "show":
            request = rules.locked_request(ctx.session, int(argument))
            show(ctx, staff, request, "")
            return  # the queue's buttons stay usable
        if what == "k" and argument != ALL_KINDS and argument not in definitions():
            ctx.retry("input.button_expired")  # a service no longer served
            return
        view = ctx.conversation.data["staff_queue"]
        if what == "p":
            view["page"] = int(argument)
        else:
            view.update({{"s": "section", "k": "kind"}[what]: argument, "page": 0})
        ctx.go(self.name)


FIND_PREFIX = "staff_find:"
FIND_SHOW = FIND_PREFIX + "show:"


class FindStep(StaffStep):
    """What /find found: a line per request, the newest first, a button for each, the pages."""

    name = states.STAFF_FIND
    command = "find"
    back = None  # staff leave it with any other command

    def ask(self, ctx: Context, staff: Staff) -> Reply:
        stored = ctx.conversation.data["staff_find"]
        by = rules.FindBy(stored["by"])
        view = rules.find_requests(ctx.session, by, stored["value"], page=stored["page"])
        stored["page"] = view.page
        quoted = Code(rules.quoted(staff, by, stored["value"]))
        head = Msg(
            "staff.find.head",
            {
                "what": Msg(f"staff.find.by_{by}", {"value": quoted}),
                "total": view.total,
                "page": view.page + 1,
                "pages": view.pages,
            },
        )
        items = [self._item(ctx, staff, request) for request in view.requests]
        buttons = [
            [Button(Msg("staff.queue.show", {"code": code_of(r)}), f"{FIND_SHOW}{r.id}")]
            for r in view.requests
        ]
        text = stacked_lines([head, *(items or [Msg("staff.find.none")])])
        return Reply(text, [*buttons, *_pager(FIND_PREFIX, view.page, view.pages)])

    @staticmethod
    def _item(ctx: Context, staff: Staff, request: ServiceRequest) -> Msg:
        # The subscriber as this role sees them (the national ID masked for most).
        view = rules.subscriber_view(ctx.session, request, staff)
        who = [Msg("staff.show.bill_id", {"bill_id": Code(view.bill_id)})]
        if view.name is not None:
            who.append(Msg("staff.show.name", {"name": view.name}))
        if view.mobile is not None:
            who.append(mobile_line(view.mobile))
        if view.national_id is not None:
            who.append(Msg("staff.show.national_id", {"national_id": Code(view.national_id)}))
        return Msg(
            "staff.find.item",
            {
                "code": code_of(request),
                "kind": Msg(f"kind.{request.kind}"),
                "status": Msg(f"status.{request.status}"),
                "filed": tehran_date(request.created_at),
                "who": listed(who),
            },
        )

    def command_for(self, value: str) -> str:
        return "show" if value.startswith(FIND_SHOW) else self.command

    def choose(self, ctx: Context, staff: Staff, value: str) -> None:
        what, _, argument = value.removeprefix(FIND_PREFIX).partition(":")
        if what == "show":
            show(ctx, staff, rules.locked_request(ctx.session, int(argument)), "")
            return  # the pages' buttons stay usable
        ctx.conversation.data["staff_find"]["page"] = int(argument)
        ctx.go(self.name)


ASSIGN_PREFIX = "staff_assign:"


class AssignStep(StaffStep):
    name = states.STAFF_ASSIGN
    command = "assign"

    def ask(self, ctx: Context, staff: Staff) -> Reply:
        request = draft_request(ctx)
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
        return Reply(Msg(key, {"code": code_of(request)}), buttons)

    def choose(self, ctx: Context, staff: Staff, value: str) -> None:
        request = draft_request(ctx)
        chosen = int(value.removeprefix(ASSIGN_PREFIX))
        assignee = next(
            (c for c in rules.eligible_assignees(ctx.session, request) if c.id == chosen), None
        )
        if assignee is None:  # deactivated, or the request moved on, since the list was shown
            ctx.retry("input.button_expired")
            return
        actions.assign(ctx.session, request, assignee, by=staff, now=ctx.now, settings=ctx.settings)
        ctx.say("staff.assigned", code=code_of(request), name=assignee.full_name)
        ctx.reset()


UPHELD, REJECTED = "staff_decide:upheld", "staff_decide:rejected"


class DecideStep(StaffStep):
    name = states.STAFF_DECIDE
    command = "decide"

    def ask(self, ctx: Context, staff: Staff) -> Reply:
        request = draft_request(ctx)
        return Reply(
            Msg("staff.decide.prompt", {"code": code_of(request)}),
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
        request = draft_request(ctx)
        assert request.disputed_bill_id is not None  # only reviews get here
        bill = ctx.session.get(Bill, request.disputed_bill_id)
        assert bill is not None
        return Reply(Msg("staff.decide.ask_amount", {"amount": Rials(bill.amount_rials)}))

    def typed(self, ctx: Context, staff: Staff, text: str) -> None:
        propose(ctx, staff, draft_request(ctx), {"do": UPHOLD, "amount": rules.parse_amount(text)})


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
        propose_rejection(ctx, staff, draft_request(ctx), reason, text)


CONFIRM_SEND, CONFIRM_CANCEL = "staff_confirm:send", "staff_confirm:cancel"


class ConfirmStep(StaffStep):
    """What a decision, a fee or a statement sends the subscriber, shown before it is sent: only
    «تأیید و ارسال» does it (checked again then: the request may have moved on meanwhile)."""

    name = states.STAFF_CONFIRM
    command = "decide"
    back = None

    @staticmethod
    def pending(ctx: Context) -> dict[str, Any] | None:
        pending: dict[str, Any] | None = ctx.draft.get("staff", {}).get("pending")
        return pending

    def command_in(self, ctx: Context) -> str:
        pending = self.pending(ctx)
        return PENDING_COMMANDS[pending["do"]] if pending else self.command

    def ask(self, ctx: Context, staff: Staff) -> Reply:
        pending = self.pending(ctx)
        assert pending is not None  # only propose() leads here
        summary = pending_summary(ctx, draft_request(ctx), pending)
        buttons = [
            [Button(Msg("staff.confirm.send"), CONFIRM_SEND)],
            [Button(Msg("staff.confirm.cancel"), CONFIRM_CANCEL)],
        ]
        return Reply(Msg("staff.confirm.prompt", {"message": summary}), buttons)

    def on_choice(self, ctx: Context, value: str) -> None:
        if self.pending(ctx) is None or value not in (CONFIRM_SEND, CONFIRM_CANCEL):
            ctx.retry("input.button_expired")
            return

        def refused(key: str, **params: Any) -> None:
            ctx.say(key, **params)  # nothing was sent; the decision is made again, if at all
            ctx.reset()

        def work(staff: Staff) -> None:
            self.choose(ctx, staff, value)

        if not guarded(ctx, self.command_in(ctx), work, refused):
            ctx.say("input.unknown_command")
            ctx.reset()

    def choose(self, ctx: Context, staff: Staff, value: str) -> None:
        request = draft_request(ctx)
        if value == CONFIRM_CANCEL:
            ctx.say("staff.confirm.cancelled", code=code_of(request))
        else:
            pending = self.pending(ctx)
            assert pending is not None
            perform(ctx, staff, request, pending)
        ctx.reset()


METHOD_PREFIX = "staff_method:"


class PaidMethodStep(StaffStep):
    name = states.STAFF_PAID_METHOD
    command = "paid"

    def ask(self, ctx: Context, staff: Staff) -> Reply:
        request = draft_request(ctx)
        payment = actions.pending_payment_of(ctx.session, request)
        amount = Rials(payment.amount_rials if payment else 0)
        buttons = [
            [Button(Msg(f"staff.method.{m}"), f"{METHOD_PREFIX}{m}")] for m in rules.DESK_METHODS
        ]
        return Reply(
            Msg("staff.paid.ask_method", {"code": code_of(request), "amount": amount}), buttons
        )

    def choose(self, ctx: Context, staff: Staff, value: str) -> None:
        method = PaymentMethod(value.removeprefix(METHOD_PREFIX))
        record_paid(ctx, staff, draft_request(ctx), ctx.draft["staff"]["reference"], method)
        ctx.reset()


class HistoryStep(StaffStep):
    """The full history's buttons, wherever they were pressed; a step never entered."""

    name = states.STAFF_HISTORY
    command = "history"
    standing_prefix = HISTORY_PREFIX

    def on_choice(self, ctx: Context, value: str) -> None:
        if not guarded(ctx, self.command, lambda staff: self.choose(ctx, staff, value), ctx.retry):
            # Not staff (any more): the button is stale, and what they were doing goes on.
            ctx.retry("input.button_expired")

    def choose(self, ctx: Context, staff: Staff, value: str) -> None:
        # A standing button's value may come from any client: its numbers are bounded first.
        parts = value.split(":")
        request_id, page = (
            (parse_bounded_int(parts[1]), parse_bounded_int(parts[2]))
            if len(parts) == 3
            else (None, None)
        )
        request = ctx.session.get(ServiceRequest, request_id) if request_id is not None else None
        if request is None or page is None:
            ctx.retry("input.button_expired")
            return
        ctx.replies.append(history_page(ctx, request, page))  # where they were stays


class StaffActStep(Step):
    """A staff notice's buttons (channels.staff_buttons), wherever they are pressed: each runs
    its command on the request as if typed, with the same permission check; a step never
    entered."""

    name = states.STAFF_ACT
    standing_prefix = ACT_PREFIX

    def on_choice(self, ctx: Context, value: str) -> None:
        # A standing button's value may come from any client: the command is one a button may
        # run, the request's id is bounded.
        _, command, number = [*value.split(":"), "", ""][:3]
        request_id = parse_bounded_int(number)
        request = ctx.session.get(ServiceRequest, request_id) if request_id is not None else None
        if command not in ACT_COMMANDS or request is None:
            ctx.retry("input.button_expired")
        elif not run_staff_command(ctx, command, request.tracking_code):
            ctx.retry("input.button_expired")  # not staff (any more)


STEPS: list[Step] = [
    QueueStep(),
    FindStep(),
    AssignStep(),
    DecideStep(),
    DecideAmountStep(),
    DecideReasonStep(),
    DecideNoteStep(),
    PaidMethodStep(),
    ConfirmStep(),
    HistoryStep(),
    StaffActStep(),
]
