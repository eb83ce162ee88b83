"""The bill review flow (اعتراض به صورت‌حساب): bill ID, bill, reason, description, documents."""

from sqlmodel import select

from backend.constants import Channel, DocumentType, ReviewReason, SubscriptionStatus
from backend.identifiers import (
    InvalidIdentifier,
    normalize_text,
    parse_electricity_bill_id,
    strip_invisible,
)
from backend.models import Bill, Subscription
from backend.service_requests import (
    DraftDocument,
    file_bill_review,
    find_subscription,
    latest_bills,
    masked_holder,
    open_review_of_bill,
    replacement_of,
)
from backend.workflows import Refused
from channels.replies import Button, Reply
from dialogs import states
from dialogs.documents import DONE as DONE  # re-exported: the review flow's "done" button
from dialogs.documents import DocumentsStep
from dialogs.engine import Context, Step
from dialogs.on_behalf import (
    at_counter,
    bill_id_state,
    leave_counter_filing,
    on_behalf,
    say_filed,
    say_refused,
)
from locales.values import Code, Msg, Rials

CONFIRM = "summary:confirm"
REPLACED = "bill_replaced:"  # a bill its correction replaced: shown, not to be chosen
EDIT = "summary:edit"
EDIT_BILL_ID = "edit:bill_id"
EDITABLE = {
    EDIT_BILL_ID: states.REVIEW_BILL_ID,
    "edit:bill": states.REVIEW_BILL,
    "edit:reason": states.REVIEW_REASON,
    "edit:description": states.REVIEW_DESCRIPTION,
    "edit:documents": states.REVIEW_DOCUMENTS,
}


def _advance(ctx: Context, next_state: str) -> None:
    """Goes on in the flow, or back to the summary when the user came from "edit"."""
    ctx.go(ctx.draft.pop("return_to", None) or next_state)


def _bill_label(bill: Bill, key: str = "") -> Msg:
    """A bill as its button names it: its period and amount, a correction marked as one."""
    return Msg(
        key or ("review.bill_button_corrected" if bill.corrects_bill_id else "review.bill_button"),
        {
            "start": bill.previous_reading_date,
            "end": bill.current_reading_date,
            "amount": Rials(bill.amount_rials),
        },
    )


def _by_sms(ctx: Context) -> bool:
    """By SMS the replies are worded to fit a reply's parts whole, the essential line first."""
    return ctx.event.channel == Channel.SMS


def subscription_for_bill_id(
    ctx: Context, text: str, removed: str = "review.subscription_removed"
) -> Subscription | None:
    """The subscription whose bill ID was typed; None after saying what is wrong with it
    (`removed`: the service's words for a connection removed for good, which neither takes)."""
    try:
        bill_id = parse_electricity_bill_id(text)
    except InvalidIdentifier as error:
        ctx.retry(f"review.bill_id_{error.reason}")
        return None
    subscription = find_subscription(ctx.session, bill_id=bill_id)
    if subscription is None:
        ctx.retry("review.bill_id_unknown", bill_id=Code(bill_id))
        return None
    if subscription.status == SubscriptionStatus.REMOVED:
        ctx.retry(removed, bill_id=Code(bill_id))
        return None
    return subscription


class BillIdStep(Step):
    name = states.REVIEW_BILL_ID
    back = states.MENU
    help = "help.bill_id"

    def prompt(self, ctx: Context) -> Reply:
        return Reply(Msg("review.ask_bill_id"))

    def on_text(self, ctx: Context, text: str) -> None:
        subscription = subscription_for_bill_id(ctx, text)
        if subscription is None:
            return
        leave_counter_filing(ctx)
        if ctx.draft.get("subscription_id") != subscription.id:
            ctx.draft.update(subscription_id=subscription.id, bill_id=subscription.bill_id)
            ctx.draft.pop("disputed_bill_id", None)
            ctx.go(states.REVIEW_BILL)  # a new subscription's bill must be chosen, even on edit
        else:
            _advance(ctx, states.REVIEW_BILL)


