"""Filing a service defined only as data (backend.services): its questions by type, the
registered mobile proven where the definition asks, its documents, a summary to confirm, the
tracking code; and the subscriber's own buttons at a step that waits on them."""

from typing import Any

from backend import otp
from backend.actions import subscriber_actor
from backend.constants import OtpPurpose
from backend.identifiers import (
    InvalidIdentifier,
    display_mobile,
    mask_national_id,
    parse_electricity_bill_id,
)
from backend.models import Subscription
from backend.service_requests import (
    DraftDocument,
    find_subscription,
    registered_mobile,
    subscriber_requests,
)
from backend.services.answers import BadAnswer, parse_answer
from backend.services.engine import (
    act,
    actor_of,
    data_services,
    defined_service,
    file_service,
    step_of,
)
from backend.services.schema import SUBSCRIBER, Document, Question, ServiceDefinition
from backend.workflows import Refused
from channels.replies import Button, Reply
from dialogs import states
from dialogs.codes import OtpCodeStep, ask_for_code
from dialogs.documents import DocumentsStep
from dialogs.engine import Context, Step
from dialogs.lines import stacked_lines
from locales.values import Code, Msg, Rials

PICK = "svc:"  # svc:<service>: file it
ACT = "svcact:"  # svcact:<tracking code>:<action>: the subscriber's button at a step
CONFIRM = "svcok:file"
OPTIONS = "svcopt:"


def _definition(ctx: Context) -> ServiceDefinition:
    definition = defined_service(ctx.draft.get("service", ""))
    assert definition is not None  # set when the service was chosen
    return definition


def _question(ctx: Context) -> Question:
    return _definition(ctx).questions[ctx.draft["question"]]


def _subscription(ctx: Context) -> Subscription | None:
    return find_subscription(ctx.session, bill_id=ctx.draft.get("bill_id", ""))


class ServicesStep(Step):
    """The services defined as data, and the buttons the subscriber has at a request of one."""

    name = states.SERVICES
    back = states.MENU
    help = "help.menu"

    def prompt(self, ctx: Context) -> Reply:
        buttons = [[Button(Msg(f"kind.{d.code}"), f"{PICK}{d.code}")] for d in data_services()]
        for request, action in _waiting_on_me(ctx):
            label = Msg(
                "service.act_on",
                {"action": Msg(f"service.action.{action}"), "code": Code(request)},
            )
            buttons.append([Button(label, f"{ACT}{request}:{action}")])
        return Reply(Msg("service.pick"), buttons=buttons)

    def on_choice(self, ctx: Context, value: str) -> None:
        if value.startswith(ACT):
            tracking_code, _, action = value.removeprefix(ACT).partition(":")
            _subscriber_acts(ctx, tracking_code, action)
            return
        code = value.removeprefix(PICK)
        if defined_service(code) is None:
            ctx.retry("input.button_expired")
            return
        ctx.reset(states.SERVICE_QUESTION)
        ctx.draft.update(service=code, question=0, answers={}, document=0)


def _waiting_on_me(ctx: Context) -> list[tuple[str, str]]:
    """(tracking code, action) of each button this chat's requests offer it now."""
    mine = subscriber_requests(
        ctx.session, channel=ctx.event.channel, user_id=ctx.event.user_id, mobile=None
    )
    offered = []
    for request in mine:
        definition = defined_service(request.kind)
        if definition is None:
            continue
        step = step_of(definition, request.status)
        for action in step.actions:
            if action.button and actor_of(step, action) == SUBSCRIBER:
                offered.append((request.tracking_code, action.code))
    return offered


def _subscriber_acts(ctx: Context, tracking_code: str, action: str) -> None:
    mine = subscriber_requests(
        ctx.session,
        channel=ctx.event.channel,
        user_id=ctx.event.user_id,
        mobile=None,
        tracking_code=tracking_code,
        limit=1,
    )
    if not mine:
        ctx.retry("input.button_expired")
        return
    request = mine[0]
    try:
        with ctx.session.begin_nested():
            act(
                ctx.session,
                request,
                action,
                staff=None,
                actor=subscriber_actor(ctx.event.channel),
                now=ctx.now,
                settings=ctx.settings,
            )
    except Refused:
        ctx.retry("input.button_expired")  # the step moved on meanwhile
        return
    ctx.say("service.acted", code=Code(tracking_code), step=Msg(f"status.{request.status}"))
    ctx.go(states.MENU)


