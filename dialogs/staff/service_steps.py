"""Staff working a service defined as data: `/act CODE` lists what they may do at its step,
`/act CODE ACTION [VALUE]` does it; and what /show says of such a request."""

from typing import Any

from backend import staff as rules
from backend.identifiers import display_mobile, mask_mobile, mask_national_id
from backend.models import ServiceRequest, Staff
from backend.services.engine import act, actor_of, defined_service, may_take, step_of
from backend.services.schema import Action, ServiceDefinition
from backend.workflows import Refused
from dialogs.engine import Context
from dialogs.staff.lines import code_of, listed
from locales.values import Code, Msg, Rials


def act_on(ctx: Context, staff: Staff, request: ServiceRequest, rest: str) -> None:
    definition = defined_service(request.kind)
    if definition is None:
        raise Refused("wrong_kind", kind=request.kind)
    code, _, typed = rest.partition(" ")
    step = step_of(definition, request.status)
    if not code:
        ctx.say(
            "staff.service.actions",
            code=code_of(request),
            commands=next_commands(definition, request, staff),
        )
        return
    action = next((a for a in step.actions if a.code == code), None)
    if action is None:
        raise Refused("wrong_status", status=request.status)
    if not may_take(staff, step, action):
        acting = actor_of(step, action)
        ctx.say("staff.service.not_yours", who=Msg(f"staff.service.by.{acting}"))
        return
    value = _value(action, typed.strip())
    act(ctx.session, request, code, staff=staff, value=value, now=ctx.now, settings=ctx.settings)
    ctx.say("staff.service.done", code=code_of(request), step=Msg(f"status.{request.status}"))


def _value(action: Action, typed: str) -> int | str | None:
    """What the action takes, as typed after it; Refused when it is missing or wrong."""
    if action.value is None:
        return None
    if not typed:
        raise Refused("service_value_needed")
    if action.value == "amount":
        return rules.parse_amount(typed)
    if action.value == "reading":
        return rules.parse_reading(typed)
    if action.value == "choice" and typed not in action.options:
        raise Refused("service_value_needed")
    return rules.clean_text(typed)


def next_commands(definition: ServiceDefinition, request: ServiceRequest, staff: Staff) -> Any:
    """The /act commands `staff` may run at the request's step, or that there are none."""
    step = step_of(definition, request.status)
    mine = [
        Code(f"/act {request.tracking_code} {a.code}" + (f" <{a.value}>" if a.value else ""))
        for a in step.actions
        if may_take(staff, step, a)
    ]
    return listed(mine) if mine else Msg("refused.next_none")


def service_lines(request: ServiceRequest, staff: Staff) -> list[Msg]:
    """A defined service's answers for /show: IDs in full only for roles that see them."""
    definition = defined_service(request.kind)
    assert definition is not None
    answers = request.answers or {}
    lines = []
    for question in definition.questions:
        if question.key not in answers or question.type == "bill_id":
            continue  # the bill ID is the subscriber's line already
        value: Any = answers[question.key]
        if question.type == "choice":
            value = Msg(f"service.{definition.code}.{question.key}.{value}")
        elif question.type == "national_id":
            full = rules.sees(staff, rules.Detail.FULL_NATIONAL_ID)
            value = Code(value if full else mask_national_id(value))
        elif question.type == "mobile":
            full = rules.sees(staff, rules.Detail.MOBILE)
            value = Code(display_mobile(value) if full else mask_mobile(value))
        elif question.type == "amount":
            value = Rials(value)
        label = Msg(f"service.{definition.code}.label.{question.key}")
        lines.append(Msg("service.answer", {"question": label, "answer": value}))
    if "filer" in answers:  # how the filer may file it: the proof staff should find with it
        filed_as = Msg(f"service.filer.{answers['filer']}")
        lines.append(
            Msg("service.answer", {"question": Msg("service.label_filer"), "answer": filed_as})
        )
    if "mobile_proven" in answers:
        key = "proven" if answers["mobile_proven"] else "not_proven"
        lines.append(Msg(f"staff.service.mobile_{key}"))
    return lines