class BillStep(Step):
    name = states.REVIEW_BILL
    back = states.REVIEW_BILL_ID
    help = "help.bill"

    def back_to(self, ctx: Context) -> str | None:
        return bill_id_state(ctx, states.REVIEW_BILL_ID)

    def prompt(self, ctx: Context) -> Reply:
        bills = latest_bills(
            ctx.session,
            subscription_id=ctx.draft["subscription_id"],
            limit=ctx.settings.latest_bills_shown,
        )
        if not bills:
            return Reply(Msg("review.no_bills", {"bill_id": Code(ctx.draft["bill_id"])}))
        buttons = []
        for choice in bills:
            buttons.append([Button(_bill_label(choice.bill), f"bill:{choice.bill.id}")])
            # Under its correction, the bill it replaced, marked so (not by SMS: two parts
            # hold two bills, and the correction says it is one).
            if choice.replaced is not None and not _by_sms(ctx):
                label = _bill_label(choice.replaced, "review.bill_button_replaced")
                buttons.append([Button(label, f"{REPLACED}{choice.replaced.id}")])
        # Whose bills these are, masked: enough to see it is theirs, never to learn another's.
        subscription = ctx.session.get(Subscription, ctx.draft["subscription_id"])
        assert subscription is not None  # subscriptions are never deleted
        holder = masked_holder(ctx.session, subscription)
        params = {"name": holder.name, "address": holder.address}
        key = "review.ask_bill_sms" if _by_sms(ctx) else "review.ask_bill"
        return Reply(Msg(key, params), buttons)

    def on_choice(self, ctx: Context, value: str) -> None:
        bill = ctx.session.exec(
            select(Bill).where(
                Bill.id == int(value.removeprefix(REPLACED).removeprefix("bill:")),
                Bill.subscription_id == ctx.draft["subscription_id"],
            )
        ).first()
        if bill is None:
            ctx.retry("input.button_expired")
            return
        assert bill.id is not None  # a stored bill
        replacement = replacement_of(ctx.session, bill)
        if replacement is not None:  # its correction is the bill now, to pay and to review
            ctx.retry("review.bill_replaced", amount=Rials(replacement.amount_rials))
            return
        existing = open_review_of_bill(ctx.session, bill_id=bill.id)
        if existing is not None:
            ctx.retry("review.already_open", code=Code(existing.tracking_code))
            return
        ctx.draft["disputed_bill_id"] = bill.id
        _advance(ctx, states.REVIEW_REASON)


class ReasonStep(Step):
    name = states.REVIEW_REASON
    back = states.REVIEW_BILL
    help = "help.reason"

    def prompt(self, ctx: Context) -> Reply:
        buttons = [[Button(Msg(f"reason.{reason}"), f"reason:{reason}")] for reason in ReviewReason]
        return Reply(Msg("review.ask_reason"), buttons=buttons)

    def on_choice(self, ctx: Context, value: str) -> None:
        ctx.draft["reason"] = ReviewReason(value.removeprefix("reason:"))
        _advance(ctx, states.REVIEW_DESCRIPTION)


class DescriptionStep(Step):
    name = states.REVIEW_DESCRIPTION
    back = states.REVIEW_REASON
    help = "help.description"

    def prompt(self, ctx: Context) -> Reply:
        return Reply(Msg("review.ask_description", {"max": ctx.settings.description_max_chars}))

    def on_text(self, ctx: Context, text: str) -> None:
        description = normalize_text(text)
        limit = ctx.settings.description_max_chars
        if not strip_invisible(description).strip():  # invisible marks alone say nothing
            ctx.retry("review.description_empty")
        elif len(description) > limit:
            ctx.say("review.description_too_long", max=limit, length=len(description))
            if not _by_sms(ctx):  # not lost: given back whole, to shorten (an SMS keeps its own)
                over = len(description) - limit
                ctx.say("review.description_kept", over=over, text=description)
            ctx.go(self.name)
        else:
            ctx.draft["description"] = description
            if _by_sms(ctx):  # no files by SMS: straight to the summary (the filed reply
                _advance(ctx, states.REVIEW_SUMMARY)  # says where documents can be added)
            else:
                _advance(ctx, states.REVIEW_DOCUMENTS)


