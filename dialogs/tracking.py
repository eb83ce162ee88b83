"""Following up a request by its tracking code."""

from backend.identifiers import InvalidIdentifier
from backend.service_requests import find_request
from backend.tracking import find_tracking_code, parse_tracking_code
from channels.replies import Reply
from dialogs import states
from dialogs.engine import Context, Step
from locales.values import Code, Msg, tehran_date


def show_request_status(ctx: Context, text: str) -> bool:
    """Says the status of the request whose code is in `text`; False if there is none."""
    try:
        code = parse_tracking_code(find_tracking_code(text) or text)
    except InvalidIdentifier as error:
        ctx.say(f"track.invalid_{error.reason}")
        return False
    request = find_request(ctx.session, tracking_code=code)
    if request is None:
        ctx.say("track.not_found", code=Code(code))
        return False
    status = Msg(f"status.{request.status}")
    kind = Msg(f"kind.{request.kind}")
    if request.step_deadline is None:
        ctx.say("track.status_final", code=Code(code), kind=kind, status=status)
    else:
        ctx.say(
            "track.status",
            code=Code(code),
            kind=kind,
            status=status,
            filed=tehran_date(request.created_at),
            expected=tehran_date(request.step_deadline),
        )
    return True


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
