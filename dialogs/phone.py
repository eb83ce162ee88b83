"""Registering one's mobile: in a messenger, only the sender's own shared contact counts; a staff
member's phone binds the account to them only with the code texted to that phone as well."""

from backend import otp
from backend.constants import OtpPurpose
from backend.conversations import verify_phone
from backend.identifiers import InvalidIdentifier, display_mobile, normalize_mobile
from backend.models import Staff
from backend.staff import bind_account, staff_for, staff_with_phone
from channels.replies import Reply
from dialogs import states
from dialogs.codes import OtpCodeStep, ask_for_code
from dialogs.engine import Context, Step
from locales.values import Code, Msg

BINDING = "binding_staff_id"  # the draft's staff member whose phone the code went to


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


def _verified(ctx: Context, mobile: str) -> None:
    found = verify_phone(
        ctx.session, channel=ctx.event.channel, user_id=ctx.event.user_id, phone=mobile
    )
    masked = Code(display_mobile(mobile))
    ctx.say("phone.verified" if found else "phone.verified_unknown", phone=masked)


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
        channel, user_id = ctx.event.channel, ctx.event.user_id
        staff = staff_with_phone(ctx.session, mobile)
        bound = staff_for(ctx.session, channel=channel, user_id=user_id)
        if staff is not None and (bound is None or bound.id != staff.id):
            # The contact says it is the sender's own, but an update can be forged: the
            # account becomes staff, and the phone is recorded, only once the code texted to
            # the staff phone comes back.
            ctx.draft[BINDING] = staff.id
            ask_for_code(ctx, mobile, OtpPurpose.STAFF, states.PHONE_STAFF_CODE)
            return
        _verified(ctx, mobile)
        ctx.go(states.MENU)


class StaffCodeStep(OtpCodeStep):
    """The code texted to the staff phone the sender shared: right, the account is theirs."""

    name = states.PHONE_STAFF_CODE
    back = states.PHONE
    help = "help.phone_code"
    purpose = OtpPurpose.STAFF
    prompt_key = "phone.staff_code_prompt"

    def _staff(self, ctx: Context) -> Staff | None:
        staff_id = ctx.draft.get(BINDING)
        staff = ctx.session.get(Staff, staff_id) if staff_id is not None else None
        return staff if staff is not None and staff.active else None

    def shown_mobile(self, ctx: Context) -> str:
        staff = self._staff(ctx)
        return staff.phone if staff is not None else ""

    def mobile(self, ctx: Context) -> str | None:
        staff = self._staff(ctx)
        if staff is None:  # removed meanwhile
            ctx.say("phone.staff_gone")
            ctx.reset()
            return None
        return staff.phone

    def proven(self, ctx: Context, mobile: str, checked: otp.Checked) -> None:
        staff = self._staff(ctx)
        assert staff is not None  # `mobile` found them in this same event
        # Recorded as any verified phone (linked to the customer whose mobile it is, if any).
        channel, user_id = ctx.event.channel, ctx.event.user_id
        verify_phone(ctx.session, channel=channel, user_id=user_id, phone=mobile)
        bind_account(
            ctx.session, staff, channel=channel, user_id=user_id, now=ctx.now, settings=ctx.settings
        )
        ctx.say("phone.staff_bound", name=staff.full_name, role=Msg(f"staff.role.{staff.role}"))
        ctx.reset()
