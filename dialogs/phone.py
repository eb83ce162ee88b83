"""Registering one's mobile: in a messenger, only the sender's own shared contact counts."""

from backend.conversations import verify_phone
from backend.identifiers import InvalidIdentifier, mask_mobile, normalize_mobile
from channels.replies import Reply
from dialogs import states
from dialogs.engine import Context, Step
from locales.values import Code, Msg


def own_mobile(ctx: Context, phone: str, is_own: bool) -> str | None:
    """The sender's own shared mobile as E.164; None after saying why the contact does not count."""
    if not is_own:
        ctx.retry("phone.not_yours")
        return None
    try:
        return normalize_mobile(phone)
    except InvalidIdentifier:
        ctx.retry("phone.not_mobile")
        return None


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
        mobile = own_mobile(ctx, phone, is_own)
        if mobile is None:
            return
        found = verify_phone(
            ctx.session, channel=ctx.event.channel, user_id=ctx.event.user_id, phone=mobile
        )
        masked = Code(mask_mobile(mobile))
        ctx.say("phone.verified" if found else "phone.verified_unknown", phone=masked)
        ctx.go(states.MENU)
