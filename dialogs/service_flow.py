"""Filing a service defined only as data (backend.services): its questions by type, the
registered mobile proven where the definition asks, how the filer may file it (its `filers`,
backend.services.filers) and their proof, its documents, a summary to confirm, the tracking
code; and the subscriber's own buttons at a step that waits on them.

At a pishkhan counter the operator walks it for the subscriber standing there, from the
question after the bill ID (dialogs.counter_filing, take_up_at_counter). By SMS, which carries
no files, the optional documents are left out and a way of filing that needs a document is not
offered: a service that cannot be filed without one is sent to the bots or a counter.
"""

from dataclasses import replace
from typing import Any

from backend import otp
from backend.actions import subscriber_actor
from backend.constants import Channel, OtpPurpose, SubscriptionStatus
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
from backend.services.filers import (
    REGISTERED_MOBILE,
    documents_for,
    mobile_proof_waits,
    needs_document,
)
from backend.services.schema import SUBSCRIBER, Document, Filer, Question, ServiceDefinition
from backend.workflows import Refused
from channels.replies import Button, Reply
from dialogs import states
from dialogs.codes import OtpCodeStep, ask_for_code
from dialogs.documents import DocumentsStep
from dialogs.engine import Context, Step
from dialogs.lines import stacked_lines
from dialogs.on_behalf import at_counter, bill_id_state, say_filed, say_refused
from locales.values import Code, Msg, Rials

PICK = "svc:"  # svc:<service>: file it
ACT = "svcact:"  # svcact:<tracking code>:<action>: the subscriber's button at a step
CONFIRM = "svcok:file"
OPTIONS = "svcopt:"
FILER = "svcfiler:"  # svcfiler:<filer>: how the filer may file it
LOST = "svclost"  # the registered number is lost: a counter confirms the holder instead


def _definition(ctx: Context) -> ServiceDefinition:
    definition = defined_service(ctx.draft.get("service", ""))
    assert definition is not None  # set when the service was chosen
    return definition


def _question(ctx: Context) -> Question:
    return _definition(ctx).questions[ctx.draft["question"]]


def _subscription(ctx: Context) -> Subscription | None:
    return find_subscription(ctx.session, bill_id=ctx.draft.get("bill_id", ""))


def _registered_mobile(ctx: Context) -> str | None:
    subscription = _subscription(ctx)
    return registered_mobile(ctx.session, subscription) if subscription else None


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
        definition = defined_service(code)
        if definition is None:
            ctx.retry("input.button_expired")
            return
        if not _offered(ctx, definition):  # by SMS: no way of filing it without a document
            ctx.retry("service.sms_needs_document", service=Msg(f"kind.{code}"))
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


def _by_sms(ctx: Context) -> bool:
    return ctx.event.channel == Channel.SMS


def _offered(ctx: Context, definition: ServiceDefinition) -> list[Filer]:
    """The ways of filing the service offered here: by SMS only those that need no document."""
    return [
        filer
        for filer in definition.filers
        if not (_by_sms(ctx) and needs_document(definition, filer))
    ]


def _documents(ctx: Context) -> tuple[Document, ...]:
    """The documents asked of this filer; by SMS, which carries none, only the required ones
    (of which _offered leaves none)."""
    documents = documents_for(_definition(ctx), ctx.draft["filer"])
    return tuple(d for d in documents if d.required) if _by_sms(ctx) else documents


def _holds(ctx: Context, mobile: str | None) -> bool:
    """Whether this chat is known to hold `mobile` (an SMS from it, a contact shared)."""
    return mobile is not None and (
        otp.proof_needed(
            ctx.session, channel=ctx.event.channel, user_id=ctx.event.user_id, mobile=mobile
        )
        == otp.Proof.HELD
    )


def _choose_filer(ctx: Context) -> None:
    """After the bill ID and the proof the definition asks: how the filer may file it, chosen
    by them unless it follows (the registered mobile proven, or one way only)."""
    definition = _definition(ctx)
    offered = _offered(ctx, definition)
    answers = ctx.draft["answers"]
    proven = answers.get("mobile_proven") is True
    if not proven and _holds(ctx, _registered_mobile(ctx)):
        proven = True  # proven already, where the definition asked no proof of it
        ctx.draft["answers"] = {**answers, "mobile_proven": True}
    if REGISTERED_MOBILE in offered and (proven or mobile_proof_waits(definition)):
        _file_as(ctx, REGISTERED_MOBILE)
    elif len(offered) == 1:
        _file_as(ctx, offered[0])
    else:
        ctx.go(states.SERVICE_FILER)


def _file_as(ctx: Context, filer: Filer) -> None:
    """Files as `filer`: the holder of the registered mobile proves it by a code first (the
    others send their document with the rest), then the questions go on."""
    definition = _definition(ctx)
    answers = ctx.draft["answers"]
    if filer == REGISTERED_MOBILE and not (
        answers.get("mobile_proven") is True or mobile_proof_waits(definition)
    ):
        mobile = _registered_mobile(ctx)
        if mobile is None:
            ctx.say("service.filer_no_mobile", bill_id=Code(ctx.draft["bill_id"]))
            if len(_offered(ctx, definition)) > 1:
                ctx.go(states.SERVICE_FILER)  # another way, with a document
            else:
                ctx.reset()
            return
        ask_for_code(ctx, mobile, OtpPurpose.MOBILE, states.SERVICE_CODE)
        return
    ctx.draft["filer"] = filer
    _next(ctx)


