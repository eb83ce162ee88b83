"""Pishkhan counters' records (seed 002): adding and importing them, their operators, the services
delegated to them, who may see which counters and which requests (the one scope rule), and
the counters at work in a city (what subscribers are shown)."""

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import cast

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from backend.broadcast_audience import place_key
from backend.constants import CounterAction, CounterStatus, RequestKind, StaffRole
from backend.counter_workflow import Paper, record_event, record_introduction
from backend.identifiers import normalize_code, normalize_text, strip_invisible, to_ascii_digits
from backend.importers import ImportResult, RowError, _Cells, _check_duplicates, _fail_if_any, _read
from backend.models import Counter, CounterService, ServiceRequest, Staff
from backend.storage import FileStorage, detect_content_type
from backend.workflows import Refused

R = StaffRole
S = CounterStatus

_CODE = re.compile(r"[0-9]{3,20}", re.ASCII)  # the office codes are numbers
# A landline with its area code (041-33445566) or a mobile, kept as 11 digits from 0.
_PHONE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212().]+")
_PHONE = re.compile(r"(?:\+98|0098|0)([1-9][0-9]{9})", re.ASCII)
# A counter that will never file again keeps its history; its record is not changed.
CLOSED_STATUSES = frozenset({S.REJECTED, S.TERMINATED})
SERVICES_SEPARATOR = ";"  # between the kinds in the import's `services` column

COUNTER_COLUMNS: Mapping[str, bool] = {
    "code": True,
    "name": True,
    "city": True,
    "area": True,
    "address": True,
    "phone": True,
    "manager": True,
    "letter": True,  # the scanned introduction letter, a path relative to the CSV file
    "services": False,
}

# In words, for the admin command line (the bots say them from the catalogs).
STATUS_WORDS: Mapping[CounterStatus, str] = {
    S.INTRODUCED: "introduced, being vetted",
    S.APPROVED: "approved",
    S.REJECTED: "rejected",
    S.PREREQUISITES_ANNOUNCED: "prerequisites announced",
    S.AGREEMENT_SIGNED: "agreement signed",
    S.SOFTWARE_INSTALLED: "software installed",
    S.OPERATOR_TRAINED: "operator trained",
    S.ACTIVE: "active",
    S.SUSPENDED: "suspended",
    S.TERMINATED: "terminated",
}
KIND_WORDS: Mapping[RequestKind, str] = {
    RequestKind.BILL_REVIEW: "bill review",
    RequestKind.CONNECTION_REMOVAL: "connection removal",
}

REFUSAL_WORDS: Mapping[str, str] = {
    "counter_wrong_status": "the counter is {status}: this step does not come now",
    "counter_reason_required": "give the reason (--reason)",
    "counter_document_required": "attach the scanned {document} (--document)",
    "counter_bad_document": "the file is not a scan (JPEG, PNG or PDF)",
    "counter_date_required": "give the date the agreement was signed (--signed-on)",
    "counter_date_in_future": "the agreement cannot have been signed after today",
    "counter_no_operator": "no operator works at the counter yet: add one with `counters operator`",
    "counter_no_services": "no service is delegated to the counter yet: use `counters delegate`",
    "counter_not_operator": "that staff member is not an active counter operator",
    "counter_not_active": "the counter is {status}, not at work",
    "counter_not_delegated": "the counter is not delegated {kind}",
}


def _word(value: object) -> str:
    if isinstance(value, CounterStatus):
        return STATUS_WORDS[value]
    if isinstance(value, RequestKind):
        return KIND_WORDS[value]
    return str(value).replace("_", " ")  # a document type: "introduction letter"


def refusal_words(refused: Refused) -> str:
    """A counter refusal in words, for the admin command line."""
    words = {name: _word(value) for name, value in refused.params.items()}
    return REFUSAL_WORDS.get(refused.code, refused.code).format(**words)


