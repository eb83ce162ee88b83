"""Composing a broadcast (supervisors and admins): text or outage, preview, audience, send."""

import csv
import io
import re
from datetime import date, datetime, time, timedelta
from typing import Any, ClassVar

import jdatetime
from sqlmodel import Session, col, select

from backend import broadcasts as service
from backend import staff as rules
from backend.broadcast_audience import (
    Audience,
    AudienceKind,
    Place,
    count_recipients,
    find_places,
    subscription_ids,
)
from backend.constants import BroadcastChannels, BroadcastTopic, Channel, RequestKind
from backend.identifiers import InvalidIdentifier, normalize_text, parse_bill_id, to_ascii_digits
from backend.models import Broadcast, Subscription
from backend.settings import local_zone
from channels.render import SMS_MARKUP, broadcast_message, render_for_channel
from channels.replies import Button, Reply
from channels.sms.text import parts_needed
from dialogs import states
from dialogs.engine import Context, Step
from dialogs.events import IncomingFile
from dialogs.staff import listed, stacked_lines
from locales.values import Code, Msg, render, tehran_date

TEXT_MAX_CHARS = 1000
CSV_MAX_BYTES = 5 * 1024 * 1024
RECENT_SHOWN = 8
_DATE = re.compile(r"(\d{4})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{1,2})")
_CLOCK = r"(\d{1,2})(?:\s*:\s*(\d{2}))?"
_HOURS = re.compile(_CLOCK + r"\s*(?:-|–|—|تا|to)\s*" + _CLOCK)
_SEPARATORS = re.compile(r"[,،;\n]+")
PLACES_OFFERED = 6  # an ambiguous place's cities shown as buttons at most
WORDS_QUOTED = 4  # the last words an SMS keeps, quoted to say where it is cut


def _authorized(ctx: Context, command: str) -> int | None:
    """The staff member's id if they may run `command` (checked at every step); else None."""
    staff = rules.authorize(
        ctx.session, channel=ctx.event.channel, user_id=ctx.event.user_id, command=command
    )
    return staff.id if staff is not None else None


def _jalali_day(text: str) -> date | None:
    match = _DATE.search(to_ascii_digits(text))
    if match is None:
        return None
    try:
        return jdatetime.date(*map(int, match.groups())).togregorian()
    except ValueError:
        return None


def _clock(hour: str, minute: str | None) -> time | None:
    try:
        return time(int(hour), int(minute or 0))
    except ValueError:
        return None


def _example_day(ctx: Context) -> date:
    """The day the date examples show: tomorrow in Iran, so that it is never in the past."""
    return tehran_date(ctx.now) + timedelta(days=1)


def _example_moment(ctx: Context) -> datetime:
    return datetime.combine(_example_day(ctx), time(8), local_zone())


class ComposeStep(Step):
    """A step of the composing flow: only a supervisor or an admin gets past it."""

    back: ClassVar[str | None] = states.BROADCAST_KIND
    help = "help.broadcast"

    def authorized(self, ctx: Context) -> bool:
        if _authorized(ctx, "broadcast") is not None:
            return True
        ctx.say("broadcast.not_allowed")
        ctx.reset()
        return False

    def on_text(self, ctx: Context, text: str) -> None:
        if self.authorized(ctx):
            self.text(ctx, text)

    def on_choice(self, ctx: Context, value: str) -> None:
        if self.authorized(ctx):
            self.choice(ctx, value)

    def text(self, ctx: Context, text: str) -> None:
        ctx.retry("input.use_buttons")

    def choice(self, ctx: Context, value: str) -> None:
        ctx.retry("input.button_expired")


class KindStep(ComposeStep):
    name = states.BROADCAST_KIND
    back = states.MENU

    def prompt(self, ctx: Context) -> Reply:
        return Reply(
            Msg("broadcast.kind_prompt"),
            [
                [Button(Msg("broadcast.kind_outage"), "bck:outage")],
                [Button(Msg("broadcast.kind_text"), "bck:text")],
            ],
        )

    def choice(self, ctx: Context, value: str) -> None:
        ctx.draft["broadcast"] = {}
        ctx.go(states.BROADCAST_PLACE if value == "bck:outage" else states.BROADCAST_TEXT)


