"""The answer to "how did it go?" once a request is final: a score pressed under the question
(or texted back by SMS), then an optional comment; changed within a day, refused kindly after."""

from datetime import datetime, timedelta

from sqlmodel import Session

from backend.constants import Channel
from backend.feedback import COMMENT_MAX_CHARS, parse_score, record_comment, record_score
from backend.feedback import sms_question as texted_question
from backend.models import Conversation, ServiceRequest
from backend.settings import Settings
from backend.workflows import Refused
from channels.render import FEEDBACK_PREFIX, feedback_value
from channels.replies import Button, Reply
from dialogs import states
from dialogs.engine import Context, Step
from dialogs.outcomes import by_sms, their_requests
from locales.values import Code, Msg

SKIP = "feedback:skip"
CODE = "feedback_code"  # the draft's request, whose answer the comment completes


def _request(ctx: Context, code: str) -> ServiceRequest | None:
    found = their_requests(ctx, code, limit=1)
    return found[0] if found else None


def _score(ctx: Context, request: ServiceRequest, score: int) -> None:
    """Stores the score and asks for a comment; refused kindly once the answer is kept."""
    code = Code(request.tracking_code)
    try:
        scored = record_score(
            ctx.session, request, score=score, channel=ctx.event.channel, now=ctx.now
        )
    except Refused as refused:
        if refused.code != "feedback_closed":
            raise
        ctx.retry("feedback.closed", code=code, score=refused.params["score"])
        return
    changed = scored.previous is not None and scored.previous != score
    ctx.say("feedback.changed" if changed else "feedback.scored", code=code, score=score)
    ctx.reset(states.FEEDBACK_COMMENT)
    ctx.draft[CODE] = request.tracking_code


class FeedbackScoreStep(Step):
    """Every `fb:<score>:<code>` button, wherever it is pressed (the question's notice, or a
    digit texted back by SMS); a step never entered."""

    name = states.FEEDBACK
    standing_prefix = FEEDBACK_PREFIX

    def on_choice(self, ctx: Context, value: str) -> None:
        # A standing button's value may come from any client: the score is checked, the request
        # must be the sender's.
        _, score_typed, code = [*value.split(":"), "", ""][:3]
        score = parse_score(score_typed)
        request = _request(ctx, code) if score is not None else None
        if score is None or request is None:
            ctx.retry("input.button_expired")
            return
        try:
            _score(ctx, request, score)
        except Refused:  # not final: no question was asked about it
            ctx.retry("input.button_expired")


class FeedbackCommentStep(Step):
    """The comment after the score: typed, or skipped (by SMS, where every reply costs, simply
    not sent; a digit texted here is a score again: bot.sms_desk)."""

    name = states.FEEDBACK_COMMENT
    help = "help.feedback"

    def prompt(self, ctx: Context) -> Reply:
        if by_sms(ctx):
            return Reply(Msg("feedback.comment_prompt_sms"))  # short: the reply fits whole
        code = Code(ctx.draft.get(CODE, ""))
        skip = Button(Msg("feedback.skip"), SKIP)
        return Reply(Msg("feedback.comment_prompt", {"code": code}), buttons=[[skip]])

    def on_text(self, ctx: Context, text: str) -> None:
        request = _request(ctx, ctx.draft.get(CODE, ""))
        if request is None:
            ctx.say("requests.not_found")
            ctx.reset()
            return
        code = Code(request.tracking_code)
        try:
            record_comment(ctx.session, request, comment=text, now=ctx.now)
        except Refused as refused:
            if refused.code == "comment_too_long":
                ctx.retry("feedback.comment_too_long", max=COMMENT_MAX_CHARS)
                return
            if refused.code != "feedback_closed":
                raise
            ctx.say("feedback.closed", code=code, score=refused.params["score"])
        else:
            ctx.say("feedback.commented", code=code)
        ctx.reset()

    def on_choice(self, ctx: Context, value: str) -> None:
        if value != SKIP:
            super().on_choice(ctx, value)
            return
        ctx.say("feedback.thanks", code=Code(ctx.draft.get(CODE, "")))
        ctx.reset()


def sms_score_choice(
    session: Session, settings: Settings, *, mobile: str, text: str, now: datetime
) -> str | None:
    """The score button a text from `mobile` presses, if it is a digit answering the feedback
    question texted to it within FEEDBACK_SMS_HOURS: unless the sender has been in another
    conversation since the question that is still going on (a digit there is its choice)."""
    score = parse_score(text)
    if score is None:
        return None
    asked = texted_question(session, mobile=mobile, now=now, hours=settings.feedback_sms_hours)
    if asked is None:
        return None
    conversation = session.get(Conversation, (Channel.SMS, mobile))
    if conversation is not None:
        going_on = now - conversation.updated_at < timedelta(
            minutes=settings.sms_session_ttl_minutes
        )
        since = conversation.updated_at > asked.sent_at
        if since and going_on and conversation.state != states.FEEDBACK_COMMENT:
            return None
    return feedback_value(score, asked.tracking_code)


STEPS: list[Step] = [FeedbackScoreStep(), FeedbackCommentStep()]