def _next(ctx: Context) -> None:
    """On to the next question, the documents, or the summary."""
    definition = _definition(ctx)
    ctx.draft["question"] += 1
    if ctx.draft["question"] < len(definition.questions):
        ctx.go(states.SERVICE_QUESTION)
    else:
        _next_document(ctx, first=True)


def _next_document(ctx: Context, *, first: bool = False) -> None:
    documents = _definition(ctx).documents
    if not first:
        ctx.draft["document"] += 1
    index = ctx.draft["document"]
    if index >= len(documents):
        ctx.go(states.SERVICE_SUMMARY)
    elif documents[index].required:
        ctx.go(states.SERVICE_DOCUMENTS)
    else:
        ctx.go(states.SERVICE_MORE_DOCUMENTS)


class QuestionStep(Step):
    name = states.SERVICE_QUESTION
    back = states.SERVICES

    def prompt(self, ctx: Context) -> Reply:
        definition, question = _definition(ctx), _question(ctx)
        params = {"max": question.max_length, "min": question.min, "most": question.max}
        key = f"service.{definition.code}.ask.{question.key}"
        if question.type == "bill_id":
            key = "service.ask_bill_id"
        buttons = [
            [Button(Msg(f"service.{definition.code}.{question.key}.{o}"), f"{OPTIONS}{o}")]
            for o in question.options
        ]
        return Reply(Msg(key, params), buttons=buttons)

    def takes_numbers(self, ctx: Context) -> bool:
        return _question(ctx).type != "choice"  # two instalments are not «لغو»

    def on_choice(self, ctx: Context, value: str) -> None:
        question = _question(ctx)
        option = value.removeprefix(OPTIONS)
        if question.type != "choice" or option not in question.options:
            ctx.retry("input.button_expired")
            return
        ctx.draft["answers"] = {**ctx.draft["answers"], question.key: option}
        _next(ctx)

    def on_text(self, ctx: Context, text: str) -> None:
        question = _question(ctx)
        if question.type == "choice":
            ctx.retry("input.use_buttons")
        elif question.type == "bill_id":
            self._bill_id(ctx, text)
        else:
            try:
                answer = parse_answer(question, text)
            except BadAnswer as bad:
                ctx.retry(bad.key, **bad.params)
                return
            ctx.draft["answers"] = {**ctx.draft["answers"], question.key: answer}
            _next(ctx)

    def _bill_id(self, ctx: Context, text: str) -> None:
        try:
            bill_id = parse_electricity_bill_id(text)
        except InvalidIdentifier as error:
            ctx.retry(f"review.bill_id_{error.reason}")
            return
        subscription = find_subscription(ctx.session, bill_id=bill_id)
        if subscription is None:
            ctx.retry("review.bill_id_unknown", bill_id=Code(bill_id))
            return
        ctx.draft["bill_id"] = bill_id
        ctx.draft["answers"] = {**ctx.draft["answers"], _question(ctx).key: bill_id}
        proof = _definition(ctx).ownership_proof
        if proof == "none":
            _next(ctx)
            return
        mobile = registered_mobile(ctx.session, subscription)
        held = mobile is not None and (
            otp.proof_needed(
                ctx.session, channel=ctx.event.channel, user_id=ctx.event.user_id, mobile=mobile
            )
            == otp.Proof.HELD
        )
        if held or proof == "registered_mobile_or_counter":
            # Who lost the registered number says so; staff then ask a counter to confirm.
            ctx.draft["answers"] = {**ctx.draft["answers"], "mobile_proven": held}
            _next(ctx)
        elif mobile is None:
            ctx.say("removal.no_mobile", bill_id=Code(bill_id))
            ctx.reset()
        else:
            ask_for_code(ctx, mobile, OtpPurpose.MOBILE, states.SERVICE_CODE)


