"""The main menu and the language choice."""

from backend.constants import SubscriptionStatus
from backend.identifiers import (
    CHECKSUM,
    NOT_ELECTRICITY,
    InvalidIdentifier,
    parse_electricity_bill_id,
)
from backend.service_requests import find_request, find_subscription, keep_filing_language
from backend.tracking import find_tracking_code
from channels.replies import Button, Reply
from dialogs import bill_review, follow, removal, states
from dialogs.engine import Context, Step
from dialogs.my_requests import REQUESTS_OF
from dialogs.tracking import show_request_status
from locales.catalogs import LOCALES
from locales.values import Code, Msg

START_TRACK_PREFIX = "track_"
BILL_ID = "menu_bill_id"  # the draft's bill ID typed at the menu
BILL_ACTIONS = ("review", "removal", "follow", "requests")
# Issue 15's rows, after the others: planned outages, reporting one, reading my own meter.
SELF_SERVICE = {
    "menu:outages": states.OUTAGES,
    "menu:report_outage": states.REPORT_WHERE,
    "menu:self_reading": states.READING_BILL,
    "menu:my_bill": states.MY_BILL,
    "menu:services": states.SERVICES,  # issue 16: the services defined as data
}


class MenuStep(Step):
    name = states.MENU
    help = "help.menu"

    def prompt(self, ctx: Context) -> Reply:
        return Reply(
            Msg("menu.prompt"),
            buttons=[
                [Button(Msg("menu.bill_review"), "menu:review")],
                [Button(Msg("menu.track"), "menu:track")],
                [Button(Msg("menu.removal"), "menu:removal")],
                [Button(Msg("menu.my_requests"), "menu:my_requests")],
                [Button(Msg("menu.follow"), "menu:follow")],
                [Button(Msg("menu.counters"), "menu:counters")],
                [Button(Msg("menu.phone"), "menu:phone")],
                [Button(Msg("menu.language"), "menu:language")],
                [Button(Msg("menu.outages"), "menu:outages")],
                [Button(Msg("menu.report_outage"), "menu:report_outage")],
                [Button(Msg("menu.self_reading"), "menu:self_reading")],
                [Button(Msg("menu.my_bill"), "menu:my_bill")],
                [Button(Msg("menu.services"), "menu:services")],
            ],
        )

    def on_choice(self, ctx: Context, value: str) -> None:
        if value == "menu:review":
            ctx.go(states.REVIEW_BILL_ID)
        elif value == "menu:track":
            ctx.go(states.TRACK_CODE)
        elif value == "menu:removal":
            ctx.go(states.REMOVAL_BILL_ID)
        elif value == "menu:my_requests":
            ctx.conversation.data.pop(REQUESTS_OF, None)  # all of them, from the menu
            ctx.go(states.MY_REQUESTS)
        elif value == "menu:follow":
            ctx.go(states.FOLLOW_LIST)
        elif value == "menu:counters":
            ctx.go(states.COUNTERS_CITY)
        elif value == "menu:phone":
            ctx.go(states.PHONE)
        elif value == "menu:language":
            ctx.conversation.data["after_language"] = states.MENU
            ctx.go(states.LANGUAGE)
        elif value in SELF_SERVICE:
            ctx.go(SELF_SERVICE[value])

    def on_text(self, ctx: Context, text: str) -> None:
        # A subscriber who just types their tracking code gets its status; a bill ID, what can
        # be done with it (ten digits that read as both are a tracking code only if a request
        # has it: the look-up is made only then, an SMS look-up being the desk's busiest path).
        code = find_tracking_code(text)
        try:
            bill_id, mistyped = parse_electricity_bill_id(text), None
        except InvalidIdentifier as error:
            bill_id, mistyped = None, error.reason
        if code and (bill_id is None or find_request(ctx.session, tracking_code=code)):
            show_request_status(ctx, code)
            ctx.go(states.MENU)
        elif bill_id is not None:
            _offer_bill_id(ctx, bill_id)
        elif mistyped in (CHECKSUM, NOT_ELECTRICITY):  # a bill ID's shape: say what is wrong
            ctx.retry(f"review.bill_id_{mistyped}")
        else:
            ctx.retry("input.use_buttons")

    def on_start_payload(self, ctx: Context, payload: str) -> None:
        # Deep links such as t.me/<bot>?start=track_1234567890 open a follow-up directly.
        code = find_tracking_code(payload.removeprefix(START_TRACK_PREFIX))
        if code:
            show_request_status(ctx, code)
        else:
            ctx.say("start.welcome")
        ctx.go(states.MENU)


def _offer_bill_id(ctx: Context, bill_id: str) -> None:
    """Offers what can be done with a bill ID typed at the menu."""
    if find_subscription(ctx.session, bill_id=bill_id) is None:
        ctx.retry("review.bill_id_unknown", bill_id=Code(bill_id))
        return
    ctx.reset(states.MENU_BILL_ID)
    ctx.draft[BILL_ID] = bill_id


class BillIdActionsStep(Step):
    """A bill ID sent at the menu: file a review for it, ask for its removal, follow it, or see
    the sender's requests about it; each goes on as if the bill ID had been typed there."""

    name = states.MENU_BILL_ID
    back = states.MENU
    help = "help.menu"

    def prompt(self, ctx: Context) -> Reply:
        bill_id = ctx.draft.get(BILL_ID, "")
        subscription = find_subscription(ctx.session, bill_id=bill_id)
        # A connection removed for good takes neither service and has no notices: only the
        # requests made about it are left to see.
        removed = subscription is not None and subscription.status == SubscriptionStatus.REMOVED
        actions = ("requests",) if removed else BILL_ACTIONS
        buttons = [[Button(Msg(f"menu.bill_id_{action}"), f"bid:{action}")] for action in actions]
        key = "menu.bill_id_removed" if removed else "menu.bill_id_found"
        return Reply(Msg(key, {"bill_id": Code(bill_id)}), buttons=buttons)

    def on_choice(self, ctx: Context, value: str) -> None:
        bill_id = ctx.draft.get(BILL_ID, "")
        action = value.removeprefix("bid:")
        ctx.conversation.data.pop("draft", None)
        if action == "requests":
            subscription = find_subscription(ctx.session, bill_id=bill_id)
            ctx.conversation.data[REQUESTS_OF] = subscription.id if subscription else None
            ctx.go(states.MY_REQUESTS)
            return
        start = {
            "review": bill_review.BillIdStep(),
            "removal": removal.BillIdStep(),
            "follow": follow.FollowAddStep(),
        }[action]
        # As if typed at the flow's first question: what is wrong with it is said there.
        ctx.conversation.state = start.name
        start.on_text(ctx, bill_id)


class LanguageStep(Step):
    name = states.LANGUAGE
    back = states.MENU

    def prompt(self, ctx: Context) -> Reply:
        return Reply(
            Msg("language.prompt"),
            buttons=[[Button(Msg(f"language.{locale}"), f"lang:{locale}") for locale in LOCALES]],
        )

    def on_choice(self, ctx: Context, value: str) -> None:
        ctx.conversation.locale = value.removeprefix("lang:")
        event = ctx.event
        keep_filing_language(
            ctx.session, channel=event.channel, user_id=event.user_id, locale=ctx.locale
        )
        ctx.say("language.changed")
        ctx.go(ctx.conversation.data.pop("after_language", states.MENU))