class CounterError(ValueError):
    """A counter record that cannot be made as given; the message says why, `field` (one of
    CounterDetails' fields, or "") which detail it is about, for the bots to say it in words."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class CounterDetails:
    code: str
    name: str
    city: str
    area: str
    address: str
    phone: str
    manager_name: str


def parse_phone(text: str) -> str:
    cleaned = _PHONE_SEPARATORS.sub("", to_ascii_digits(strip_invisible(text)))
    match = _PHONE.fullmatch(cleaned)
    if match is None:
        raise CounterError(f"not a phone number with its area code: {text}", "phone")
    return "0" + match.group(1)


def parse_code(text: str) -> str:
    code = normalize_code(text)
    if not _CODE.fullmatch(code):
        raise CounterError(f"not an office code (3 to 20 digits): {text}", "code")
    return code


def parse_kinds(text: str, known: Collection[str] = tuple(RequestKind)) -> list[str]:
    """`bill_review;connection_removal` (or with commas): the services, once each, in order.
    `known`: those a counter may be delegated; the callers that can read the definitions pass
    the services defined as data too (backend.services.engine.service_kinds)."""
    kinds: list[str] = []
    for part in re.split(r"[;,]", text):
        name = part.strip()
        if not name:
            continue
        if name not in known:
            raise CounterError(f"unknown service {name!r}: one of {', '.join(known)}")
        if name not in kinds:
            kinds.append(name)
    return kinds


def _text(value: str, field: str, max_length: int) -> str:
    text = normalize_text(value)
    what = field.replace("_", "'s ")  # manager_name: "manager's name"
    if not text:
        raise CounterError(f"the {what} is empty", field)
    if len(text) > max_length:
        raise CounterError(
            f"the {what} is too long ({len(text)} characters, at most {max_length})", field
        )
    return text


def check_details(
    *, code: str, name: str, city: str, area: str, address: str, phone: str, manager_name: str
) -> CounterDetails:
    """The fields normalised and checked, or CounterError naming the first one that is wrong."""
    return CounterDetails(
        code=parse_code(code),
        name=_text(name, "name", 200),
        city=_text(city, "city", 100),
        area=_text(area, "area", 100),
        address=_text(address, "address", 500),
        phone=parse_phone(phone),
        manager_name=_text(manager_name, "manager_name", 200),
    )


def counter_by_code(session: Session, code: str) -> Counter:
    counter = session.exec(
        select(Counter).where(Counter.code == normalize_code(code)).with_for_update()
    ).first()
    if counter is None:
        raise CounterError(f"no counter has the code {code}")
    return counter


def introduce_counter(
    session: Session,
    details: CounterDetails,
    letter: Paper | None,
    *,
    services: Collection[str] = (),
    storage: FileStorage,
    actor: str,
    now: datetime,
) -> Counter:
    """A counter introduced by the guild association's letter: the area office vets it next."""
    if session.exec(select(Counter.id).where(Counter.code == details.code)).first() is not None:
        raise CounterError(f"a counter already has the code {details.code}")
    counter = Counter(
        code=details.code,
        name=details.name,
        city=details.city,
        area=details.area,
        address=details.address,
        phone=details.phone,
        manager_name=details.manager_name,
        status=S.INTRODUCED,
    )
    record_introduction(session, counter, letter, storage=storage, actor=actor, now=now)
    if services:
        delegate(session, counter, services, actor=actor, now=now)
    return counter


def _in_order(kinds: Collection[str]) -> list[str]:
    """The built services first, as RequestKind lists them; then those defined as data."""
    built = [kind for kind in RequestKind if kind in kinds]
    return [*built, *sorted(set(kinds) - set(built))]


def services_of(session: Session, counter: Counter) -> list[str]:
    """What the counter may file: the built services' kinds, and defined services' codes."""
    query = select(CounterService.kind).where(CounterService.counter_id == counter.id)
    return _in_order(set(session.exec(query)))


