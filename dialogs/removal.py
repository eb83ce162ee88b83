"""The permanent removal flow (جمع‌آوری دائم انشعاب): bill ID, proof of ownership, documents.

By SMS, which carries no files, the document steps are skipped: the request is filed without
them and the ID card follows from «درخواست‌های من» in a messenger, before any fee is announced.
"""

from typing import Any

from backend import otp
from backend.constants import Channel, DocumentType, OtpPurpose, RemovalReason
from backend.conversations import verify_phone
from backend.identifiers import display_mobile, normalize_text, strip_invisible
from backend.models import Subscription
from backend.service_requests import (
    DraftDocument,
    file_removal,
    open_removal_of,
    registered_mobile,
)
from backend.workflows import Refused
from channels.replies import Button, Reply
from dialogs import states
from dialogs.bill_review import subscription_for_bill_id
from dialogs.codes import OtpCodeStep, ask_for_code
from dialogs.counter_finder import counters_named
from dialogs.documents import DocumentsStep
from dialogs.engine import Context, Step
from dialogs.follow import follow_proven
from dialogs.on_behalf import (
    at_counter,
    bill_id_state,
    leave_counter_filing,
    say_filed,
    say_refused,
)
from dialogs.phone import own_mobile
from locales.values import Code, Msg

ACKNOWLEDGE = "removal:acknowledge"
CONFIRM = "removal:confirm"
NO_PROPERTY_DOCUMENT = "property:none"
PROPERTY_DOCUMENTS = (DocumentType.OWNERSHIP_DEED, DocumentType.LEASE)
REASON_TEXT_MAX_CHARS = 200  # «سایر موارد» in a few words: the reason, not a letter


def _subscription(ctx: Context) -> Subscription:
    subscription = ctx.session.get(Subscription, ctx.draft["subscription_id"])
    assert subscription is not None  # subscriptions are never deleted
    return subscription


def _registered_mobile(ctx: Context) -> str | None:
    """The subscription's registered mobile; None (the draft dropped, with why) if it has none."""
    subscription = _subscription(ctx)
    mobile = registered_mobile(ctx.session, subscription)
    if mobile is None:
        bill_id = Code(ctx.draft["bill_id"])
        counters = counters_named(ctx, subscription.city)  # where it is done in person
        if counters is None:
            ctx.say("removal.no_mobile", bill_id=bill_id)
        else:
            ctx.say("removal.no_mobile_counters", bill_id=bill_id, counters=counters)
        ctx.reset()
    return mobile


def _masked(mobile: str) -> Code:
    return Code(display_mobile(mobile))


def _proven(ctx: Context, mobile: str) -> None:
    """The sender holds the registered mobile: remembered for this chat, and the flow goes on."""
    verify_phone(ctx.session, channel=ctx.event.channel, user_id=ctx.event.user_id, phone=mobile)
    ctx.draft["owner_proven"] = True
    ctx.say("removal.owner_proven", phone=_masked(mobile))
    ctx.go(states.REMOVAL_REASON)


class BillIdStep(Step):
    name = states.REMOVAL_BILL_ID
    back = states.MENU
    help = "help.removal"

    def prompt(self, ctx: Context) -> Reply:
        # By SMS, a shorter wording that a reply's two parts hold whole.
        return Reply(Msg("removal.ask_bill_id_sms" if _by_sms(ctx) else "removal.ask_bill_id"))

    def on_text(self, ctx: Context, text: str) -> None:
        subscription = subscription_for_bill_id(ctx, text, "removal.subscription_removed")
        if subscription is None:
            return
        leave_counter_filing(ctx)  # the proof at a counter is not this chat's
        assert subscription.id is not None  # a stored subscription
        existing = open_removal_of(ctx.session, subscription_id=subscription.id)
        if existing is not None:
            ctx.retry("removal.already_open", code=Code(existing.tracking_code))
            return
        if ctx.draft.get("subscription_id") != subscription.id:
            ctx.draft.clear()  # another connection: nothing proved or sent carries over
            ctx.draft.update(subscription_id=subscription.id, bill_id=subscription.bill_id)
        mobile = _registered_mobile(ctx)
        if mobile is None:
            return
        proof = otp.proof_needed(
            ctx.session, channel=ctx.event.channel, user_id=ctx.event.user_id, mobile=mobile
        )
        if ctx.draft.get("owner_proven") or proof == otp.Proof.HELD:
            _proven(ctx, mobile)
        elif proof == otp.Proof.CONTACT:
            ctx.go(states.REMOVAL_CONTACT)
        else:
            ask_for_code(ctx, mobile, OtpPurpose.MOBILE, states.REMOVAL_CODE)