def take_up_at_counter(ctx: Context, service: str) -> None:
    """At a counter, once the subscriber read back the code texted to the registered mobile
    (their consent, and the mobile proven): the service from the question after its bill ID."""
    definition = defined_service(service)
    assert definition is not None  # a delegated service, chosen from the counter's
    bill = next(i for i, q in enumerate(definition.questions) if q.type == "bill_id")
    answers = {
        **ctx.draft.get("answers", {}),
        definition.questions[bill].key: ctx.draft["bill_id"],
        "mobile_proven": True,
    }
    ctx.draft.update(service=service, question=bill, answers=answers, document=0)
    _choose_filer(ctx)


class _BackToServices:
    """Back to the services; at a counter to its bill ID (another subscriber, another code)."""

    def back_to(self, ctx: Context) -> str | None:
        return bill_id_state(ctx, states.SERVICES)


def _next_document(ctx: Context, *, first: bool = False) -> None:
    documents = _documents(ctx)
    if not first:
        ctx.draft["document"] += 1
    index = ctx.draft["document"]
    if index >= len(documents):
        ctx.go(states.SERVICE_SUMMARY)
    elif documents[index].required:
        ctx.go(states.SERVICE_DOCUMENTS)
    else:
        ctx.go(states.SERVICE_MORE_DOCUMENTS)


class QuestionStep(_BackToServices, Step):
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
        if subscription.status == SubscriptionStatus.REMOVED:  # no service after a removal
            ctx.retry("service.subscription_removed", bill_id=Code(bill_id))
            return
        ctx.draft["bill_id"] = bill_id
        ctx.draft["answers"] = {**ctx.draft["answers"], _question(ctx).key: bill_id}
        proof = _definition(ctx).ownership_proof
        if proof == "none":
            _choose_filer(ctx)
            return
        mobile = registered_mobile(ctx.session, subscription)
        held = _holds(ctx, mobile)
        if held or (mobile is None and proof == "registered_mobile_or_counter"):
            # With no number to text, staff ask a counter to confirm the holder.
            ctx.draft["answers"] = {**ctx.draft["answers"], "mobile_proven": held}
            _choose_filer(ctx)
        elif mobile is None:
            ctx.say("removal.no_mobile", bill_id=Code(bill_id))
            ctx.reset()
        else:
            ask_for_code(ctx, mobile, OtpPurpose.MOBILE, states.SERVICE_CODE)


class CodeStep(OtpCodeStep):
    """The registered mobile proven by the code texted to it; where a counter may confirm the
    holder instead, whoever lost that number says so with a button and files unproven."""

    name = states.SERVICE_CODE
    back = states.SERVICE_QUESTION
    purpose = OtpPurpose.MOBILE

    def prompt(self, ctx: Context) -> Reply:
        reply = super().prompt(ctx)
        if _definition(ctx).ownership_proof != "registered_mobile_or_counter":
            return reply
        lost = [Button(Msg("service.mobile_lost"), LOST)]
        return replace(reply, buttons=[*reply.buttons, lost])

    def on_choice(self, ctx: Context, value: str) -> None:
        if value == LOST and _definition(ctx).ownership_proof == "registered_mobile_or_counter":
            ctx.draft["answers"] = {**ctx.draft["answers"], "mobile_proven": False}
            _choose_filer(ctx)
        else:
            super().on_choice(ctx, value)

    def shown_mobile(self, ctx: Context) -> str:
        return self.mobile(ctx) or ""

    def mobile(self, ctx: Context) -> str | None:
        return _registered_mobile(ctx)

    def proven(self, ctx: Context, mobile: str, checked: otp.Checked) -> None:
        ctx.draft["answers"] = {**ctx.draft["answers"], "mobile_proven": True}
        ctx.say("removal.owner_proven", phone=Code(display_mobile(mobile)))
        _choose_filer(ctx)


class FilerStep(_BackToServices, Step):
    """How the filer may file it, each way with the proof it takes."""

    name = states.SERVICE_FILER
    back = states.SERVICES

    def prompt(self, ctx: Context) -> Reply:
        buttons = [
            [Button(Msg(f"service.filer.{filer}"), f"{FILER}{filer}")]
            for filer in _offered(ctx, _definition(ctx))
        ]
        return Reply(Msg("service.ask_filer"), buttons=buttons)

    def on_choice(self, ctx: Context, value: str) -> None:
        typed = value.removeprefix(FILER)
        filer = next((f for f in _offered(ctx, _definition(ctx)) if f == typed), None)
        if filer is None:
            ctx.retry("input.button_expired")
            return
        _file_as(ctx, filer)


def _document(ctx: Context) -> Document:
    return _documents(ctx)[ctx.draft["document"]]


class RequiredDocumentStep(_BackToServices, DocumentsStep):
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


class SummaryStep(_BackToServices, Step):
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
        filed_as = Msg(f"service.filer.{ctx.draft['filer']}")
        lines.append(
            Msg("service.answer", {"question": Msg("service.label_filer"), "answer": filed_as})
        )
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
        counter = at_counter(ctx)
        try:
            request = file_service(
                ctx.session,
                definition=definition,
                subscription_id=subscription.id,
                filer=ctx.draft["filer"],
                answers=ctx.draft["answers"],
                documents=[DraftDocument(**d) for d in ctx.draft.get("documents", [])],
                channel=ctx.event.channel,
                user_id=ctx.event.user_id,
                locale=ctx.locale,
                now=ctx.now,
                settings=ctx.settings,
                at_counter=counter,
            )
        except Refused as refused:
            if counter is not None and say_refused(ctx, counter.operator, refused):
                return  # the counter suspended, or the service taken off it, meanwhile
            raise
        if counter is not None:  # the counter's words: the subscriber was texted the code
            say_filed(ctx, request, "service.filed")
            ctx.reset()
            return
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
    FilerStep(),
    RequiredDocumentStep(),
    OptionalDocumentStep(),
    SummaryStep(),
)
