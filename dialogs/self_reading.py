"""«خوداظهاری کارکرد کنتور»: a followed bill ID, the meter's digits (checked against the readings
before), a photo of the meter (its type known by its bytes), then a tracking code."""

from backend import preferences
from backend.constants import SubscriptionStatus
from backend.models import Subscription
from backend.self_readings import (
    MAX_READING,
    check_reading,
    parse_reading,
    record_self_reading,
)
from backend.service_requests import DraftDocument
from backend.storage import detect_content_type, document_name
from backend.workflows import Refused
from channels.replies import Button, Reply
from dialogs import states
from dialogs.engine import Context, Step
from dialogs.events import FileTooLarge, IncomingFile
from dialogs.outages import followed_bill_buttons
from locales.values import Code, Digits, Msg, tehran_date

DRAFT = "self_reading"  # subscription_id, reading
BILL_PREFIX = "rdg:"
FOLLOW = "rdg:follow"
PHOTO_TYPES = frozenset({"image/jpeg", "image/png"})


def _followed(ctx: Context) -> list[preferences.Followed]:
    mine = preferences.followed(ctx.session, channel=ctx.event.channel, user_id=ctx.event.user_id)
    return [f for f in mine if f.subscription.status != SubscriptionStatus.REMOVED]


def _subscription(ctx: Context) -> Subscription | None:
    """The draft's bill ID, while this chat still follows it."""
    subscription_id = ctx.draft.get(DRAFT, {}).get("subscription_id")
    one = next((f for f in _followed(ctx) if f.subscription.id == subscription_id), None)
    return one.subscription if one is not None else None


def _refusal(ctx: Context, refused: Refused, reading: int) -> None:
    """A reading refused, in words; the bill ID chosen is kept and the digits asked again."""
    params = {**refused.params, "reading": Digits(reading)}
    for name in ("last", "highest"):
        if name in params:
            params[name] = Digits(params[name])
    ctx.retry(f"refused.{refused.code}", **params)


class BillStep(Step):
    name = states.READING_BILL
    back = states.MENU
    help = "help.reading"

    def prompt(self, ctx: Context) -> Reply:
        mine = _followed(ctx)
        if not mine:
            follow = Button(Msg("reading.follow_button"), FOLLOW)
            return Reply(Msg("reading.no_bill_ids"), [[follow]])
        buttons = followed_bill_buttons(ctx, "reading.bill_button", BILL_PREFIX)
        return Reply(Msg("reading.bill_prompt"), buttons)

    def on_choice(self, ctx: Context, value: str) -> None:
        if value == FOLLOW:
            ctx.reset(states.FOLLOW_ADD)
            return
        typed = value.removeprefix(BILL_PREFIX)
        ctx.draft[DRAFT] = {"subscription_id": int(typed) if typed.isdigit() else None}
        if _subscription(ctx) is None:
            ctx.retry("input.button_expired")
        else:
            ctx.go(states.READING_DIGITS)


class DigitsStep(Step):
    name = states.READING_DIGITS
    back = states.READING_BILL
    help = "help.reading"

    def prompt(self, ctx: Context) -> Reply:
        subscription = _subscription(ctx)
        bill_id = Code(subscription.bill_id if subscription else "")
        return Reply(Msg("reading.digits_prompt", {"bill_id": bill_id}))

    def takes_numbers(self, ctx: Context) -> bool:
        return True  # a reading of 1 or 2 is a reading, not «بازگشت» or «لغو»

    def on_text(self, ctx: Context, text: str) -> None:
        subscription = _subscription(ctx)
        if subscription is None:
            ctx.reset(states.READING_BILL)
            return
        reading = parse_reading(text)
        if reading is None:
            ctx.retry("reading.digits_invalid", max_digits=len(str(MAX_READING)))
            return
        try:
            check_reading(ctx.session, subscription, reading, today=tehran_date(ctx.now))
        except Refused as refused:
            _refusal(ctx, refused, reading)
            return
        ctx.draft[DRAFT]["reading"] = reading
        ctx.go(states.READING_PHOTO)


class PhotoStep(Step):
    name = states.READING_PHOTO
    back = states.READING_DIGITS
    help = "help.reading"

    def prompt(self, ctx: Context) -> Reply:
        reading = ctx.draft.get(DRAFT, {}).get("reading", 0)
        return Reply(Msg("reading.photo_prompt", {"reading": Digits(reading)}))

    def on_text(self, ctx: Context, text: str) -> None:
        ctx.retry("reading.photo_needed")

    def on_file(self, ctx: Context, file: IncomingFile) -> None:
        subscription = _subscription(ctx)
        reading = ctx.draft.get(DRAFT, {}).get("reading")
        if subscription is None or not isinstance(reading, int):
            ctx.reset(states.READING_BILL)
            return
        limit = ctx.settings.max_document_bytes
        try:
            content = file.fetch() if file.size_bytes <= limit else None
        except FileTooLarge:
            content = None
        if content is None or len(content) > limit:
            ctx.retry("reading.photo_too_large", max_mb=limit // (1024 * 1024))
            return
        content_type = detect_content_type(content)
        if content_type not in PHOTO_TYPES:
            ctx.retry("reading.photo_bad_type")
            return
        stored = ctx.storage.save(content)
        photo = DraftDocument(
            storage_key=stored.key,
            sha256=stored.sha256,
            size_bytes=stored.size_bytes,
            content_type=content_type,
            original_name=document_name(file.name, content_type),
        )
        try:
            kept = record_self_reading(
                ctx.session,
                subscription=subscription,
                reading=reading,
                photo=photo,
                channel=ctx.event.channel,
                user_id=ctx.event.user_id,
                now=ctx.now,
            )
        except Refused as refused:  # another reading came meanwhile
            ctx.conversation.state = states.READING_DIGITS
            _refusal(ctx, refused, reading)
            return
        ctx.say(
            "reading.recorded",
            code=Code(kept.tracking_code),
            bill_id=Code(subscription.bill_id),
            reading=Digits(reading),
        )
        ctx.reset()


STEPS: list[Step] = [BillStep(), DigitsStep(), PhotoStep()]