class ContactStep(Step):
    """In a messenger: the sender's own contact, which must be the registered mobile."""

    name = states.REMOVAL_CONTACT
    back = states.REMOVAL_BILL_ID
    help = "help.removal_contact"

    def prompt(self, ctx: Context) -> Reply:
        mobile = registered_mobile(ctx.session, _subscription(ctx)) or ""
        return Reply(Msg("removal.ask_contact", {"phone": _masked(mobile)}), request_contact=True)

    def on_text(self, ctx: Context, text: str) -> None:
        ctx.retry("phone.use_button")  # a typed number proves nothing about who holds it

    def on_contact(self, ctx: Context, phone: str, is_own: bool) -> None:
        shared = own_mobile(ctx, phone, is_own)
        if shared is None:
            return
        mobile = _registered_mobile(ctx)
        if mobile is None:
            return
        if shared != mobile:
            ctx.retry("removal.not_registered_mobile", phone=_masked(mobile))
            return
        _proven(ctx, mobile)


class CodeStep(OtpCodeStep):
    """Elsewhere (terminal chat, SMS from another number): a code sent to the registered mobile."""

    name = states.REMOVAL_CODE
    back = states.REMOVAL_BILL_ID
    help = "help.removal_code"
    purpose = OtpPurpose.MOBILE

    def shown_mobile(self, ctx: Context) -> str:
        return registered_mobile(ctx.session, _subscription(ctx)) or ""

    def mobile(self, ctx: Context) -> str | None:
        return _registered_mobile(ctx)

    def proven(self, ctx: Context, mobile: str, checked: otp.Checked) -> None:
        ctx.draft["code_notice_id"] = checked.notice_id  # shown with the request it proves
        _proven(ctx, mobile)
        follow_proven(ctx, _subscription(ctx))


class ReasonStep(Step):
    name = states.REMOVAL_REASON
    back = states.REMOVAL_BILL_ID
    help = "help.removal_reason"

    def back_to(self, ctx: Context) -> str | None:
        return bill_id_state(ctx, states.REMOVAL_BILL_ID)

    def prompt(self, ctx: Context) -> Reply:
        buttons = [
            [Button(Msg(f"removal_reason.{reason}"), f"removal_reason:{reason}")]
            for reason in RemovalReason
        ]
        return Reply(Msg("removal.ask_reason"), buttons=buttons)

    def on_choice(self, ctx: Context, value: str) -> None:
        reason = RemovalReason(value.removeprefix("removal_reason:"))
        ctx.draft["reason"] = reason
        if reason == RemovalReason.OTHER:
            ctx.go(states.REMOVAL_REASON_TEXT)  # «سایر موارد» says nothing by itself
        else:
            ctx.draft.pop("reason_text", None)
            _after_reason(ctx)


def _after_reason(ctx: Context) -> None:
    if _by_sms(ctx):
        ctx.go(states.REMOVAL_NO_REFUND)  # the papers follow once it is filed
    else:
        ctx.go(states.REMOVAL_ID_CARD)


class ReasonTextStep(Step):
    """The reason in a few words of the subscriber's own, when it is «سایر موارد»."""

    name = states.REMOVAL_REASON_TEXT
    back = states.REMOVAL_REASON
    help = "help.removal_reason"

    def prompt(self, ctx: Context) -> Reply:
        return Reply(Msg("removal.ask_reason_text", {"max": REASON_TEXT_MAX_CHARS}))

    def on_text(self, ctx: Context, text: str) -> None:
        reason = " ".join(normalize_text(text).split())
        if not strip_invisible(reason).strip():
            ctx.retry("removal.reason_text_empty")
        elif len(reason) > REASON_TEXT_MAX_CHARS:
            ctx.retry("removal.reason_text_too_long", max=REASON_TEXT_MAX_CHARS, length=len(reason))
        else:
            ctx.draft["reason_text"] = reason
            _after_reason(ctx)


def _reason(draft: dict[str, Any]) -> Msg | str:
    """The reason as the summary shows it: the subscriber's own words for «سایر موارد»."""
    return draft.get("reason_text") or Msg(f"removal_reason.{draft['reason']}")


def _by_sms(ctx: Context) -> bool:
    """SMS carries no files: the removal is filed without them, the ID card to follow."""
    return ctx.event.channel == Channel.SMS


class RemovalDocumentsStep(DocumentsStep):
    """A kind of document the subscriber said they would send: at least one of it is asked for."""

    help = "help.removal_documents"
    send_file_key = "removal.send_file"
    required = 1


class IdCardStep(RemovalDocumentsStep):
    name = states.REMOVAL_ID_CARD
    back = states.REMOVAL_REASON
    doc_type = DocumentType.ID_CARD
    prompt_key = "removal.ask_id_card"

    def on_done(self, ctx: Context) -> None:
        ctx.go(states.REMOVAL_PROPERTY)


