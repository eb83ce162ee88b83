"""Staff and outages: `/incidents` (open ones with their report counts), `/resolve ID` (every
reporter is told), `/outages` (a dispatch centre's schedule as a CSV, entered without
broadcasting it)."""

import tempfile
from pathlib import Path

from backend import staff as rules
from backend.identifiers import parse_bounded_int
from backend.importers import ImportFailed
from backend.models import Staff
from backend.outage_reports import open_incidents, resolve_incident
from backend.outage_schedule import import_planned_outages, place_text
from backend.workflows import Refused
from channels.replies import Reply
from dialogs import states
from dialogs.engine import Context, Step
from dialogs.events import IncomingFile
from dialogs.staff import stacked_lines
from locales.values import Code, Msg

CSV_MAX_BYTES = 5 * 1024 * 1024
ERRORS_SHOWN = 10  # a refused file's first errors, by line


def _staff(ctx: Context, command: str) -> Staff | None:
    return rules.authorize(
        ctx.session, channel=ctx.event.channel, user_id=ctx.event.user_id, command=command
    )


def incidents(ctx: Context, staff: Staff, argument: str) -> None:
    found = open_incidents(ctx.session)
    if not found:
        ctx.say("incidents.none")
        return
    lines = [
        Msg(
            "incidents.line_feeder" if incident.feeder else "incidents.line_area",
            {
                "id": incident.id,
                "feeder": Code(incident.feeder or ""),
                "place": place_text(incident.city, incident.area),
                "count": count,
                "since": incident.opened_at,
                "last": incident.last_report_at,
            },
        )
        for incident, count in found
    ]
    ctx.replies.append(Reply(Msg("incidents.list", {"lines": stacked_lines(lines)})))


def resolve(ctx: Context, staff: Staff, argument: str) -> None:
    incident_id = parse_bounded_int(argument.strip().lstrip("#")) if argument.strip() else None
    if incident_id is None:
        ctx.say("staff.usage", usage=Msg("staff.help.resolve"))
        return
    try:
        with ctx.session.begin_nested():
            incident, told = resolve_incident(ctx.session, incident_id, staff, now=ctx.now)
    except Refused as refused:
        ctx.say(f"refused.{refused.code}", **refused.params)
        return
    ctx.say("incidents.resolved", id=incident.id, told=told)


def outages(ctx: Context, staff: Staff, argument: str) -> None:
    ctx.conversation.data.pop("draft", None)
    ctx.go(states.OUTAGES_CSV)


COMMANDS = {"incidents": incidents, "resolve": resolve, "outages": outages}


def run_outage_command(ctx: Context, name: str, argument: str) -> bool:
    """`/incidents`, `/resolve ID`, `/outages` for those who may run them; False otherwise."""
    handler = COMMANDS.get(name)
    staff = _staff(ctx, name) if handler is not None else None
    if handler is None or staff is None:
        return False
    handler(ctx, staff, argument)
    return True


class ScheduleCsvStep(Step):
    """The CSV (docs/import-formats.md, planned outages): all its rows, or none and why."""

    name = states.OUTAGES_CSV
    back = states.MENU
    help = "help.outages_csv"

    def prompt(self, ctx: Context) -> Reply:
        return Reply(Msg("outages.csv_prompt"))

    def on_text(self, ctx: Context, text: str) -> None:
        ctx.retry("outages.csv_prompt")

    def on_file(self, ctx: Context, file: IncomingFile) -> None:
        if _staff(ctx, "outages") is None:
            ctx.say("broadcast.not_allowed")
            ctx.reset()
            return
        if file.size_bytes > CSV_MAX_BYTES:
            ctx.retry("broadcast.csv_too_big")
            return
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "schedule.csv"
            path.write_bytes(file.fetch())
            try:
                with ctx.session.begin_nested():  # a refused file leaves nothing behind
                    result = import_planned_outages(ctx.session, path, now=ctx.now)
            except ImportFailed as failed:
                shown = [
                    Msg("outages.csv_error", {"line": error.line, "error": error.message})
                    for error in failed.errors[:ERRORS_SHOWN]
                ]
                head = Msg("outages.csv_refused", {"count": failed.error_count})
                ctx.replies.append(Reply(stacked_lines([head, *shown])))
                ctx.go(self.name)
                return
        ctx.say("outages.csv_imported", created=result.created, updated=result.updated)
        ctx.reset()


STEPS: list[Step] = [ScheduleCsvStep()]
