"""Filing on a subscriber's behalf at a pishkhan counter (seed 002): `/onbehalf`, run by the
counter's operator. The service (one delegated to the counter: a built one, or one defined as
data), the bill ID, then the code texted to the subscription's registered mobile, read out by
the subscriber standing there: their consent and, for a removal or a service that asks it, the
proof that they hold the mobile. From there the subscriber's own flow goes on (dialogs.on_behalf
says what it does differently)."""

from collections.abc import Mapping
from typing import Any

from backend import otp
from backend.constants import OtpPurpose, RequestKind
from backend.counters import counter_for_filing, filing_counter, services_of
from backend.identifiers import display_mobile, normalize_text
from backend.models import Staff, Subscription
from backend.service_requests import open_removal_of, registered_mobile
from backend.services.engine import defined_service
from backend.staff import authorize
from backend.workflows import Refused
from channels.replies import Button, Reply
from dialogs import states
from dialogs.bill_review import subscription_for_bill_id
from dialogs.codes import OtpCodeStep, ask_for_code
from dialogs.engine import Context, Step
from dialogs.on_behalf import ON_BEHALF, counter_name, on_behalf, refusal, say_refused
from dialogs.service_flow import take_up_at_counter
from dialogs.staff.commands import guarded
from locales.values import Code, Msg

COMMAND = "onbehalf"
SERVICE = "onbehalf:"  # the service buttons, "onbehalf:<kind>"
# `/onbehalf SERVICE` as an operator may type it, in either language (or a defined one's code).
SERVICE_WORDS: Mapping[str, RequestKind] = {
    "review": RequestKind.BILL_REVIEW,
    "bill_review": RequestKind.BILL_REVIEW,
    "اعتراض": RequestKind.BILL_REVIEW,
    "removal": RequestKind.CONNECTION_REMOVAL,
    "connection_removal": RequestKind.CONNECTION_REMOVAL,
    "جمع‌آوری": RequestKind.CONNECTION_REMOVAL,
}
# Where the subscriber's own flow is taken up once the code has come back (a service defined
# as data: at its question after the bill ID).
FLOW_STEPS: Mapping[str, str] = {
    RequestKind.BILL_REVIEW: states.REVIEW_BILL,
    RequestKind.CONNECTION_REMOVAL: states.REMOVAL_REASON,
}
REMOVED_WORDS: Mapping[str, str] = {
    RequestKind.BILL_REVIEW: "review.subscription_removed",
    RequestKind.CONNECTION_REMOVAL: "removal.subscription_removed",
}


def start(ctx: Context, operator: Staff, argument: str) -> None:
    """`/onbehalf [SERVICE]`: a filing starts afresh, at the service unless it was named."""
    ctx.reset()
    if not argument:
        try:
            filing_counter(ctx.session, operator)  # refused at once where nothing can be filed
        except Refused as refused:
            say_refused(ctx, operator, refused)
            return
        ctx.go(states.COUNTER_SERVICE)
        return
    word = normalize_text(argument).casefold()
    kind = SERVICE_WORDS.get(word) or (word if defined_service(word) is not None else None)
    if kind is None:
        ctx.say("staff.usage", usage=Msg(f"staff.help.{COMMAND}"))
    else:
        _choose(ctx, operator, kind)


def _choose(ctx: Context, operator: Staff, kind: str) -> None:
    try:
        counter_for_filing(ctx.session, operator, kind)
    except Refused as refused:
        say_refused(ctx, operator, refused)
        return
    ctx.reset(states.COUNTER_BILL_ID)
    ctx.draft[ON_BEHALF] = {"staff_id": operator.id, "kind": kind, "consented": None}


def _operator(ctx: Context) -> Staff | None:
    """The operator whose filing the draft is, while this chat may still file for them; None
    after saying that it may not (unbound, another role meanwhile) and dropping the draft."""
    filing = on_behalf(ctx)
    operator = authorize(
        ctx.session, channel=ctx.event.channel, user_id=ctx.event.user_id, command=COMMAND
    )
    if operator is None or (filing is not None and filing["staff_id"] != operator.id):
        ctx.say("refused.counter_not_operator")
        ctx.reset()
        return None
    return operator


def _kind(ctx: Context) -> str:
    filing = on_behalf(ctx)
    assert filing is not None  # set by _choose before any step of the filing is entered
    kind: str = filing["kind"]
    return kind


def _take_up(ctx: Context, kind: str) -> None:
    """The subscriber's own flow, from where the code read back leaves it."""
    if kind in FLOW_STEPS:
        ctx.go(FLOW_STEPS[kind])
    else:
        take_up_at_counter(ctx, kind)


def _about(ctx: Context, operator: Staff) -> dict[str, Any]:
    """What the code's SMS says it is for: which counter asks, for which service."""
    return {"counter": counter_name(ctx, operator), "service": _kind(ctx)}