class PropertyStep(Step):
    """Which proof of the property the subscriber has: the deed, a lease, or none."""

    name = states.REMOVAL_PROPERTY
    back = states.REMOVAL_ID_CARD
    help = "help.removal_documents"

    def prompt(self, ctx: Context) -> Reply:
        buttons = [
            [Button(Msg(f"removal.property_{kind}"), f"property:{kind}")]
            for kind in PROPERTY_DOCUMENTS
        ]
        buttons.append([Button(Msg("removal.property_none"), NO_PROPERTY_DOCUMENT)])
        return Reply(Msg("removal.ask_property"), buttons=buttons)

    def on_choice(self, ctx: Context, value: str) -> None:
        chosen = None if value == NO_PROPERTY_DOCUMENT else value.removeprefix("property:")
        # Documents sent as the other kind (before going back) no longer fit what was chosen.
        ctx.draft["documents"] = [
            document
            for document in ctx.draft.get("documents", [])
            if document.get("doc_type") not in PROPERTY_DOCUMENTS or document["doc_type"] == chosen
        ]
        if chosen is None:
            ctx.go(states.REMOVAL_NO_REFUND)
        else:
            ctx.draft["property_document"] = DocumentType(chosen)
            ctx.go(states.REMOVAL_PROPERTY_DOCS)


class PropertyDocumentsStep(RemovalDocumentsStep):
    name = states.REMOVAL_PROPERTY_DOCS
    back = states.REMOVAL_PROPERTY
    prompt_key = "removal.ask_property_documents"

    def document_type(self, ctx: Context) -> DocumentType:
        return DocumentType(ctx.draft["property_document"])

    def prompt_params(self, ctx: Context) -> dict[str, Any]:
        return {"document": Msg(f"removal.property_{self.document_type(ctx)}")}

    def on_done(self, ctx: Context) -> None:
        ctx.go(states.REMOVAL_NO_REFUND)


class NoRefundStep(Step):
    """Seed 001 §4, said before anything is filed and acknowledged by a button of its own."""

    name = states.REMOVAL_NO_REFUND
    back = states.REMOVAL_PROPERTY
    help = "help.removal_no_refund"

    def prompt(self, ctx: Context) -> Reply:
        # By SMS, a shorter wording that a reply's two parts hold whole.
        key = "removal.no_refund_sms" if _by_sms(ctx) else "removal.no_refund"
        return Reply(Msg(key), buttons=[[Button(Msg("removal.acknowledge"), ACKNOWLEDGE)]])

    def back_to(self, ctx: Context) -> str | None:
        return states.REMOVAL_REASON if _by_sms(ctx) else self.back

    def on_choice(self, ctx: Context, value: str) -> None:
        ctx.draft["no_refund_acknowledged"] = True
        ctx.go(states.REMOVAL_SUMMARY)


class SummaryStep(Step):
    name = states.REMOVAL_SUMMARY
    back = states.REMOVAL_NO_REFUND
    help = "help.removal_summary"

    def prompt(self, ctx: Context) -> Reply:
        draft = ctx.draft
        buttons = [[Button(Msg("removal.confirm"), CONFIRM)]]
        if _by_sms(ctx):  # short, to fit a reply: no papers yet, the ID card still to come
            # The reason's label: the subscriber's own words would crowd out the question.
            reason = Msg(f"removal_reason.{draft['reason']}")
            params = {"bill_id": Code(draft["bill_id"]), "reason": reason}
            return Reply(Msg("removal.summary_sms", params), buttons=buttons)
        documents = draft.get("documents", [])
        id_cards = sum(d["doc_type"] == DocumentType.ID_CARD for d in documents)
        return Reply(
            Msg(
                "removal.summary",
                {
                    "bill_id": Code(draft["bill_id"]),
                    "address": _subscription(ctx).address,
                    "reason": _reason(draft),
                    "id_cards": id_cards,
                    "property_documents": len(documents) - id_cards,
                },
            ),
            buttons=buttons,
        )

    def on_choice(self, ctx: Context, value: str) -> None:
        draft = ctx.draft
        # Each step sets its part; a draft missing one cannot have come through them all.
        if not (draft.get("owner_proven") and draft.get("no_refund_acknowledged")):
            ctx.retry("input.button_expired")
            return
        counter = at_counter(ctx)
        try:
            request = file_removal(
                ctx.session,
                channel=ctx.event.channel,
                channel_user_id=ctx.event.user_id,
                subscription_id=draft["subscription_id"],
                reason=RemovalReason(draft["reason"]),
                documents=[DraftDocument(**document) for document in draft.get("documents", [])],
                now=ctx.now,
                fee_announcement_working_days=ctx.settings.fee_announcement_working_days,
                code_notice_id=draft.get("code_notice_id"),
                description=draft.get("reason_text", ""),
                locale=ctx.locale,
                at_counter=counter,
            )
        except Refused as refused:
            if counter is not None and say_refused(ctx, counter.operator, refused):
                return
            if refused.code != "removal_open":
                raise
            # Filed meanwhile from another chat.
            ctx.say("removal.already_open", code=Code(refused.params["tracking_code"]))
            ctx.reset()
            return
        if _by_sms(ctx):  # how to send the ID card, in one short reply
            ctx.say("removal.filed_sms", code=Code(request.tracking_code))
        else:
            say_filed(ctx, request, "removal.filed")
        ctx.reset()


def removal_steps() -> list[Step]:
    return [
        BillIdStep(),
        ContactStep(),
        CodeStep(),
        ReasonStep(),
        ReasonTextStep(),
        IdCardStep(),
        PropertyStep(),
        PropertyDocumentsStep(),
        NoRefundStep(),
        SummaryStep(),
    ]
