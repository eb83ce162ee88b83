"""«صورت‌حساب من» (my bill): the latest bill of a followed or typed bill ID, its consumption
chart, paying it online, and its duplicate as a PDF (صورت‌حساب المثنی)."""

from backend import preferences
from backend.bill_payments import bill_payment, bill_receipt
from backend.constants import Channel
from backend.models import Bill, Subscription
from backend.my_bill import duplicate_of, holder_for, recent_bills
from backend.payments import payment_link
from backend.workflows import Refused
from channels.consumption_chart import CONTENT_TYPE as CHART_TYPE
from channels.consumption_chart import (
    PeriodConsumption,
    consumption_chart_name,
    consumption_chart_png,
)
from channels.pdf import CONTENT_TYPE as PDF_TYPE
from channels.pdf import duplicate_bill_name, duplicate_bill_pdf
from channels.replies import Button, OutgoingFile, Reply
from dialogs import states
from dialogs.bill_review import subscription_for_bill_id
from dialogs.engine import Context, Step
from dialogs.follow import followed_name
from locales.values import Code, Digits, Msg, Rials, tehran_date

PREFIX = "mybill"  # buttons `mybill:<action>:<id>`, pressed from any message
SHOWN = "my_bill"  # the conversation's subscription whose bill is on screen


def _bill_buttons(bill: Bill, channel: Channel) -> list[list[Button]]:
    rows = []
    if bill.paid_at is None and bill.amount_rials > 0:
        rows.append([Button(Msg("my_bill.pay"), f"{PREFIX}:pay:{bill.id}")])
    if channel != Channel.SMS:  # SMS carries no files
        rows.append([Button(Msg("my_bill.duplicate"), f"{PREFIX}:dup:{bill.id}")])
    return rows


class MyBillStep(Step):
    """Which bill ID: one of those the chat follows (a button each), or one typed."""

    name = states.MY_BILL
    back = states.MENU
    help = "help.my_bill"

    def prompt(self, ctx: Context) -> Reply:
        event = ctx.event
        mine = preferences.followed(ctx.session, channel=event.channel, user_id=event.user_id)
        buttons = [[Button(_named(one), f"{PREFIX}:show:{one.subscription.id}")] for one in mine]
        key = "my_bill.choose" if mine else "my_bill.ask_bill_id"
        return Reply(Msg(key), buttons)

    def on_text(self, ctx: Context, text: str) -> None:
        subscription = subscription_for_bill_id(ctx, text, removed="my_bill.removed")
        if subscription is not None:
            _show(ctx, subscription)


class MyBillShownStep(Step):
    """The latest bill of a subscription; its buttons work from any message."""

    name = states.MY_BILL_SHOWN
    back = states.MY_BILL
    help = "help.my_bill"
    standing_prefix = PREFIX

    def prompt(self, ctx: Context) -> Reply:
        subscription = ctx.session.get(Subscription, ctx.conversation.data.get(SHOWN))
        if subscription is None:
            return Reply(Msg("my_bill.ask_bill_id"))
        choices = recent_bills(ctx.session, subscription)
        if not choices:
            return Reply(Msg("review.no_bills", {"bill_id": Code(subscription.bill_id)}))
        bill = choices[0].bill
        event = ctx.event
        holder = holder_for(ctx.session, subscription, channel=event.channel, user_id=event.user_id)
        params = {
            "bill_id": Code(subscription.bill_id),
            "payment_id": Code(bill.payment_id),
            "name": holder.name,
            "address": holder.address,
            "period": bill.period,
            "year": Digits(bill.jalali_year),
            "start": bill.previous_reading_date,
            "end": bill.current_reading_date,
            "kwh": bill.consumption_kwh,
            "amount": Rials(bill.amount_rials),
            "due": bill.due_date,
            "status": _status(ctx, bill),
        }
        files = []
        if event.channel != Channel.SMS:
            periods = [
                PeriodConsumption(c.bill.jalali_year, c.bill.period, c.bill.consumption_kwh)
                for c in reversed(choices)
            ]
            stored = ctx.storage.save(consumption_chart_png(periods, ctx.locale))
            name = consumption_chart_name(subscription.bill_id, periods[-1])
            files.append(OutgoingFile(stored.key, name, CHART_TYPE))
        buttons = _bill_buttons(bill, event.channel)
        return Reply(Msg("my_bill.latest", params), buttons, files)

    def on_choice(self, ctx: Context, value: str) -> None:
        _, action, number = value.split(":", 2)
        if action == "show":
            subscription = ctx.session.get(Subscription, int(number)) if number.isdigit() else None
            if subscription is None:
                ctx.retry("input.button_expired")
                return
            _show(ctx, subscription)
            return
        bill = ctx.session.get(Bill, int(number)) if number.isdigit() else None
        if bill is None or action not in ("pay", "dup"):
            ctx.retry("input.button_expired")
            return
        subscription = ctx.session.get(Subscription, bill.subscription_id)
        assert subscription is not None  # subscriptions are never deleted
        ctx.conversation.data[SHOWN] = subscription.id
        # Said under the bill, which stays on screen with its buttons: not shown again.
        if action == "pay":
            _pay(ctx, bill)
        else:
            _duplicate(ctx, subscription, bill)


def _named(one: preferences.Followed) -> Msg:
    return Msg("my_bill.show_button", {"name": followed_name(one.subscription.bill_id, one.label)})


def _show(ctx: Context, subscription: Subscription) -> None:
    ctx.conversation.data[SHOWN] = subscription.id
    ctx.go(states.MY_BILL_SHOWN)


def _status(ctx: Context, bill: Bill) -> Msg:
    if bill.paid_at is None:
        return Msg("my_bill.unpaid")
    receipt = bill_receipt(ctx.session, bill)
    if receipt is None or receipt.provider_ref is None:  # paid elsewhere: at a bank, say
        return Msg("my_bill.paid", {"date": tehran_date(bill.paid_at)})
    return Msg("my_bill.paid_online", {"date": bill.paid_at, "receipt": Code(receipt.provider_ref)})


def _pay(ctx: Context, bill: Bill) -> None:
    """A payment link for the bill; once it is paid, the receipt instead."""
    try:
        payment = bill_payment(ctx.session, bill, now=ctx.now)
    except Refused as refused:
        if refused.code == "bill_paid":
            ctx.say("my_bill.receipt", status=_status(ctx, bill), amount=Rials(bill.amount_rials))
        else:
            ctx.say(f"my_bill.not_payable_{refused.code}")
        return
    link = payment_link(ctx.settings, payment)
    ctx.say("my_bill.pay_link", amount=Rials(payment.amount_rials), link=link)


def _duplicate(ctx: Context, subscription: Subscription, bill: Bill) -> None:
    if ctx.event.channel == Channel.SMS:
        ctx.say("my_bill.duplicate_in_messenger")
        return
    event = ctx.event
    holder = holder_for(ctx.session, subscription, channel=event.channel, user_id=event.user_id)
    paid_on = tehran_date(bill.paid_at) if bill.paid_at else None
    duplicate = duplicate_of(subscription, bill, holder, paid_on)
    stored = ctx.storage.save(duplicate_bill_pdf(duplicate, ctx.locale))
    file = OutgoingFile(stored.key, duplicate_bill_name(duplicate), PDF_TYPE)
    message = Msg("my_bill.duplicate_sent", {"bill_id": Code(subscription.bill_id)})
    ctx.replies.append(Reply(message, files=[file]))


STEPS = [MyBillStep(), MyBillShownStep()]