class CodeStep(OtpCodeStep):
    """The registered mobile proven by the code texted to it."""

    name = states.SERVICE_CODE
    back = states.SERVICE_QUESTION
    purpose = OtpPurpose.MOBILE

    def shown_mobile(self, ctx: Context) -> str:
        return self.mobile(ctx) or ""

    def mobile(self, ctx: Context) -> str | None:
        subscription = _subscription(ctx)
        return registered_mobile(ctx.session, subscription) if subscription else None

    def proven(self, ctx: Context, mobile: str, checked: otp.Checked) -> None:
        ctx.draft["answers"] = {**ctx.draft["answers"], "mobile_proven": True}
        ctx.say("removal.owner_proven", phone=Code(display_mobile(mobile)))
        _next(ctx)


def _document(ctx: Context) -> Document:
    return _definition(ctx).documents[ctx.draft["document"]]


class RequiredDocumentStep(DocumentsStep):
    name = states.SERVICE_DOCUMENTS
    back = states.SERVICES
    required = 1
    prompt_key = "service.send_document"

    def document_type(self, ctx: Context) -> Any:
        return _document(ctx).type

    def prompt_params(self, ctx: Context) -> dict[str, Any]:
        return {"document": Msg(f"service.document.{_document(ctx).type}")}

    def on_done(self, ctx: Context) -> None:
        _next_document(ctx)


class OptionalDocumentStep(RequiredDocumentStep):
    name = states.SERVICE_MORE_DOCUMENTS
    required = 0
    prompt_key = "service.send_optional_document"


class SummaryStep(Step):
    name = states.SERVICE_SUMMARY
    back = states.SERVICES

    def prompt(self, ctx: Context) -> Reply:
        definition = _definition(ctx)
        lines = [
            Msg(
                "service.answer",
                {
                    "question": _label(definition, q),
                    "answer": _shown(definition, q, ctx.draft["answers"][q.key]),
                },
            )
            for q in definition.questions
        ]
        summary = Msg(
            "service.summary",
            {
                "service": Msg(f"kind.{definition.code}"),
                "answers": stacked_lines(lines),
                "documents": len(ctx.draft.get("documents", [])),
            },
        )
        return Reply(summary, buttons=[[Button(Msg("service.confirm"), CONFIRM)]])

    def on_choice(self, ctx: Context, value: str) -> None:
        if value != CONFIRM:
            ctx.retry("input.button_expired")
            return
        definition, subscription = _definition(ctx), _subscription(ctx)
        assert subscription is not None and subscription.id is not None  # asked first
        request = file_service(
            ctx.session,
            definition=definition,
            subscription_id=subscription.id,
            answers=ctx.draft["answers"],
            documents=[DraftDocument(**d) for d in ctx.draft.get("documents", [])],
            channel=ctx.event.channel,
            user_id=ctx.event.user_id,
            locale=ctx.locale,
            now=ctx.now,
            settings=ctx.settings,
        )
        ctx.say(
            "service.filed",
            service=Msg(f"kind.{definition.code}"),
            code=Code(request.tracking_code),
            deadline=request.step_deadline,
        )
        ctx.reset()


def _label(definition: ServiceDefinition, question: Question) -> Msg:
    if question.type == "bill_id":  # asked alike in every service
        return Msg("service.label_bill_id")
    return Msg(f"service.{definition.code}.label.{question.key}")


def _shown(definition: ServiceDefinition, question: Question, answer: Any) -> Any:
    """An answer as the summary shows it back: a choice in words, IDs as codes, masked."""
    if question.type == "choice":
        return Msg(f"service.{definition.code}.{question.key}.{answer}")
    if question.type == "national_id":
        return Code(mask_national_id(answer))
    if question.type == "mobile":
        return Code(display_mobile(answer))
    if question.type == "bill_id":
        return Code(answer)
    if question.type == "amount":
        return Rials(answer)
    return answer


STEPS = (
    ServicesStep(),
    QuestionStep(),
    CodeStep(),
    RequiredDocumentStep(),
    OptionalDocumentStep(),
    SummaryStep(),
)
