"""Following up a request by its tracking code."""

from backend.constants import Channel
from backend.identifiers import InvalidIdentifier
from backend.models import ServiceRequest
from backend.outcomes import has_result
from backend.service_requests import find_request
from backend.tracking import find_tracking_code, parse_tracking_code
from channels.replies import Reply
from dialogs import states
from dialogs.engine import Context, Step
from dialogs.outcomes import review_result, their_requests
from dialogs.self_service_status import show_reading_status, show_report_status
from locales.values import Code, Msg, tehran_date


def _may_look_up(ctx: Context) -> bool:
    """Counts a look-up of this user; False, having said so, beyond TRACK_RATE_LIMIT a window."""
    lookups = ctx.effects.lookups
    if lookups is None or lookups.hit(f"{ctx.event.channel}:{ctx.event.user_id}") <= (
        ctx.settings.track_rate_limit
    ):
        return True
    ctx.say("track.rate_limited")
    return False


def show_request_status(ctx: Context, text: str) -> bool:
    """Says the status of the request whose code is in `text`; False if there is none.

    By SMS the reply is worded to fit a reply's parts: the code, status and next date first.
    """
    if not _may_look_up(ctx):
        return False
    try:
        code = parse_tracking_code(find_tracking_code(text) or text)
    except InvalidIdentifier as error:
        ctx.say(f"track.invalid_{error.reason}")
        return False
    request = find_request(ctx.session, tracking_code=code)
    if request is None:
        # An outage report's or a self-reading's code answers with its own status.
        found = show_report_status(ctx, code) or show_reading_status(ctx, code)
        if not found:
            ctx.say("track.not_found", code=Code(code))
        return found
    status = Msg(f"status.{request.status}")
    kind = Msg(f"kind.{request.kind}")
    sms = ctx.event.channel == Channel.SMS
    if has_result(request):
        _show_result(ctx, request, kind=kind, status=status)
    elif request.step_deadline is None:
        ctx.say("track.status_final", code=Code(code), kind=kind, status=status)
    else:
        ctx.say(
            "track.status_sms" if sms else "track.status",
            code=Code(code),
            kind=kind,
            status=status,
            filed=tehran_date(request.created_at),
            expected=tehran_date(request.step_deadline),
        )
    return True


def _show_result(ctx: Context, request: ServiceRequest, *, kind: Msg, status: Msg) -> None:
    """A review's result, to its requester: in words, with the corrected bill (not by SMS, where
    the words say it all). Anyone else with the code learns only that it was announced to them."""
    code = Code(request.tracking_code)
    result = review_result(ctx, request) if their_requests(ctx, request.tracking_code) else None
    if result is None:
        ctx.say("track.status_result_elsewhere", code=code, kind=kind, status=status)
    elif ctx.event.channel == Channel.SMS:
        ctx.replies.append(Reply(result.message))
    else:
        params = {"code": code, "kind": kind, "status": status, "result": result.message}
        ctx.replies.append(Reply(Msg("track.status_result", params), files=result.files))


class TrackCodeStep(Step):
    name = states.TRACK_CODE
    back = states.MENU
    help = "help.track"

    def prompt(self, ctx: Context) -> Reply:
        return Reply(Msg("track.prompt"))

    def on_text(self, ctx: Context, text: str) -> None:
        if show_request_status(ctx, text):
            ctx.go(states.MENU)
        else:
            ctx.go(self.name)