class TextStep(ComposeStep):
    name = states.BROADCAST_TEXT

    def prompt(self, ctx: Context) -> Reply:
        return Reply(Msg("broadcast.text_prompt", {"max": TEXT_MAX_CHARS}))

    def text(self, ctx: Context, text: str) -> None:
        cleaned = normalize_text(text)
        if not cleaned or len(cleaned) > TEXT_MAX_CHARS:
            ctx.retry("broadcast.text_length", max=TEXT_MAX_CHARS)
            return
        ctx.draft["broadcast"].update(
            topic=BroadcastTopic.GENERAL, key=service.TEXT_KEY, params={"text": cleaned}
        )
        ctx.go(states.BROADCAST_PREVIEW)


class PlaceStep(ComposeStep):
    name = states.BROADCAST_PLACE

    def prompt(self, ctx: Context) -> Reply:
        return Reply(Msg("broadcast.place_prompt"))

    def text(self, ctx: Context, text: str) -> None:
        place = normalize_text(text)
        if not place or len(place) > 100:
            ctx.retry("broadcast.place_prompt")
            return
        ctx.draft["broadcast"]["place"] = place
        ctx.go(states.BROADCAST_DAY)


class DayStep(ComposeStep):
    name = states.BROADCAST_DAY
    back = states.BROADCAST_PLACE

    def prompt(self, ctx: Context) -> Reply:
        return Reply(Msg("broadcast.day_prompt", {"example": _example_day(ctx)}))

    def text(self, ctx: Context, text: str) -> None:
        day = _jalali_day(text)
        if day is None:
            ctx.retry("broadcast.day_invalid", example=_example_day(ctx))
        elif day < tehran_date(ctx.now):
            ctx.retry("broadcast.day_past")
        else:
            ctx.draft["broadcast"]["day"] = day.isoformat()
            ctx.go(states.BROADCAST_HOURS)


class HoursStep(ComposeStep):
    name = states.BROADCAST_HOURS
    back = states.BROADCAST_DAY

    def prompt(self, ctx: Context) -> Reply:
        return Reply(Msg("broadcast.hours_prompt"))

    def text(self, ctx: Context, text: str) -> None:
        match = _HOURS.search(to_ascii_digits(text))
        start = _clock(*match.group(1, 2)) if match else None
        end = _clock(*match.group(3, 4)) if match else None
        if start is None or end is None or end <= start:
            ctx.retry("broadcast.hours_invalid")
            return
        ctx.draft["broadcast"].update(start=start.isoformat(), end=end.isoformat())
        ctx.go(states.BROADCAST_REASON)


class ReasonStep(ComposeStep):
    name = states.BROADCAST_REASON
    back = states.BROADCAST_HOURS

    def prompt(self, ctx: Context) -> Reply:
        buttons = [
            [Button(Msg(f"broadcast.reason.{reason}"), f"bcr:{reason}")]
            for reason in service.OUTAGE_REASONS
        ]
        return Reply(Msg("broadcast.reason_prompt"), buttons)

    def choice(self, ctx: Context, value: str) -> None:
        self._outage(ctx, reason=value.removeprefix("bcr:"))

    def text(self, ctx: Context, text: str) -> None:
        reason = normalize_text(text)
        if not reason or len(reason) > 200:
            ctx.retry("broadcast.reason_prompt")
            return
        self._outage(ctx, reason="", reason_text=reason)

    @staticmethod
    def _outage(ctx: Context, *, reason: str, reason_text: str = "") -> None:
        draft = ctx.draft["broadcast"]
        params = service.outage_params(
            place=draft["place"],
            day=date.fromisoformat(draft["day"]),
            start=time.fromisoformat(draft["start"]),
            end=time.fromisoformat(draft["end"]),
            reason=reason,
            reason_text=reason_text,
        )
        draft.update(topic=BroadcastTopic.OUTAGE, key=service.OUTAGE_KEY, params=params)
        ctx.go(states.BROADCAST_PREVIEW)


