"""An admin's counter commands in the bots, as thin as `python -m backend counters`: `/counteradd`
introduces a counter with the guild association's letter, `/counterstep CODE ACTION …` takes
any other step of backend.counter_workflow (and delegates services, links an operator). A step
that needs a scanned paper asks for it next, and is taken once it has come."""

from dataclasses import asdict
from datetime import date
from typing import Any

from sqlmodel import select

from backend.actions import staff_actor
from backend.constants import CounterAction, CounterDocumentType, CounterReason
from backend.counter_workflow import TRANSITIONS, Paper, apply, find_transition
from backend.counters import (
    CounterDetails,
    CounterError,
    add_operator,
    check_details,
    counter_by_code,
    delegate,
    introduce_counter,
    parse_kinds,
)
from backend.importers import _jalali_date
from backend.models import Counter, Staff
from backend.services.engine import service_kinds
from backend.staff import StaffError, staff_by_phone
from channels.replies import Reply
from dialogs import states
from dialogs.engine import Context, Step
from dialogs.events import FileTooLarge, IncomingFile
from dialogs.staff.commands import guarded
from dialogs.staff.lines import listed
from locales.values import Code, Msg

ADD, STEP = "counteradd", "counterstep"
FIELDS = ("code", "name", "city", "area", "address", "phone", "manager_name")
FIELD_SEPARATORS = str.maketrans({"؛": ";"})  # the Persian semicolon, as typed on a phone
PAPER = "counter_paper"  # the draft's step waiting for its scan: {command, code, …}
NONE = ("none", "هیچ")  # `/counterstep CODE delegate none`: it files nothing
STEP_ACTIONS = {t.action for t in TRANSITIONS}


def run_counter_command(ctx: Context, name: str, argument: str) -> bool:
    """`/counteradd` and `/counterstep` for those who may run them; False for everyone else."""
    handlers = {ADD: counteradd, STEP: counterstep}
    handler = handlers.get(name)
    if handler is None:
        return False
    return guarded(ctx, name, lambda staff: handler(ctx, staff, argument), ctx.say)


def _usage(ctx: Context, command: str) -> None:
    ctx.say("staff.usage", usage=Msg(f"staff.help.{command}"))


def _counter(ctx: Context, code: str) -> Counter | None:
    try:
        return counter_by_code(ctx.session, code)
    except CounterError:
        ctx.say("staff.counter_steps.unknown", code=Code(code))
        return None


def counteradd(ctx: Context, staff: Staff, argument: str) -> None:
    """`/counteradd CODE; NAME; CITY; AREA; ADDRESS; PHONE; MANAGER`, then the letter's scan."""
    parts = [part.strip() for part in argument.translate(FIELD_SEPARATORS).split(";")]
    if len(parts) != len(FIELDS):
        _usage(ctx, ADD)
        return
    try:
        details = check_details(**dict(zip(FIELDS, parts, strict=True)))
    except CounterError as error:
        field = Msg(f"staff.counter_field.{error.field}")
        ctx.say("staff.counter_steps.bad_field", field=field, usage=Msg(f"staff.help.{ADD}"))
        return
    if ctx.session.exec(select(Counter.id).where(Counter.code == details.code)).first():
        ctx.say("staff.counter_steps.taken", code=Code(details.code))
        return
    _ask_for_paper(ctx, ADD, CounterDocumentType.INTRODUCTION_LETTER, asdict(details))


def counterstep(ctx: Context, staff: Staff, argument: str) -> None:
    """`/counterstep CODE ACTION [REASON|SERVICES|PHONE|DATE] [NOTE]`."""
    code, _, rest = argument.partition(" ")
    typed_action, _, rest = rest.strip().partition(" ")
    try:
        action = CounterAction(typed_action.strip().lower())
    except ValueError:
        action = None
    if not code or action is None or action == CounterAction.INTRODUCE:
        _usage(ctx, STEP)
        return
    counter = _counter(ctx, code)
    if counter is None:
        return
    rest = rest.strip()
    actor = staff_actor(staff)
    if action == CounterAction.DELEGATE:
        _delegate(ctx, counter, rest, actor)
    elif action == CounterAction.ADD_OPERATOR:
        _add_operator(ctx, counter, rest, actor)
    else:
        _step(ctx, counter, action, rest, actor)


def _delegate(ctx: Context, counter: Counter, typed: str, actor: str) -> None:
    if not typed:
        _usage(ctx, STEP)
        return
    try:
        wanted = typed.replace(" ", ",")
        kinds = [] if typed.casefold() in NONE else parse_kinds(wanted, service_kinds())
    except CounterError:
        _usage(ctx, STEP)
        return
    files = delegate(ctx.session, counter, kinds, actor=actor, now=ctx.now)
    services = listed([Msg(f"kind.{kind}") for kind in files]) if files else None
    if services is None:
        ctx.say("staff.counter_steps.delegated_none", code=Code(counter.code))
    else:
        ctx.say("staff.counter_steps.delegated", code=Code(counter.code), services=services)


