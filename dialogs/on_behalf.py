"""A request filed at a pishkhan counter for the subscriber standing there: what the subscriber's
own flows (bill review, removal, the services defined as data), walked by the counter's
operator, do differently. The draft's
ON_BEHALF entry, set by dialogs.counter_filing once the subscriber's code came back, marks it."""

from typing import Any

from backend.identifiers import display_mobile
from backend.models import Counter, ServiceRequest, Staff, Subscription
from backend.service_requests import AtCounter, registered_mobile
from backend.workflows import Refused
from channels.replies import Reply
from dialogs import states
from dialogs.engine import Context
from locales.values import Code, Msg, tehran_date

# {"staff_id", "kind", "consented", "consent_notice_id"}: who files what, and the subscription
# whose registered mobile's code came back (None until it has).
ON_BEHALF = "on_behalf"
# What backend.counters.counter_for_filing and file_request refuse a counter, in the words the
# operator reads (naming the counter and the service).
REFUSALS = {
    "counter_not_active": "counter_filing.not_active",
    "counter_not_delegated": "counter_filing.not_delegated",
    "counter_no_consent": "counter_filing.no_consent",
    "counter_not_operator": "refused.counter_not_operator",
}


def on_behalf(ctx: Context) -> dict[str, Any] | None:
    filing: dict[str, Any] | None = ctx.draft.get(ON_BEHALF)
    return filing


def leave_counter_filing(ctx: Context) -> None:
    """The subscriber's own flow was started from its first step: a counter filing in the draft
    is dropped whole, so that nothing consented to at the counter carries over to this chat."""
    if ctx.draft.pop(ON_BEHALF, None) is not None:
        ctx.draft.clear()


def bill_id_state(ctx: Context, own: str) -> str:
    """Where a flow's way back to its bill ID leads: at a counter, to the counter's own step,
    where another subscription is consented to by a code of its own."""
    return states.COUNTER_BILL_ID if on_behalf(ctx) is not None else own


def at_counter(ctx: Context) -> AtCounter | None:
    """Who files the draft at a counter, for the file_* actions; None for the sender's own."""
    filing = on_behalf(ctx)
    if filing is None:
        return None
    operator = ctx.session.get(Staff, filing["staff_id"])
    assert operator is not None  # staff are deactivated, never deleted
    return AtCounter(operator, filing["consented"], filing.get("consent_notice_id"))


def counter_name(ctx: Context, operator: Staff) -> str:
    counter = ctx.session.get(Counter, operator.counter_id) if operator.counter_id else None
    return counter.name if counter is not None else ""


def refusal(ctx: Context, operator: Staff, refused: Refused) -> Msg | None:
    """A counter's refusal in words naming the counter and the service; None for any other."""
    key = REFUSALS.get(refused.code)
    if key is None:
        return None
    params: dict[str, Any] = {"counter": counter_name(ctx, operator)}
    if "status" in refused.params:
        params["status"] = Msg(f"counter.status.{refused.params['status']}")
    if "kind" in refused.params:
        params["service"] = Msg(f"kind.{refused.params['kind']}")
    return Msg(key, params)


def say_refused(ctx: Context, operator: Staff, refused: Refused) -> bool:
    """Says a counter's refusal and drops the draft; False for any other (the caller's to say)."""
    message = refusal(ctx, operator, refused)
    if message is None:
        return False
    ctx.replies.append(Reply(message))
    ctx.reset()
    return True


def say_filed(ctx: Context, request: ServiceRequest, key: str) -> None:
    """The reply to a filing (`key` for the sender's own): its tracking code and the next step's
    date; at a counter also that the subscriber was texted the code, and will be every notice."""
    assert request.step_deadline is not None
    params: dict[str, Any] = {
        "code": Code(request.tracking_code),
        "expected": tehran_date(request.step_deadline),
    }
    if on_behalf(ctx) is None:
        ctx.say(key, **params)
        return
    subscription = ctx.session.get(Subscription, request.subscription_id)
    assert subscription is not None
    mobile = registered_mobile(ctx.session, subscription) or ""
    ctx.say(
        "counter_filing.filed",
        service=Msg(f"kind.{request.kind}"),
        phone=Code(display_mobile(mobile)),
        **params,
    )