class PreviewStep(ComposeStep):
    """The message exactly as subscribers will read it (in the composer's language), in a
    messenger and by SMS, with a warning where the SMS cuts it."""

    name = states.BROADCAST_PREVIEW

    def back_to(self, ctx: Context) -> str:
        """One step back, to the last thing entered; the draft keeps the rest."""
        outage = ctx.draft["broadcast"].get("key") == service.OUTAGE_KEY
        return states.BROADCAST_REASON if outage else states.BROADCAST_TEXT

    def prompt(self, ctx: Context) -> Reply:
        draft = ctx.draft["broadcast"]
        message = broadcast_message(draft["key"], draft["params"], ctx.locale)
        max_parts = ctx.settings.sms_max_parts
        sms = render_for_channel(message, Channel.SMS, ctx.locale, max_parts)
        whole = render(message, ctx.locale, SMS_MARKUP)
        params: dict[str, Any] = {"message": message, "sms": sms, "parts": parts_needed(sms)}
        key = "broadcast.preview"
        if sms != whole:
            # The SMS is the head that fits, then its ellipsis ("..." keeps a GSM-7 text GSM-7).
            kept = sms.removesuffix("...") if sms.endswith("...") else sms.removesuffix("…")
            key = "broadcast.preview_sms_cut"
            params.update(
                max=max_parts,
                after=" ".join(kept.split()[-WORDS_QUOTED:]),
                dropped=len(whole[len(kept) :].split()),
            )
        return Reply(Msg(key, params), [[Button(Msg("broadcast.looks_right"), "bcp:ok")]])

    def choice(self, ctx: Context, value: str) -> None:
        ctx.go(states.BROADCAST_AUDIENCE)


class AudienceStep(ComposeStep):
    name = states.BROADCAST_AUDIENCE
    back = states.BROADCAST_PREVIEW
    NEXT: ClassVar[dict[AudienceKind, str]] = {
        AudienceKind.PLACE: states.BROADCAST_AREA,
        AudienceKind.FEEDERS: states.BROADCAST_FEEDERS,
        AudienceKind.OPEN_REQUESTS: states.BROADCAST_REQUESTS,
        AudienceKind.SUBSCRIPTIONS: states.BROADCAST_CSV,
    }

    def prompt(self, ctx: Context) -> Reply:
        """The place the outage template names comes first, when subscriptions are there."""
        draft = ctx.draft["broadcast"]
        named = find_places(ctx.session, draft["place"]) if "place" in draft else []
        buttons = _place_buttons(ctx, named, named=True)
        buttons += [
            [Button(Msg(f"broadcast.audience.{kind}"), f"bca:{kind}")] for kind in AudienceKind
        ]
        return Reply(Msg("broadcast.audience_prompt"), buttons)

    def choice(self, ctx: Context, value: str) -> None:
        if value.startswith("bcl:"):
            _place_pressed(ctx, value)
            return
        kind = AudienceKind(value.removeprefix("bca:"))
        ctx.draft["broadcast"].pop("area_typed", None)
        if kind == AudienceKind.EVERYONE:
            _audience_chosen(ctx, Audience(kind))
        else:
            ctx.go(self.NEXT[kind])


def _audience_chosen(ctx: Context, audience: Audience) -> None:
    draft = ctx.draft["broadcast"]
    for offered in ("places", "area_typed"):
        draft.pop(offered, None)
    draft["audience"] = audience.to_json()
    ctx.go(states.BROADCAST_CHANNELS)


def _place_label(place: Place) -> Msg:
    if place.area is None:
        return Msg("broadcast.place_city", {"city": place.city})
    return Msg("broadcast.place_area", {"city": place.city, "area": place.area})


def _place_buttons(ctx: Context, places: list[Place], *, named: bool) -> list[list[Button]]:
    """A button per place (`bcl:<index>`), the places kept in the draft for the press;
    `named`: the places the outage template names, said so."""
    shown = places[:PLACES_OFFERED]
    ctx.draft["broadcast"]["places"] = [[place.city, place.area] for place in shown]
    labels = [_place_label(place) for place in shown]
    if named:
        labels = [Msg("broadcast.audience.in_place", {"place": label}) for label in labels]
    return [[Button(label, f"bcl:{index}")] for index, label in enumerate(labels)]