def delegate(
    session: Session,
    counter: Counter,
    kinds: Collection[str],
    *,
    actor: str,
    now: datetime,
) -> list[str]:
    """The services the counter may file become exactly `kinds` (form 7-2, edited by the
    company); an event records the new list. Returns it."""
    if counter.status in CLOSED_STATUSES:
        raise Refused("counter_wrong_status", status=S(counter.status))
    wanted = set(kinds)
    current = {
        row.kind: row
        for row in session.exec(
            select(CounterService).where(CounterService.counter_id == counter.id)
        )
    }
    for kind, row in current.items():
        if kind not in wanted:
            session.delete(row)
    assert counter.id is not None
    for code in wanted - current.keys():
        # A defined service's code is stored in the same column as a built kind.
        delegated = CounterService(
            counter_id=counter.id, kind=cast(RequestKind, code), added_by=actor, created_at=now
        )
        session.add(delegated)
    ordered = _in_order(wanted)
    record_event(
        session,
        counter,
        CounterAction.DELEGATE,
        actor=actor,
        now=now,
        note=SERVICES_SEPARATOR.join(ordered) or None,
    )
    session.flush()
    return ordered


def add_operator(
    session: Session, counter: Counter, staff: Staff, *, actor: str, now: datetime
) -> None:
    """Links a counter operator to the counter they work at (one counter each)."""
    if staff.role != R.COUNTER_OPERATOR or not staff.active:
        raise Refused("counter_not_operator")
    if counter.status in CLOSED_STATUSES:
        raise Refused("counter_wrong_status", status=S(counter.status))
    staff.counter_id = counter.id
    session.add(staff)
    record_event(
        session, counter, CounterAction.ADD_OPERATOR, actor=actor, now=now, note=f"staff:{staff.id}"
    )
    session.flush()


def operators_of(session: Session, counter: Counter) -> list[Staff]:
    query = select(Staff).where(Staff.counter_id == counter.id, Staff.role == R.COUNTER_OPERATOR)
    return list(session.exec(query.order_by(col(Staff.full_name))))


def filing_counter(session: Session, operator: Staff) -> Counter:
    """The counter an operator files at; Refused when they file nowhere (no counter, or a
    counter not at work)."""
    if operator.role != R.COUNTER_OPERATOR or not operator.active or operator.counter_id is None:
        raise Refused("counter_not_operator")
    counter = session.get(Counter, operator.counter_id)
    assert counter is not None
    if counter.status != S.ACTIVE:
        raise Refused("counter_not_active", status=S(counter.status))
    return counter


def counter_for_filing(session: Session, operator: Staff, kind: str) -> Counter:
    """The counter an operator files `kind` for; Refused when they may not (no counter, a
    counter not at work, or one not delegated the service)."""
    counter = filing_counter(session, operator)
    if kind not in services_of(session, counter):
        raise Refused("counter_not_delegated", kind=kind)
    return counter


# --- Who sees what: one rule for the counters and the requests ---

_EVERY_COUNTER = frozenset({R.ADMIN, R.SUPERVISOR, R.HQ_INSPECTOR})


def counter_scope(staff: Staff) -> ColumnElement[bool]:
    """The counters a staff member may see: all (admins, supervisors, HQ inspectors), their
    area's (an area head), their own (an operator), none (the roles that work requests)."""
    if staff.role in _EVERY_COUNTER:
        return sa.true()
    if staff.role == R.AREA_HEAD and staff.area is not None:
        return col(Counter.area) == staff.area
    if staff.role == R.COUNTER_OPERATOR and staff.counter_id is not None:
        return col(Counter.id) == staff.counter_id
    return sa.false()


def request_scope(staff: Staff) -> ColumnElement[bool]:
    """The requests a staff member may see: an operator only their counter's, an area head those
    filed at their area's counters, an HQ inspector those filed at any counter; the roles that
    work requests (and admins, supervisors) every one."""
    counter_id = col(ServiceRequest.counter_id)
    if staff.role == R.COUNTER_OPERATOR:
        return counter_id == staff.counter_id if staff.counter_id is not None else sa.false()
    if staff.role == R.AREA_HEAD:
        return counter_id.in_(select(Counter.id).where(counter_scope(staff)))
    if staff.role == R.HQ_INSPECTOR:
        return counter_id.is_not(None)
    return sa.true()