def _add_operator(ctx: Context, counter: Counter, phone: str, actor: str) -> None:
    try:
        operator = staff_by_phone(ctx.session, phone)
    except StaffError:
        ctx.say("staff.counter_steps.no_such_staff", phone=Code(phone))
        return
    add_operator(ctx.session, counter, operator, actor=actor, now=ctx.now)
    ctx.say("staff.counter_steps.operator_added", name=operator.full_name, code=Code(counter.code))


def _step(ctx: Context, counter: Counter, action: CounterAction, rest: str, actor: str) -> None:
    transition = find_transition(counter, action)  # out of turn: refused before anything else
    reason: CounterReason | None = None
    if transition.needs_reason:
        typed_reason, _, rest = rest.partition(" ")
        try:
            reason = CounterReason(typed_reason.strip().lower())
        except ValueError:
            ctx.say("staff.counter_steps.reasons", reasons=Code(", ".join(CounterReason)))
            return
    if transition.document is not None:
        typed_date, _, note = rest.partition(" ")
        signed_on = _jalali_date(typed_date.strip())
        if isinstance(signed_on, str):
            ctx.say("staff.counter_steps.bad_date", usage=Msg(f"staff.help.{STEP}"))
            return
        paper = {"code": counter.code, "action": action, "signed_on": signed_on.isoformat()}
        _ask_for_paper(ctx, STEP, transition.document, paper | {"note": note.strip() or None})
        return
    apply(ctx.session, counter, action, actor=actor, now=ctx.now, reason=reason, note=rest or None)
    _say_moved(ctx, counter)


def _say_moved(ctx: Context, counter: Counter) -> None:
    params: dict[str, Any] = {
        "name": counter.name,
        "code": Code(counter.code),
        "status": Msg(f"counter.status.{counter.status}"),
    }
    if counter.step_deadline is None:
        ctx.say("staff.counter_steps.moved", **params)
    else:
        ctx.say("staff.counter_steps.moved_due", deadline=counter.step_deadline, **params)


def _ask_for_paper(
    ctx: Context, command: str, document: CounterDocumentType, values: dict[str, Any]
) -> None:
    ctx.reset(states.STAFF_COUNTER_PAPER)
    ctx.draft[PAPER] = {"command": command, "document": document, **values}


class CounterPaperStep(Step):
    """The scan a counter's step needs (the guild's letter, the signed agreement): the step is
    taken once it has come, by whoever may still run the command that asked for it."""

    name = states.STAFF_COUNTER_PAPER
    back = states.MENU
    help = "help.counter_paper"

    def prompt(self, ctx: Context) -> Reply:
        document = Msg(f"counter.document.{ctx.draft[PAPER]['document']}")
        return Reply(Msg("staff.counter_steps.ask_paper", {"document": document}))

    def on_text(self, ctx: Context, text: str) -> None:
        ctx.retry("staff.counter_steps.send_paper")

    def on_file(self, ctx: Context, file: IncomingFile) -> None:
        waiting = ctx.draft[PAPER]
        limit = ctx.settings.max_document_bytes
        try:
            content = file.fetch() if file.size_bytes <= limit else None
        except FileTooLarge:
            content = None
        if content is None or len(content) > limit:
            ctx.retry("review.document_too_large", name=file.name, max_mb=limit // 2**20)
            return
        paper = Paper(content, file.name)
        if guarded(ctx, waiting["command"], lambda staff: self._take(ctx, staff, paper), ctx.say):
            if ctx.next_state is None:  # refused: the paper is asked for again
                ctx.go(self.name)
        else:  # no longer theirs to run
            ctx.say("input.unknown_command")
            ctx.reset()

    def _take(self, ctx: Context, staff: Staff, paper: Paper) -> None:
        waiting = ctx.draft[PAPER]
        actor = staff_actor(staff)
        if waiting["command"] == ADD:
            details = CounterDetails(**{field: waiting[field] for field in FIELDS})
            try:
                counter = introduce_counter(
                    ctx.session, details, paper, storage=ctx.storage, actor=actor, now=ctx.now
                )
            except CounterError:  # introduced meanwhile from elsewhere
                ctx.say("staff.counter_steps.taken", code=Code(details.code))
                ctx.reset()
                return
        else:
            counter = counter_by_code(ctx.session, waiting["code"])
            apply(
                ctx.session,
                counter,
                CounterAction(waiting["action"]),
                actor=actor,
                now=ctx.now,
                storage=ctx.storage,
                note=waiting["note"],
                document=paper,
                signed_on=date.fromisoformat(waiting["signed_on"]),
            )
        ctx.reset()
        _say_moved(ctx, counter)