def _place_chosen(ctx: Context, place: Place) -> None:
    _audience_chosen(ctx, Audience(AudienceKind.PLACE, city=place.city, area=place.area))


def _place_pressed(ctx: Context, value: str) -> None:
    city, area = ctx.draft["broadcast"]["places"][int(value.removeprefix("bcl:"))]
    _place_chosen(ctx, Place(city, area))


class AreaStep(ComposeStep):
    name = states.BROADCAST_AREA
    back = states.BROADCAST_AUDIENCE

    def prompt(self, ctx: Context) -> Reply:
        """The question; after a name that several cities have, those places to choose from."""
        draft = ctx.draft["broadcast"]
        if "area_typed" not in draft:
            return Reply(Msg("broadcast.area_prompt"))
        places = [Place(city, area) for city, area in draft["places"]]
        buttons = _place_buttons(ctx, places, named=False)
        return Reply(Msg("broadcast.area_choose", {"place": draft["area_typed"]}), buttons)

    def text(self, ctx: Context, text: str) -> None:
        places = find_places(ctx.session, text)
        draft = ctx.draft["broadcast"]
        draft.pop("area_typed", None)
        if not places:
            ctx.retry("broadcast.area_unknown", place=normalize_text(text))
        elif len(places) == 1:
            _place_chosen(ctx, places[0])
        else:
            draft.update(area_typed=normalize_text(text), places=[[p.city, p.area] for p in places])
            ctx.go(self.name)

    def choice(self, ctx: Context, value: str) -> None:
        _place_pressed(ctx, value)


class FeedersStep(ComposeStep):
    name = states.BROADCAST_FEEDERS
    back = states.BROADCAST_AUDIENCE

    def prompt(self, ctx: Context) -> Reply:
        return Reply(Msg("broadcast.feeders_prompt"))

    def text(self, ctx: Context, text: str) -> None:
        wanted = [normalize_text(part) for part in _SEPARATORS.split(text) if part.strip()]
        known = set(
            ctx.session.exec(
                select(Subscription.feeder).where(col(Subscription.feeder).in_(wanted))
            )
        )
        unknown = [feeder for feeder in wanted if feeder not in known]
        if not wanted or unknown:
            named = listed([Code(feeder) for feeder in unknown]) if unknown else ""
            ctx.retry("broadcast.feeders_unknown", feeders=named)
            return
        feeders = tuple(dict.fromkeys(wanted))
        _audience_chosen(ctx, Audience(AudienceKind.FEEDERS, feeders=feeders))


class RequestsStep(ComposeStep):
    name = states.BROADCAST_REQUESTS
    back = states.BROADCAST_AUDIENCE

    def prompt(self, ctx: Context) -> Reply:
        buttons = [[Button(Msg(f"kind.{kind}"), f"bcq:{kind}")] for kind in RequestKind]
        return Reply(Msg("broadcast.requests_prompt"), buttons)

    def choice(self, ctx: Context, value: str) -> None:
        kind = RequestKind(value.removeprefix("bcq:"))
        _audience_chosen(ctx, Audience(AudienceKind.OPEN_REQUESTS, request_kind=kind))


class CsvStep(ComposeStep):
    """A file of bill IDs, one a line (the first column of a CSV); a header line is skipped."""

    name = states.BROADCAST_CSV
    back = states.BROADCAST_AUDIENCE

    def prompt(self, ctx: Context) -> Reply:
        return Reply(Msg("broadcast.csv_prompt"))

    def on_file(self, ctx: Context, file: IncomingFile) -> None:
        if not self.authorized(ctx):
            return
        if file.size_bytes > CSV_MAX_BYTES:
            ctx.retry("broadcast.csv_too_big")
            return
        try:
            text = file.fetch().decode("utf-8-sig")
        except UnicodeDecodeError:
            ctx.retry("broadcast.csv_unreadable")
            return
        bill_ids, invalid = _bill_ids(text)
        found = subscription_ids(ctx.session, bill_ids)
        if not found:
            ctx.retry("broadcast.csv_empty", invalid=invalid, unknown=len(bill_ids))
            return
        ctx.say(
            "broadcast.csv_read",
            found=len(found),
            invalid=invalid,
            unknown=len(bill_ids) - len(found),
        )
        audience = Audience(AudienceKind.SUBSCRIPTIONS, subscription_ids=tuple(found))
        _audience_chosen(ctx, audience)


