"""The planned-outage schedule: entries written with a planned-outage broadcast or from a
dispatch centre's CSV, the coming ones for a chat's bill IDs or a place, and the reminders an
hour before (sent once, by the clock's round)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from backend.broadcast_audience import Audience, AudienceKind, Place, find_places, place_key
from backend.constants import Channel, NoticeKind, OutageSource, SubscriptionStatus
from backend.identifiers import to_ascii_digits
from backend.importers import MAX_ERRORS, ImportResult, _Cells, _Errors, _records
from backend.models import (
    Broadcast,
    OutageReminder,
    PlannedOutage,
    Subscription,
)
from backend.notices import queue_chat_notice
from backend.settings import local_zone

REMINDER_BEFORE = timedelta(hours=1)
COMING_SHOWN = 10  # entries listed at most, the soonest first
REMINDER_BATCH = 500  # reminders one round sends; the next round takes the rest

# The CSV a dispatch centre exports (docs/import-formats.md): column name -> required.
OUTAGE_COLUMNS: Mapping[str, bool] = {
    "feeder": False,
    "city": False,
    "area": False,
    "date": True,
    "start": True,
    "end": True,
    "reason": False,
}
_FLUSH_EVERY = 500


@dataclass(frozen=True)
class Coming:
    """A coming (or current) outage as a chat sees it: for one of its bill IDs, or a place."""

    outage: PlannedOutage
    subscription: Subscription | None  # the followed bill ID it concerns, if any


def place_text(city: str, area: str | None) -> str:
    """A place as data («قم، صفاییه»): names joined, no translated words."""
    return f"{city}، {area}" if area else city


def local_span(day: date, start: time, end: time) -> tuple[datetime, datetime]:
    zone = local_zone()
    return datetime.combine(day, start, zone), datetime.combine(day, end, zone)


# --- Written with a broadcast -------------------------------------------------------------


def schedule_broadcast(session: Session, broadcast: Broadcast) -> list[PlannedOutage]:
    """The entries of a planned-outage broadcast, in its transaction: one per feeder it
    targets, or its place; for other audiences, the places its template names."""
    params = broadcast.params
    starts_at, ends_at = local_span(
        date.fromisoformat(params["day"]),
        time.fromisoformat(params["start"]),
        time.fromisoformat(params["end"]),
    )
    common: dict[str, Any] = {
        "starts_at": starts_at,
        "ends_at": ends_at,
        "reason": params.get("reason", ""),
        "reason_text": params.get("reason_text", ""),
        "source": OutageSource.BROADCAST,
        "broadcast_id": broadcast.id,
        "created_at": broadcast.created_at,
    }
    audience = Audience.from_json(broadcast.audience)
    entries = [PlannedOutage(feeder=feeder, **common) for feeder in _feeders_of(session, audience)]
    for place in _places_of(session, audience, params.get("place", "")):
        entries.append(PlannedOutage(city=place.city, area=place.area, **common))
    session.add_all(entries)
    session.flush()
    return entries


def _feeders_of(session: Session, audience: Audience) -> list[str]:
    if audience.kind == AudienceKind.FEEDERS:
        return list(audience.feeders)
    if audience.kind != AudienceKind.SUBSCRIPTIONS:
        return []
    feeders: set[str] = set()
    ids = list(audience.subscription_ids)
    for start in range(0, len(ids), 10_000):  # drivers cap a statement's parameters
        query = sa.select(col(Subscription.feeder)).where(
            col(Subscription.id).in_(ids[start : start + 10_000])
        )
        feeders.update(session.scalars(query.distinct()))
    return sorted(feeders)


def _places_of(session: Session, audience: Audience, named: str) -> list[Place]:
    if audience.kind == AudienceKind.PLACE and audience.city:
        return [Place(audience.city, audience.area)]
    if audience.kind in (AudienceKind.EVERYONE, AudienceKind.OPEN_REQUESTS) and named:
        return find_places(session, named)
    return []


# --- Entered from a CSV, without broadcasting --------------------------------------------


class _KnownPlaces:
    """The feeders, cities and areas the subscriptions name, as typed forms to their spelling
    (a few hundred at most: loaded once per file)."""

    def __init__(self, session: Session) -> None:
        rows = session.execute(
            sa.select(col(Subscription.city), col(Subscription.area), col(Subscription.feeder))
            .where(col(Subscription.status) != SubscriptionStatus.REMOVED)
            .distinct()
        ).all()
        self.feeders = {feeder for _, _, feeder in rows}
        self.cities = {place_key(city): city for city, _, _ in rows}
        self.areas = {(place_key(city), place_key(area)): area for city, area, _ in rows}


def _clock(cells: _Cells, column: str) -> time | None:
    value = cells.raw(column)
    try:
        return time.fromisoformat(_ascii_clock(value))
    except ValueError:
        cells.fail(f"{column} {value}: not a time HH:MM")
        return None


def _ascii_clock(value: str) -> str:
    """ "8", "8:30", "۰۸:۳۰" as "08:30" (anything else as it was, for the error to quote)."""
    hours, _, minutes = to_ascii_digits(value).strip().partition(":")
    return f"{int(hours):02d}:{minutes or '00'}" if hours.isdigit() else value


def _parse_outage(cells: _Cells, known: _KnownPlaces) -> PlannedOutage | None:
    feeder = cells.text("feeder", max_length=50, required=False, repeats=True)
    city_typed = cells.text("city", max_length=100, required=False, repeats=True)
    area_typed = cells.text("area", max_length=100, required=False, repeats=True)
    day = cells.jalali_date("date")
    start, end = _clock(cells, "start"), _clock(cells, "end")
    reason = cells.text("reason", max_length=200, required=False) or ""
    city = area = None
    if feeder is not None and feeder not in known.feeders:
        cells.fail(f"feeder {feeder}: no subscription is on it")
    if feeder is None and city_typed is None:
        cells.fail("either feeder or city is required")
    if city_typed is not None:
        city = known.cities.get(place_key(city_typed))
        if city is None:
            cells.fail(f"city {city_typed}: no subscription is in it")
    if area_typed is not None and city_typed is None:
        cells.fail("area needs its city")
    elif area_typed is not None and city is not None:
        area = known.areas.get((place_key(city), place_key(area_typed)))
        if area is None:
            cells.fail(f"area {area_typed}: no subscription of {city} is in it")
    if start is not None and end is not None and end <= start:
        cells.fail("end must be after start")
    if cells.bad or day is None or start is None or end is None:
        return None
    starts_at, ends_at = local_span(day, start, end)
    return PlannedOutage(
        feeder=feeder,
        city=None if feeder else city,
        area=None if feeder else area,
        starts_at=starts_at,
        ends_at=ends_at,
        reason="",
        reason_text=reason,
        source=OutageSource.IMPORT,
    )


def _same_entry(session: Session, entry: PlannedOutage) -> PlannedOutage | None:
    return session.exec(
        select(PlannedOutage).where(
            PlannedOutage.feeder == entry.feeder,
            PlannedOutage.city == entry.city,
            PlannedOutage.area == entry.area,
            PlannedOutage.starts_at == entry.starts_at,
            PlannedOutage.ends_at == entry.ends_at,
        )
    ).first()


def import_planned_outages(
    session: Session, path: Path | str, *, now: datetime, max_errors: int = MAX_ERRORS
) -> ImportResult:
    """Adds the schedule entries of a CSV (OUTAGE_COLUMNS), read row by row and never held;
    an entry already there (same feeder or place, same start and end) takes the file's reason.
    Raises ImportFailed listing the problems by line: the caller rolls back, so a file is taken
    whole or not at all; otherwise the caller commits."""
    errors = _Errors(max_errors)
    known = _KnownPlaces(session)
    created = updated = 0
    for record in _records(Path(path), OUTAGE_COLUMNS, errors):
        entry = _parse_outage(_Cells(record, errors), known)
        if entry is None or errors.count:
            continue  # after an error nothing is written: the file will be refused
        existing = _same_entry(session, entry)
        if existing is not None:
            existing.reason, existing.reason_text = entry.reason, entry.reason_text
            session.add(existing)
            updated += 1
        else:
            entry.created_at = now
            session.add(entry)
            created += 1
        if (created + updated) % _FLUSH_EVERY == 0:
            session.flush()
    errors.fail_if_any()
    session.flush()
    return ImportResult(created=created, updated=updated)


# --- Coming outages, for a chat -----------------------------------------------------------


def _place_matches(city: str, area: str | None) -> sa.ColumnElement[bool]:
    """An entry for the city as a whole, or for this area of it (any area, for a city)."""
    in_area = (
        sa.or_(col(PlannedOutage.area).is_(None), col(PlannedOutage.area) == area)
        if area is not None
        else sa.true()
    )
    return sa.and_(col(PlannedOutage.city) == city, in_area)


def _coming(session: Session, covers: sa.ColumnElement[bool], now: datetime) -> list[PlannedOutage]:
    return list(
        session.exec(
            select(PlannedOutage)
            .where(col(PlannedOutage.ends_at) > now, covers)
            .order_by(col(PlannedOutage.starts_at), col(PlannedOutage.id))
            .limit(COMING_SHOWN)
        )
    )


def covers_subscription(subscription: Subscription) -> sa.ColumnElement[bool]:
    """The entries that cut this subscription off: its feeder's, or its place's."""
    return sa.or_(
        col(PlannedOutage.feeder) == subscription.feeder,
        _place_matches(subscription.city, subscription.area),
    )


def covers_place(city: str, area: str | None) -> sa.ColumnElement[bool]:
    """The entries for a place: its own, and those of the feeders its subscriptions are on."""
    feeders = sa.select(col(Subscription.feeder)).where(col(Subscription.city) == city)
    if area is not None:
        feeders = feeders.where(col(Subscription.area) == area)
    return sa.or_(col(PlannedOutage.feeder).in_(feeders), _place_matches(city, area))


def coming_for(
    session: Session, subscriptions: Sequence[Subscription], *, now: datetime
) -> list[Coming]:
    """The coming outages of these bill IDs, the soonest first; each once, for the first of
    them it concerns."""
    found: dict[int, Coming] = {}
    for subscription in subscriptions:
        for outage in _coming(session, covers_subscription(subscription), now):
            assert outage.id is not None
            found.setdefault(outage.id, Coming(outage, subscription))
    ordered = sorted(found.values(), key=lambda c: (c.outage.starts_at, c.outage.id or 0))
    return ordered[:COMING_SHOWN]


def coming_in(session: Session, place: Place, *, now: datetime) -> list[Coming]:
    return [Coming(o, None) for o in _coming(session, covers_place(place.city, place.area), now)]


def current_outage(
    session: Session, covers: sa.ColumnElement[bool], *, now: datetime
) -> PlannedOutage | None:
    """The planned outage going on now among those `covers` selects (the latest to end)."""
    return session.exec(
        select(PlannedOutage)
        .where(col(PlannedOutage.starts_at) <= now, col(PlannedOutage.ends_at) > now, covers)
        .order_by(col(PlannedOutage.ends_at).desc())
    ).first()


# --- Reminders ----------------------------------------------------------------------------


def ask_reminder(
    session: Session,
    outage: PlannedOutage,
    *,
    channel: Channel,
    user_id: str,
    subscription: Subscription | None,
    place: str,
    now: datetime,
) -> bool:
    """The chat is told an hour before the outage; False if it had asked already."""
    assert outage.id is not None
    exists = session.exec(
        select(OutageReminder.id).where(
            OutageReminder.outage_id == outage.id,
            OutageReminder.channel == channel,
            OutageReminder.user_id == user_id,
        )
    ).first()
    if exists is not None:
        return False
    reminder = OutageReminder(
        outage_id=outage.id,
        channel=channel,
        user_id=user_id,
        subscription_id=subscription.id if subscription is not None else None,
        place=place,
        created_at=now,
    )
    try:
        with session.begin_nested():  # asked twice at once: the unique key keeps one
            session.add(reminder)
            session.flush()
    except sa.exc.IntegrityError:
        return False
    return True


def reminders_round(session: Session, *, now: datetime) -> int:
    """Queues the reminders of the outages that start within the hour, each once (its row is
    marked in the notice's transaction, under its lock: two clocks never send one twice)."""
    due = session.exec(
        select(OutageReminder, PlannedOutage)
        .join(PlannedOutage, col(PlannedOutage.id) == col(OutageReminder.outage_id))
        .where(
            col(OutageReminder.sent_at).is_(None),
            col(PlannedOutage.starts_at) > now,
            col(PlannedOutage.starts_at) <= now + REMINDER_BEFORE,
        )
        .order_by(col(OutageReminder.id))
        .limit(REMINDER_BATCH)
        .with_for_update(of=OutageReminder, skip_locked=True)
    ).all()
    for reminder, outage in due:
        queue_chat_notice(
            session,
            NoticeKind.OUTAGE_REMINDER,
            channel=reminder.channel,
            user_id=reminder.user_id,
            subscription_id=reminder.subscription_id,
            now=now,
            place=reminder.place,
            starts_at=outage.starts_at,
            ends_at=outage.ends_at,
            outage_reason=outage.reason or outage.reason_text,
        )
        reminder.sent_at = now
        session.add(reminder)
    return len(due)