def visible_counters(session: Session, staff: Staff) -> list[Counter]:
    query = select(Counter).where(counter_scope(staff)).order_by(col(Counter.code))
    return list(session.exec(query))


def may_see_counter(session: Session, staff: Staff, counter: Counter) -> bool:
    query = select(Counter.id).where(Counter.id == counter.id, counter_scope(staff))
    return session.exec(query).first() is not None


def may_see_request(session: Session, staff: Staff, request: ServiceRequest) -> bool:
    query = select(ServiceRequest.id).where(ServiceRequest.id == request.id, request_scope(staff))
    return session.exec(query).first() is not None


# --- Import: every row or none ---


@dataclass(frozen=True)
class _CounterRow:
    line: int
    details: CounterDetails
    letter: Paper
    services: list[str]


def _parse_row(cells: _Cells, folder: Path, known: Collection[str]) -> _CounterRow | None:
    try:
        details = check_details(
            code=cells.raw("code"),
            name=cells.raw("name"),
            city=cells.raw("city"),
            area=cells.raw("area"),
            address=cells.raw("address"),
            phone=cells.raw("phone"),
            manager_name=cells.raw("manager"),
        )
        services = parse_kinds(cells.raw("services"), known)
    except CounterError as exc:
        cells.fail(str(exc))
        return None
    letter_name = cells.raw("letter")
    try:
        content = (folder / letter_name).read_bytes() if letter_name else b""
    except OSError as exc:
        cells.fail(f"letter {letter_name}: cannot be read ({exc.strerror or exc})")
        return None
    if detect_content_type(content) is None:
        cells.fail(f"letter {letter_name}: not a scan (JPEG, PNG or PDF)")
        return None
    return _CounterRow(cells.line, details, Paper(content, Path(letter_name).name), services)


def import_counters(
    session: Session,
    path: Path | str,
    *,
    storage: FileStorage,
    actor: str,
    now: datetime,
    known: Collection[str] = tuple(RequestKind),
) -> ImportResult:
    """Introduces the counters of a CSV (COUNTER_COLUMNS), each with its scanned letter. Raises
    ImportFailed listing every problem by line, writing nothing; the caller commits. `known`:
    the services its rows may delegate (parse_kinds)."""
    path = Path(path)
    errors: list[RowError] = []
    rows = [
        row
        for record in _read(path, COUNTER_COLUMNS, errors)
        if (row := _parse_row(_Cells(record, errors), path.parent, known)) is not None
    ]
    _check_duplicates(((r.details.code, r.line) for r in rows), lambda c: f"code {c}", errors)
    taken = set(
        session.exec(
            select(Counter.code).where(col(Counter.code).in_([r.details.code for r in rows]))
        )
    )
    errors += [
        RowError(r.line, f"a counter already has the code {r.details.code}")
        for r in rows
        if r.details.code in taken
    ]
    _fail_if_any(errors)
    for row in rows:
        introduce_counter(
            session,
            row.details,
            row.letter,
            services=row.services,
            storage=storage,
            actor=actor,
            now=now,
        )
    return ImportResult(created=len(rows), updated=0)


def all_counters(session: Session) -> list[Counter]:
    return list(session.exec(select(Counter).order_by(col(Counter.code))))


# --- What subscribers see: the counters at work in a city ---


def _active(session: Session) -> list[Counter]:
    query = select(Counter).where(Counter.status == S.ACTIVE)
    return list(session.exec(query.order_by(col(Counter.city), col(Counter.name))))


def active_cities(session: Session) -> list[str]:
    """The cities with a counter at work, in order."""
    return sorted({counter.city for counter in _active(session)})


def active_counters_in(session: Session, city: str) -> list[Counter]:
    """The counters at work in the city named, however it is typed (Arabic ي and ك, spaces or
    ZWNJ, as broadcasts match places)."""
    key = place_key(city)
    return [counter for counter in _active(session) if key and place_key(counter.city) == key]