def _bill_ids(text: str) -> tuple[list[str], int]:
    """The distinct valid bill IDs in the file's first column, and how many lines were not."""
    found: dict[str, None] = {}
    invalid = 0
    for number, row in enumerate(csv.reader(io.StringIO(text))):
        cell = row[0].strip() if row else ""
        if not cell:
            continue
        try:
            found[parse_bill_id(cell)] = None
        except InvalidIdentifier:
            invalid += number > 0  # the first line may be a header
    return list(found), invalid


class ChannelsStep(ComposeStep):
    name = states.BROADCAST_CHANNELS
    back = states.BROADCAST_AUDIENCE

    def prompt(self, ctx: Context) -> Reply:
        order = (
            BroadcastChannels.MESSENGER_THEN_SMS,  # the default, first
            BroadcastChannels.MESSENGER,
            BroadcastChannels.SMS,
        )
        buttons = [[Button(Msg(f"broadcast.channels.{c}"), f"bcc:{c}")] for c in order]
        return Reply(Msg("broadcast.channels_prompt"), buttons)

    def choice(self, ctx: Context, value: str) -> None:
        ctx.draft["broadcast"]["channels"] = value.removeprefix("bcc:")
        ctx.go(states.BROADCAST_CONFIRM)


class ConfirmStep(ComposeStep):
    """The audience counted per channel; send now, or at a Jalali date and time."""

    name = states.BROADCAST_CONFIRM
    back = states.BROADCAST_CHANNELS

    def prompt(self, ctx: Context) -> Reply:
        counts = _counts(ctx)
        if not counts["total"]:
            return Reply(Msg("broadcast.nobody"))
        buttons = [
            [Button(Msg("broadcast.send_now"), "bcw:now")],
            [Button(Msg("broadcast.send_later"), "bcw:later")],
        ]
        return Reply(Msg("broadcast.confirm", counts), buttons)

    def choice(self, ctx: Context, value: str) -> None:
        ctx.go(states.BROADCAST_WHEN if value == "bcw:later" else states.BROADCAST_SEND_NOW)


def _counts(ctx: Context) -> dict[str, int]:
    """The draft's recipients now, per channel shown and in all (`total`)."""
    draft = ctx.draft["broadcast"]
    counts = count_recipients(
        ctx.session,
        Audience.from_json(draft["audience"]),
        BroadcastChannels(draft["channels"]),
        BroadcastTopic(draft["topic"]),
        default_locale=ctx.settings.default_locale,
    )
    shown = (Channel.TELEGRAM, Channel.BALE, Channel.SMS)
    return {
        **{channel.value: counts.get(channel, 0) for channel in shown},
        "total": sum(counts.values()),
    }


class SendNowStep(ComposeStep):
    """Sending at once cannot be taken back: the count once more, on the button itself."""

    name = states.BROADCAST_SEND_NOW
    back = states.BROADCAST_CONFIRM

    def prompt(self, ctx: Context) -> Reply:
        counts = _counts(ctx)
        if not counts["total"]:
            return Reply(Msg("broadcast.nobody"))
        button = Button(Msg("broadcast.send_now_yes", {"total": counts["total"]}), "bcn:yes")
        return Reply(Msg("broadcast.send_now_confirm", counts), [[button]])

    def choice(self, ctx: Context, value: str) -> None:
        _create(ctx, ctx.now)


