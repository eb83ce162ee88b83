"""Registering one's mobile: in a messenger, only the sender's own shared contact counts."""

from backend.conversations import verify_phone
from backend.identifiers import InvalidIdentifier, mask_mobile, normalize_mobile
from dialogs import states
from dialogs.engine import Context, Step
from dialogs.events import Reply
from locales.values import Code, Msg


class PhoneStep(Step):
    name = states.PHONE
    back = states.MENU
    help = "help.phone"

    def prompt(self, ctx: Context) -> Reply:
        return Reply(Msg("phone.prompt"), request_contact=True)

    def on_text(self, ctx: Context, text: str) -> None:
        # A typed number proves nothing about who owns it.
        ctx.retry("phone.use_button")

    def on_contact(self, ctx: Context, phone: str, is_own: bool) -> None:
        if not is_own:
            ctx.retry("phone.not_yours")
            return
        try:
            mobile = normalize_mobile(phone)
        except InvalidIdentifier:
            ctx.retry("phone.not_mobile")
            return
        found = verify_phone(
            ctx.session, channel=ctx.event.channel, user_id=ctx.event.user_id, phone=mobile
        )
        masked = Code(mask_mobile(mobile))
        ctx.say("phone.verified" if found else "phone.verified_unknown", phone=masked)
        ctx.go(states.MENU)