class EvidenceStep(DocumentsStep):
    name = states.REVIEW_DOCUMENTS
    back = states.REVIEW_DESCRIPTION
    help = "help.documents"
    doc_type = DocumentType.EVIDENCE
    prompt_key = "review.ask_documents"

    def on_done(self, ctx: Context) -> None:
        ctx.draft.pop("return_to", None)
        ctx.go(states.REVIEW_SUMMARY)


class SummaryStep(Step):
    name = states.REVIEW_SUMMARY
    back = states.REVIEW_DOCUMENTS
    help = "help.summary"

    def back_to(self, ctx: Context) -> str | None:
        # By SMS there was no document step to go back to.
        return states.REVIEW_DESCRIPTION if ctx.event.channel == Channel.SMS else self.back

    def prompt(self, ctx: Context) -> Reply:
        draft = ctx.draft
        bill = ctx.session.get(Bill, draft["disputed_bill_id"])
        assert bill is not None  # bills are never deleted
        return Reply(
            Msg(
                # By SMS: the bill and the question first, then what may be left out whole.
                "review.summary_sms" if _by_sms(ctx) else "review.summary",
                {
                    "bill_id": Code(draft["bill_id"]),
                    "bill": _bill_label(bill),
                    "reason": Msg(f"reason.{draft['reason']}"),
                    "description": draft["description"],
                    "documents": len(draft.get("documents", [])),
                },
            ),
            buttons=[
                [Button(Msg("review.confirm"), CONFIRM)],
                [Button(Msg("review.edit"), EDIT)],
            ],
        )

    def on_choice(self, ctx: Context, value: str) -> None:
        if value == EDIT:
            ctx.go(states.REVIEW_EDIT)
            return
        draft = ctx.draft
        bill = ctx.session.get(Bill, draft["disputed_bill_id"])
        assert bill is not None and bill.id is not None
        existing = open_review_of_bill(ctx.session, bill_id=bill.id)
        if existing is not None:  # filed meanwhile from another chat
            ctx.say("review.already_open", code=Code(existing.tracking_code))
            ctx.reset()
            return
        counter = at_counter(ctx)
        try:
            request = file_bill_review(
                ctx.session,
                channel=ctx.event.channel,
                channel_user_id=ctx.event.user_id,
                bill=bill,
                reason=ReviewReason(draft["reason"]),
                description=draft["description"],
                documents=[DraftDocument(**document) for document in draft.get("documents", [])],
                now=ctx.now,
                review_working_days=ctx.settings.review_working_days,
                locale=ctx.locale,
                at_counter=counter,
            )
        except Refused as refused:  # corrected or removed meanwhile: it is chosen again
            if counter is None or not say_refused(ctx, counter.operator, refused):
                ctx.say(f"review.refused_{refused.code}", bill_id=Code(draft["bill_id"]))
                ctx.reset()
            return
        say_filed(ctx, request, "review.filed_sms" if _by_sms(ctx) else "review.filed")
        ctx.reset()


class EditStep(Step):
    name = states.REVIEW_EDIT
    back = states.REVIEW_SUMMARY

    def prompt(self, ctx: Context) -> Reply:
        # At a counter the bill ID is the one the subscriber's code consented to: another one
        # is another filing, started again.
        shown = [value for value in EDITABLE if value != EDIT_BILL_ID or on_behalf(ctx) is None]
        buttons = [[Button(Msg(f"review.{value.replace(':', '_')}"), value)] for value in shown]
        return Reply(Msg("review.ask_edit"), buttons=buttons)

    def on_choice(self, ctx: Context, value: str) -> None:
        ctx.draft["return_to"] = states.REVIEW_SUMMARY
        ctx.go(EDITABLE[value])


STEPS: list[Step] = [
    BillIdStep(),
    BillStep(),
    ReasonStep(),
    DescriptionStep(),
    EvidenceStep(),
    SummaryStep(),
    EditStep(),
]
