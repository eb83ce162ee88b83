"""Typing a one-time code texted to a mobile: the step that a removal's proof of the registered
mobile and a staff account's binding share (backend.otp issues, checks and counts the codes)."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from backend import otp
from backend.constants import OtpPurpose
from backend.identifiers import display_mobile
from channels.replies import Button, Reply
from dialogs.engine import Context, Step
from locales.values import Code, Msg

RESEND = "otp:resend"
# The draft's word on the code asked for when none was sent (moments after another): "earlier",
# the one this chat holds is still good; "wait", it went elsewhere, and a new one comes later.
NO_NEW_CODE = "otp_no_new_code"


def issue_code(
    ctx: Context, mobile: str, purpose: OtpPurpose, about: Mapping[str, Any] | None = None
) -> otp.Issued:
    """A one-time code for `mobile`, queued as an SMS notice worded in the sender's language
    (`about`: what the SMS says it is for, backend.otp.issue_code)."""
    return otp.issue_code(
        ctx.session,
        channel=ctx.event.channel,
        user_id=ctx.event.user_id,
        mobile=mobile,
        locale=ctx.locale,
        now=ctx.now,
        settings=ctx.settings,
        purpose=purpose,
        about=about,
    )


def ask_for_code(
    ctx: Context,
    mobile: str,
    purpose: OtpPurpose,
    state: str,
    about: Mapping[str, Any] | None = None,
) -> None:
    """Texts a code to `mobile` and goes to `state` (an OtpCodeStep) to ask for it. Moments
    after another code no new one is sent, and the question says so: the code this chat holds
    is still valid, or (sent to another chat) when a new one may be asked for. While the mobile
    cools down after wrong tries, says until when and asks the current question again."""
    issued = issue_code(ctx, mobile, purpose, about)
    if issued.outcome == otp.IssueOutcome.COOLING_DOWN:
        ctx.retry("otp.cooling_down", until=issued.until)
        return
    ctx.draft.pop(NO_NEW_CODE, None)
    if issued.outcome == otp.IssueOutcome.TOO_SOON:
        earlier = issued.earlier_until
        until = earlier or issued.until
        ctx.draft[NO_NEW_CODE] = ["earlier" if earlier else "wait", until.isoformat()]
    ctx.go(state)


class OtpCodeStep(Step):
    """Asks for the code texted to the step's mobile; `proven` goes on once it is right.

    A wrong code is asked again with the tries left; an expired code, none sent, or an answer
    that is not six digits is asked again and uses no try. Once the mobile's tries are used up,
    or a new code is asked for while it cools down, the flow is dropped, saying until when.
    """

    purpose: ClassVar[OtpPurpose]
    prompt_key: ClassVar[str] = "otp.prompt"  # takes {phone} (masked) and {minutes}

    def shown_mobile(self, ctx: Context) -> str:
        """Where the codes go, for the prompt ("" if nowhere any more: `mobile` will say so)."""
        raise NotImplementedError

    def mobile(self, ctx: Context) -> str | None:
        """Where the codes go; None after saying why they no longer can and dropping the flow."""
        raise NotImplementedError

    def proven(self, ctx: Context, mobile: str, checked: otp.Checked) -> None:
        """The sender holds `mobile`: the flow goes on."""
        raise NotImplementedError

    def about(self, ctx: Context) -> Mapping[str, Any] | None:
        """What a code sent again says it is for (as the first one did)."""
        return None

    def prompt(self, ctx: Context) -> Reply:
        phone = Code(display_mobile(self.shown_mobile(ctx)))
        buttons = [[Button(Msg("otp.resend"), RESEND)]]
        no_new_code = ctx.draft.get(NO_NEW_CODE)
        if no_new_code is not None:  # not "a code was texted": none was, this time
            which, until = no_new_code
            params = {"phone": phone, "until": datetime.fromisoformat(until)}
            return Reply(Msg(f"otp.prompt_{which}", params), buttons=buttons)
        params = {"phone": phone, "minutes": ctx.settings.otp_valid_minutes}
        return Reply(Msg(self.prompt_key, params), buttons=buttons)

    def on_text(self, ctx: Context, text: str) -> None:
        mobile = self.mobile(ctx)
        if mobile is None:
            return
        checked = otp.check_code(
            ctx.session,
            channel=ctx.event.channel,
            user_id=ctx.event.user_id,
            mobile=mobile,
            code=text,
            now=ctx.now,
            settings=ctx.settings,
            purpose=self.purpose,
        )
        outcome = checked.outcome
        if outcome == otp.CheckOutcome.VERIFIED:
            self.proven(ctx, mobile, checked)
        elif outcome == otp.CheckOutcome.WRONG:
            ctx.retry("otp.wrong", left=checked.tries_left)
        elif outcome == otp.CheckOutcome.LOCKED:
            ctx.say("otp.locked", until=checked.until)
            ctx.reset()
        else:
            ctx.retry(f"otp.{outcome}")  # expired, no code, not a code: no try used

    def on_choice(self, ctx: Context, value: str) -> None:
        if value != RESEND:
            ctx.retry("input.button_expired")
            return
        mobile = self.mobile(ctx)
        if mobile is None:
            return
        issued = issue_code(ctx, mobile, self.purpose, self.about(ctx))
        if issued.outcome == otp.IssueOutcome.SENT:
            ctx.draft.pop(NO_NEW_CODE, None)
            ctx.say("otp.sent_again")
            ctx.go(self.name)
        elif issued.outcome == otp.IssueOutcome.TOO_SOON:
            ctx.retry("otp.too_soon", until=issued.until)
        else:
            ctx.say("otp.cooling_down", until=issued.until)
            ctx.reset()