class ServiceStep(Step):
    name = states.COUNTER_SERVICE
    back = states.MENU
    help = "help.counter_filing"

    def prompt(self, ctx: Context) -> Reply:
        operator = authorize(
            ctx.session, channel=ctx.event.channel, user_id=ctx.event.user_id, command=COMMAND
        )
        if operator is None:
            return Reply(Msg("refused.counter_not_operator"))
        try:
            counter = filing_counter(ctx.session, operator)
        except Refused as refused:  # suspended meanwhile: said, with nothing to choose
            return Reply(refusal(ctx, operator, refused) or Msg("refused.counter_not_operator"))
        buttons = [
            [Button(Msg(f"kind.{kind}"), f"{SERVICE}{kind}")]
            for kind in services_of(ctx.session, counter)
        ]
        key = "counter_filing.ask_service" if buttons else "counter_filing.no_services"
        return Reply(Msg(key, {"counter": counter.name}), buttons=buttons)

    def on_choice(self, ctx: Context, value: str) -> None:
        operator = _operator(ctx)
        if operator is not None:
            _choose(ctx, operator, value.removeprefix(SERVICE))


class BillIdStep(Step):
    name = states.COUNTER_BILL_ID
    back = states.COUNTER_SERVICE
    help = "help.counter_filing"

    def prompt(self, ctx: Context) -> Reply:
        return Reply(Msg("counter_filing.ask_bill_id", {"service": Msg(f"kind.{_kind(ctx)}")}))

    def on_text(self, ctx: Context, text: str) -> None:
        operator = _operator(ctx)
        if operator is None:
            return
        kind = _kind(ctx)
        removed = REMOVED_WORDS.get(kind, "service.subscription_removed")
        subscription = subscription_for_bill_id(ctx, text, removed)
        if subscription is None:
            return
        assert subscription.id is not None  # a stored subscription
        if kind == RequestKind.CONNECTION_REMOVAL:
            existing = open_removal_of(ctx.session, subscription_id=subscription.id)
            if existing is not None:
                ctx.retry("removal.already_open", code=Code(existing.tracking_code))
                return
        mobile = registered_mobile(ctx.session, subscription)
        if mobile is None:
            ctx.retry("counter_filing.no_mobile", bill_id=Code(subscription.bill_id))
            return
        filing = on_behalf(ctx)
        assert filing is not None
        if filing["consented"] == subscription.id:  # back here, and on with the same one
            _take_up(ctx, kind)
            return
        # Another subscriber: nothing chosen or scanned for the one before carries over.
        ctx.draft.clear()
        filing.update(consented=None, consent_notice_id=None)
        ctx.draft.update(
            {ON_BEHALF: filing, "subscription_id": subscription.id, "bill_id": subscription.bill_id}
        )
        about = _about(ctx, operator)
        ask_for_code(ctx, mobile, OtpPurpose.COUNTER, states.COUNTER_CODE, about)


class ConsentCodeStep(OtpCodeStep):
    """The code the subscriber reads out from their phone: their consent, the mobile proven."""

    name = states.COUNTER_CODE
    back = states.COUNTER_BILL_ID
    help = "help.counter_filing_code"
    purpose = OtpPurpose.COUNTER
    prompt_key = "counter_filing.code_prompt"

    def _subscription(self, ctx: Context) -> Subscription:
        subscription = ctx.session.get(Subscription, ctx.draft["subscription_id"])
        assert subscription is not None  # subscriptions are never deleted
        return subscription

    def shown_mobile(self, ctx: Context) -> str:
        return registered_mobile(ctx.session, self._subscription(ctx)) or ""

    def mobile(self, ctx: Context) -> str | None:
        if _operator(ctx) is None:
            return None
        mobile = registered_mobile(ctx.session, self._subscription(ctx))
        if mobile is None:  # taken off the subscription meanwhile
            ctx.say("counter_filing.no_mobile", bill_id=Code(ctx.draft["bill_id"]))
            ctx.reset()
        return mobile

    def about(self, ctx: Context) -> dict[str, Any] | None:
        operator = _operator(ctx)
        return _about(ctx, operator) if operator is not None else None

    def proven(self, ctx: Context, mobile: str, checked: otp.Checked) -> None:
        filing = on_behalf(ctx)
        assert filing is not None
        filing.update(consented=ctx.draft["subscription_id"], consent_notice_id=checked.notice_id)
        # A removal's proof of the registered mobile: the same code, no second one. Never
        # recorded for this chat, which is the operator's.
        ctx.draft["owner_proven"] = True
        ctx.say("counter_filing.consented", phone=Code(display_mobile(mobile)))
        _take_up(ctx, _kind(ctx))


STEPS: list[Step] = [ServiceStep(), BillIdStep(), ConsentCodeStep()]


def run_command(ctx: Context, name: str, argument: str) -> bool:
    """`/onbehalf` for a counter's operator; False for everyone else."""
    if name != COMMAND:
        return False
    return guarded(ctx, COMMAND, lambda operator: start(ctx, operator, argument), ctx.say)