class WhenStep(ComposeStep):
    name = states.BROADCAST_WHEN
    back = states.BROADCAST_CONFIRM

    def prompt(self, ctx: Context) -> Reply:
        return Reply(Msg("broadcast.when_prompt", {"example": _example_moment(ctx)}))

    def text(self, ctx: Context, text: str) -> None:
        typed = to_ascii_digits(text)
        day = _jalali_day(typed)
        date_match = _DATE.search(typed)
        rest = typed[date_match.end() :] if date_match else ""
        match = re.fullmatch(r"\s*" + _CLOCK + r"\s*", rest)
        clock = _clock(*match.groups()) if match else None
        if day is None or clock is None:
            ctx.retry("broadcast.when_invalid", example=_example_moment(ctx))
            return
        moment = datetime.combine(day, clock, local_zone())
        if moment <= ctx.now:
            ctx.retry("broadcast.when_past")
            return
        _create(ctx, moment)


def _create(ctx: Context, send_at: datetime) -> None:
    staff_id = _authorized(ctx, "broadcast")
    draft = ctx.draft["broadcast"]
    broadcast = service.create_broadcast(
        ctx.session,
        topic=BroadcastTopic(draft["topic"]),
        message_key=draft["key"],
        params=draft["params"],
        audience=Audience.from_json(draft["audience"]),
        channels=BroadcastChannels(draft["channels"]),
        send_at=send_at,
        created_by=staff_id,
        progress_to=(ctx.event.channel, ctx.event.user_id),
        now=ctx.now,
        dispatch=ctx.effects.start_broadcast,
    )
    if send_at > ctx.now:
        ctx.say("broadcast.scheduled", id=broadcast.id, when=send_at)
    else:
        ctx.say("broadcast.queued", id=broadcast.id)
    ctx.reset()


class ListStep(Step):
    """`/broadcasts`: the recent ones with their counts; a live one can be cancelled."""

    name = states.BROADCAST_LIST
    back = states.MENU
    help = "help.broadcasts"

    def prompt(self, ctx: Context) -> Reply:
        lines = []
        buttons = []
        for broadcast in service.recent_broadcasts(ctx.session, limit=RECENT_SHOWN):
            lines.append(_summary(ctx.session, broadcast, ctx))
            if broadcast.status in service.LIVE:
                label = Msg("broadcast.cancel_button", {"id": broadcast.id})
                buttons.append([Button(label, f"bcx:{broadcast.id}")])
        if not lines:
            return Reply(Msg("broadcast.none"))
        return Reply(Msg("broadcast.list", {"lines": stacked_lines(lines)}), buttons)

    def on_choice(self, ctx: Context, value: str) -> None:
        if _authorized(ctx, "broadcasts") is None:
            ctx.say("broadcast.not_allowed")
            ctx.reset()
            return
        broadcast_id = int(value.removeprefix("bcx:"))
        cancelled = service.cancel_broadcast(ctx.session, broadcast_id, now=ctx.now)
        ctx.say("broadcast.cancelled" if cancelled else "broadcast.not_live", id=broadcast_id)
        ctx.go(self.name)


def _summary(session: Session, broadcast: Broadcast, ctx: Context) -> Msg:
    assert broadcast.id is not None
    counts = service.delivery_counts(session, broadcast.id, doubt_before=ctx.now)
    return Msg(
        "broadcast.line",
        {
            "id": broadcast.id,
            "status": Msg(f"broadcast.status.{broadcast.status}"),
            "when": broadcast.send_at,
            "sent": counts.sent,
            "failed": counts.failed + counts.cancelled,
            "remaining": counts.remaining,
        },
    )


def run_broadcast_command(ctx: Context, name: str, argument: str) -> bool:
    """`/broadcast` and `/broadcasts` for those who may run them; False for everyone else."""
    if name not in ("broadcast", "broadcasts") or _authorized(ctx, name) is None:
        return False
    if name == "broadcast":
        ctx.conversation.data.pop("draft", None)
        ctx.go(states.BROADCAST_KIND)
    else:
        ctx.go(states.BROADCAST_LIST)
    return True


STEPS = [
    KindStep(),
    TextStep(),
    PlaceStep(),
    DayStep(),
    HoursStep(),
    ReasonStep(),
    PreviewStep(),
    AudienceStep(),
    AreaStep(),
    FeedersStep(),
    RequestsStep(),
    CsvStep(),
    ChannelsStep(),
    ConfirmStep(),
    SendNowStep(),
    WhenStep(),
    ListStep(),
]
