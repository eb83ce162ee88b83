"""The main menu and the language choice."""

from backend.tracking import find_tracking_code
from channels.replies import Button, Reply
from dialogs import states
from dialogs.engine import Context, Step
from dialogs.tracking import show_request_status
from locales.catalogs import LOCALES
from locales.values import Msg

START_TRACK_PREFIX = "track_"


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
                [Button(Msg("menu.phone"), "menu:phone")],
                [Button(Msg("menu.language"), "menu:language")],
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
            ctx.go(states.MY_REQUESTS)
        elif value == "menu:follow":
            ctx.go(states.FOLLOW_LIST)
        elif value == "menu:phone":
            ctx.go(states.PHONE)
        elif value == "menu:language":
            ctx.conversation.data["after_language"] = states.MENU
            ctx.go(states.LANGUAGE)

    def on_text(self, ctx: Context, text: str) -> None:
        # A subscriber who just types their tracking code gets its status.
        code = find_tracking_code(text)
        if code:
            show_request_status(ctx, code)
            ctx.go(states.MENU)
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
        ctx.say("language.changed")
        ctx.go(ctx.conversation.data.pop("after_language", states.MENU))
