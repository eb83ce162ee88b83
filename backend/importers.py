"""Importing the billing system's CSV exports of subscriptions and bills: every row or none."""

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, TypeVar

import jdatetime
from sqlmodel import Session, col, select

from backend.constants import SubscriptionStatus
from backend.identifiers import (
    CHECKSUM,
    FORMAT,
    NOT_ELECTRICITY,
    InvalidIdentifier,
    normalize_code,
    normalize_mobile,
    normalize_text,
    parse_electricity_bill_id,
    parse_national_id,
    parse_payment_id,
    payment_amount_rials,
    strip_invisible,
    to_ascii_digits,
)
from backend.models import Bill, Customer, Subscription
from backend.settings import local_zone

# Dates in the exports are calendar days where the desk is (TIMEZONE); a payment is put at noon.
PAID_AT_LOCAL_TIME = time(12)

# Jalali years outside this range are typos, or Gregorian dates in a Jalali column (2025/05/01
# is a valid Jalali date, centuries ahead).
MIN_JALALI_YEAR = 1300
MAX_JALALI_YEAR = 1499

INT_MAX = 2**31 - 1  # the readings are INTEGER columns
RIALS_MAX = 10**15  # the amount is BIGINT; far above any real bill
LOOKUP_CHUNK = 500  # values per IN (...) query, well below SQLite's and PostgreSQL's limits

# Column name -> required. Optional columns may be left out of the header or left empty.
SUBSCRIPTION_COLUMNS: Mapping[str, bool] = {
    "bill_id": True,
    "subscription_number": True,
    "full_name": True,
    "national_id": False,
    "mobile": False,
    "address": True,
    "city": True,
    "area": True,
    "feeder": True,
    "tariff": True,
    "status": False,
}
BILL_COLUMNS: Mapping[str, bool] = {
    "bill_id": True,
    "jalali_year": True,
    "period": True,
    "previous_reading_date": True,
    "current_reading_date": True,
    "previous_reading": True,
    "current_reading": True,
    "consumption_kwh": True,
    "amount_rials": True,
    "payment_id": True,
    "due_date": True,
    "paid_date": False,
}

_SUBSCRIPTION_NUMBER = re.compile(r"[0-9]{1,20}", re.ASCII)
# "1-1", "5-2", "2-الف": the tariff table number, then its sub-codes.
_TARIFF = re.compile(r"[0-9]{1,2}(?:-[^\W_]{1,4}){0,2}")
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2212\ufe63\uff0d", "-"))
# Plain digits, or digits grouped by thousands with "," or the Persian separator "٬".
_INTEGER = re.compile(r"[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+", re.ASCII)
# Other than line breaks (kept in addresses); PostgreSQL rejects NUL in text outright.
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
_JALALI_DATE = re.compile(r"([0-9]{4})/([0-9]{1,2})/([0-9]{1,2})", re.ASCII)


@dataclass(frozen=True)
class RowError:
    """One problem in the file; `line` is the physical line number, the header being line 1."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ImportFailed(Exception):
    """The file was rejected and nothing was written; `errors` lists every problem found."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} error(s), nothing imported")
        self.errors = errors


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


# --- Reading the file ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Record:
    line: int
    cells: dict[str, str]


def _decode(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ImportFailed([RowError(line, "not UTF-8 text: save the file as CSV UTF-8")]) from None


def _header_name(cell: str) -> str:
    return strip_invisible(cell).strip().lower()


def _read(path: Path, columns: Mapping[str, bool], errors: list[RowError]) -> list[_Record]:
    """The file's rows keyed by column name; a bad header fails at once, bad rows go to `errors`."""
    reader = csv.reader(io.StringIO(_decode(path), newline=""))
    try:
        header = [_header_name(cell) for cell in next(reader)]
    except StopIteration:
        raise ImportFailed([RowError(1, "the file is empty: a header row is required")]) from None
    except csv.Error as exc:
        raise ImportFailed([RowError(1, f"unreadable header: {exc}")]) from None

    header_errors = [
        RowError(1, f"column {number} has no name")
        if not name
        else RowError(1, f"unknown column {name!r}")
        for number, name in enumerate(header, start=1)
        if name not in columns
    ]
    header_errors += [
        RowError(1, f"column {name!r} appears more than once")
        for name in sorted({name for name in header if header.count(name) > 1})
    ]
    header_errors += [
        RowError(1, f"missing column {name!r}")
        for name, required in columns.items()
        if required and name not in header
    ]
    if header_errors:
        raise ImportFailed(header_errors)

    records: list[_Record] = []
    while True:
        line = reader.line_num + 1  # where the next record starts (a quoted cell may span lines)
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(RowError(line, f"unreadable row: {exc}"))
            break  # the csv module cannot resynchronise after a broken quote
        if not any(cell.strip() for cell in cells):
            continue  # blank lines, including trailing ones
        if len(cells) != len(header):
            errors.append(RowError(line, f"{len(cells)} fields, the header has {len(header)}"))
            continue
        records.append(_Record(line, dict(zip(header, cells, strict=True))))
    return records


class _Cells:
    """One row's cells, read column by column; every problem is recorded, none is raised."""

    def __init__(self, record: _Record, errors: list[RowError]) -> None:
        self.line = record.line
        self._cells = record.cells
        self._errors = errors
        self.bad = False

    def fail(self, message: str) -> None:
        self._errors.append(RowError(self.line, message))
        self.bad = True

    def raw(self, column: str) -> str:
        return self._cells.get(column, "").strip()

    def _present(self, column: str, required: bool) -> str | None:
        value = self.raw(column)
        if not value and required:
            self.fail(f"{column} is empty")
        return value or None

    def text(self, column: str, *, max_length: int, required: bool = True) -> str | None:
        value = self._present(column, required)
        if value is None:
            return None
        value = normalize_text(value)
        if _CONTROL.search(value):
            self.fail(f"{column} contains control characters")
            return None
        if len(value) > max_length:
            self.fail(f"{column} is too long ({len(value)} characters, at most {max_length})")
            return None
        return value

    def integer(self, column: str, *, minimum: int = 0, maximum: int = INT_MAX) -> int | None:
        value = self._present(column, True)
        if value is None:
            return None
        digits = to_ascii_digits(strip_invisible(value)).replace("٬", ",")
        if not _INTEGER.fullmatch(digits):
            self.fail(f"{column} {value}: not a whole number")
            return None
        number = int(digits.replace(",", ""))
        if not minimum <= number <= maximum:
            self.fail(f"{column} {value}: must be between {minimum} and {maximum}")
            return None
        return number

    def jalali_date(self, column: str, *, required: bool = True) -> date | None:
        value = self._present(column, required)
        if value is None:
            return None
        match = _JALALI_DATE.fullmatch(to_ascii_digits(strip_invisible(value)))
        if match is None:
            self.fail(f"{column} {value}: not a Jalali date YYYY/MM/DD")
            return None
        year, month, day = (int(part) for part in match.groups())
        if not MIN_JALALI_YEAR <= year <= MAX_JALALI_YEAR:
            self.fail(f"{column} {value}: year out of range (dates are Jalali, YYYY/MM/DD)")
            return None
        try:
            gregorian: date = jdatetime.date(year, month, day).togregorian()  # jdatetime is untyped
            return gregorian
        except ValueError:
            self.fail(f"{column} {value}: no such Jalali date")
            return None

    def identifier(
        self, column: str, parse: Callable[[str], str], *, required: bool = True
    ) -> str | None:
        value = self._present(column, required)
        if value is None:
            return None
        try:
            return parse(value)
        except InvalidIdentifier as exc:
            self.fail(f"{column} {value}: {_explain(exc)}")
            return None


def _explain(exc: InvalidIdentifier) -> str:
    if exc.reason == CHECKSUM:
        return "wrong check digit"
    if exc.reason == NOT_ELECTRICITY:
        return "not an electricity bill ID (its service-type digit is not 2)"
    return str(exc)


T = TypeVar("T")


def _chunks(values: Iterable[T]) -> Iterator[list[T]]:
    batch: list[T] = []
    for value in values:
        batch.append(value)
        if len(batch) == LOOKUP_CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _fetch(
    session: Session, model: type[T], column: Any, values: Iterable[Any], *conditions: Any
) -> list[T]:
    """Rows of `model` whose `column` is one of `values` (and meeting `conditions`), in chunks."""
    rows: list[T] = []
    for batch in _chunks(sorted(set(values))):
        rows += session.exec(select(model).where(col(column).in_(batch), *conditions)).all()
    return rows


def _fail_if_any(errors: list[RowError]) -> None:
    if errors:
        raise ImportFailed(sorted(errors, key=lambda error: error.line))


# --- Subscriptions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _SubscriptionRow:
    line: int
    bill_id: str
    subscription_number: str
    full_name: str
    national_id: str | None
    mobile: str | None
    address: str
    city: str
    area: str
    feeder: str
    tariff: str
    status: SubscriptionStatus | None


def _subscription_number(text: str) -> str:
    number = normalize_code(text)
    if not _SUBSCRIPTION_NUMBER.fullmatch(number):
        raise InvalidIdentifier(FORMAT, "a subscription number is 1 to 20 digits")
    return number


def _tariff(cells: _Cells) -> str | None:
    value = cells.raw("tariff")
    if not value:
        cells.fail("tariff is empty")
        return None
    tariff = to_ascii_digits(strip_invisible(normalize_text(value))).translate(_DASHES)
    tariff = tariff.replace(" ", "")
    if not _TARIFF.fullmatch(tariff):
        cells.fail(f"tariff {value}: not a tariff code like 1-1")
        return None
    return tariff


def _status(cells: _Cells) -> SubscriptionStatus | None:
    value = cells.raw("status").lower()
    if not value:
        return None
    try:
        return SubscriptionStatus(value)
    except ValueError:
        allowed = "|".join(SubscriptionStatus)
        cells.fail(f"status {cells.raw('status')}: must be one of {allowed}")
        return None


def _parse_subscription(cells: _Cells) -> _SubscriptionRow | None:
    values: dict[str, Any] = {
        "bill_id": cells.identifier("bill_id", parse_electricity_bill_id),
        "subscription_number": cells.identifier("subscription_number", _subscription_number),
        "full_name": cells.text("full_name", max_length=200),
        "national_id": cells.identifier("national_id", parse_national_id, required=False),
        "mobile": cells.identifier("mobile", normalize_mobile, required=False),
        "address": cells.text("address", max_length=500),
        "city": cells.text("city", max_length=100),
        "area": cells.text("area", max_length=100),
        # Feeders are matched against outage reports: ASCII digits make "F-۱۲" equal "F-12".
        "feeder": cells.text("feeder", max_length=50),
        "tariff": _tariff(cells),
        "status": _status(cells),
    }
    if cells.bad:
        return None
    values["feeder"] = to_ascii_digits(values["feeder"])
    return _SubscriptionRow(line=cells.line, **values)


def _check_subscriptions_against(
    session: Session, rows: list[_SubscriptionRow], errors: list[RowError]
) -> None:
    """Subscription numbers are unique: one may not move to another bill ID."""
    owners = _fetch(
        session,
        Subscription,
        Subscription.subscription_number,
        (row.subscription_number for row in rows),
    )
    owner_of = {subscription.subscription_number: subscription.bill_id for subscription in owners}
    for row in rows:
        owner = owner_of.get(row.subscription_number, row.bill_id)
        if owner != row.bill_id:
            errors.append(
                RowError(
                    row.line,
                    f"subscription_number {row.subscription_number} already belongs to "
                    f"bill_id {owner}",
                )
            )


def _check_duplicates(
    keyed_rows: Iterable[tuple[Any, int]], describe: Callable[[Any], str], errors: list[RowError]
) -> None:
    first_line: dict[Any, int] = {}
    for key, line in keyed_rows:
        if key in first_line:
            errors.append(RowError(line, f"{describe(key)} repeats line {first_line[key]}"))
        else:
            first_line[key] = line


def import_subscriptions(session: Session, path: Path | str) -> ImportResult:
    """Create or update subscriptions (by bill_id) and their customers from a CSV export.

    Validates every row first and raises ImportFailed listing every problem, writing nothing.
    Otherwise writes all rows and flushes; the caller commits (or rolls back) the transaction.
    A customer is found by national_id when the row has one; a new subscription without one
    gets a new customer. Later rows win when rows of one customer disagree on name or mobile.
    """
    errors: list[RowError] = []
    rows = [
        row
        for record in _read(Path(path), SUBSCRIPTION_COLUMNS, errors)
        if (row := _parse_subscription(_Cells(record, errors))) is not None
    ]
    _check_duplicates(((row.bill_id, row.line) for row in rows), "bill_id {}".format, errors)
    _check_duplicates(
        ((row.subscription_number, row.line) for row in rows),
        "subscription_number {}".format,
        errors,
    )
    _check_subscriptions_against(session, rows, errors)
    _fail_if_any(errors)

    subscriptions = {
        subscription.bill_id: subscription
        for subscription in _fetch(
            session, Subscription, Subscription.bill_id, (row.bill_id for row in rows)
        )
    }
    customers_by_id = {
        customer.id: customer
        for customer in _fetch(
            session, Customer, Customer.id, (s.customer_id for s in subscriptions.values())
        )
    }
    customers_by_national_id = {
        customer.national_id: customer
        for customer in _fetch(
            session,
            Customer,
            Customer.national_id,
            (row.national_id for row in rows if row.national_id),
        )
    }

    # Customers first, flushed once, so that new ones have the ids the subscriptions point at.
    customer_of_row: list[Customer] = []
    for row in rows:
        existing = subscriptions.get(row.bill_id)
        current = customers_by_id[existing.customer_id] if existing else None
        customer: Customer | None
        if row.national_id:
            customer = customers_by_national_id.get(row.national_id)
            if customer is None and current is not None and current.national_id is None:
                # Same person, now identified: keep the customer (and any linked chat users).
                customer = current
                customer.national_id = row.national_id
            customer = customer or Customer(full_name=row.full_name, national_id=row.national_id)
            customers_by_national_id[row.national_id] = customer
        else:
            customer = current or Customer(full_name=row.full_name)
        customer.full_name = row.full_name
        if row.mobile:
            customer.mobile = row.mobile
        session.add(customer)
        customer_of_row.append(customer)
    session.flush()

    created = updated = 0
    for row, customer in zip(rows, customer_of_row, strict=True):
        assert customer.id is not None  # flushed above
        subscription = subscriptions.get(row.bill_id)
        if subscription is None:
            subscription = Subscription(
                bill_id=row.bill_id,
                subscription_number=row.subscription_number,
                customer_id=customer.id,
                address=row.address,
                city=row.city,
                area=row.area,
                feeder=row.feeder,
                tariff=row.tariff,
                status=SubscriptionStatus.ACTIVE if row.status is None else row.status,
            )
            subscriptions[row.bill_id] = subscription
            created += 1
        else:
            updated += 1
            subscription.subscription_number = row.subscription_number
            subscription.customer_id = customer.id
            subscription.address = row.address
            subscription.city = row.city
            subscription.area = row.area
            subscription.feeder = row.feeder
            subscription.tariff = row.tariff
            if row.status is not None:  # an empty status leaves the known one
                subscription.status = row.status
        session.add(subscription)
    session.flush()
    return ImportResult(created=created, updated=updated)


# --- Bills -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _BillRow:
    line: int
    bill_id: str
    jalali_year: int
    period: int
    previous_reading_date: date
    current_reading_date: date
    previous_reading: int
    current_reading: int
    consumption_kwh: int
    amount_rials: int
    payment_id: str
    due_date: date
    paid_at: datetime | None


def _paid_at(day: date | None) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(day, PAID_AT_LOCAL_TIME, tzinfo=local_zone()).astimezone(UTC)


def _parse_bill(cells: _Cells) -> _BillRow | None:
    values: dict[str, Any] = {
        "bill_id": cells.identifier("bill_id", parse_electricity_bill_id),
        "jalali_year": cells.integer(
            "jalali_year", minimum=MIN_JALALI_YEAR, maximum=MAX_JALALI_YEAR
        ),
        "period": cells.integer("period", minimum=1, maximum=12),
        "previous_reading_date": cells.jalali_date("previous_reading_date"),
        "current_reading_date": cells.jalali_date("current_reading_date"),
        "previous_reading": cells.integer("previous_reading"),
        "current_reading": cells.integer("current_reading"),
        "consumption_kwh": cells.integer("consumption_kwh"),
        "amount_rials": cells.integer("amount_rials", maximum=RIALS_MAX),
        "due_date": cells.jalali_date("due_date"),
        "paid_at": _paid_at(cells.jalali_date("paid_date", required=False)),
    }
    bill_id = values["bill_id"]
    payment_id = None
    if bill_id is not None:
        payment_id = cells.identifier("payment_id", lambda text: parse_payment_id(text, bill_id))
    elif not cells.raw("payment_id"):
        cells.fail("payment_id is empty")
    if cells.bad:
        return None
    assert payment_id is not None  # a missing or invalid one failed the row
    row = _BillRow(line=cells.line, payment_id=payment_id, **values)
    _check_bill(row, cells)
    return None if cells.bad else row


def _check_bill(row: _BillRow, cells: _Cells) -> None:
    """Rules across columns, on a row whose cells are each valid."""
    if row.current_reading_date <= row.previous_reading_date:
        cells.fail(
            f"current_reading_date {cells.raw('current_reading_date')}: not after "
            f"previous_reading_date {cells.raw('previous_reading_date')}"
        )
    if row.current_reading < row.previous_reading:
        cells.fail(
            f"current_reading {row.current_reading}: less than previous_reading "
            f"{row.previous_reading}"
        )
    elif row.consumption_kwh != row.current_reading - row.previous_reading:
        cells.fail(
            f"consumption_kwh {row.consumption_kwh}: current_reading - previous_reading "
            f"is {row.current_reading - row.previous_reading}"
        )
    if row.amount_rials % 1000:
        cells.fail(f"amount_rials {row.amount_rials}: not a multiple of 1000 rials")
    encoded = payment_amount_rials(row.payment_id)
    if encoded != row.amount_rials:
        cells.fail(
            f"payment_id {row.payment_id}: its amount is {encoded} rials, "
            f"amount_rials is {row.amount_rials}"
        )
    # The payment ID also encodes the year's last digit and the period, just before C1 and C2.
    year_digit, period = int(row.payment_id[-5]), int(row.payment_id[-4:-2])
    if (year_digit, period) != (row.jalali_year % 10, row.period):
        cells.fail(
            f"payment_id {row.payment_id}: it is for year digit {year_digit} and period "
            f"{period}, the row is for {row.jalali_year} period {row.period}"
        )


def import_bills(session: Session, path: Path | str) -> ImportResult:
    """Create or update bills from a CSV export; the subscriptions must already be in the database.

    Validates every row first and raises ImportFailed listing every problem, writing nothing.
    Otherwise writes all rows and flushes; the caller commits (or rolls back) the transaction.
    A row updates the original bill (not a correction) of its subscription, year and period, if
    there is one; every column is replaced, an empty paid_date included.
    """
    errors: list[RowError] = []
    rows = [
        row
        for record in _read(Path(path), BILL_COLUMNS, errors)
        if (row := _parse_bill(_Cells(record, errors))) is not None
    ]
    _check_duplicates(
        (((row.bill_id, row.jalali_year, row.period), row.line) for row in rows),
        lambda key: f"bill_id {key[0]} year {key[1]} period {key[2]}",
        errors,
    )
    subscription_ids: dict[str, int] = {}
    for subscription in _fetch(
        session, Subscription, Subscription.bill_id, (row.bill_id for row in rows)
    ):
        assert subscription.id is not None  # a stored row
        subscription_ids[subscription.bill_id] = subscription.id
    errors += [
        RowError(row.line, f"bill_id {row.bill_id}: no such subscription (import it first)")
        for row in rows
        if row.bill_id not in subscription_ids
    ]
    _fail_if_any(errors)

    originals = {
        (bill.subscription_id, bill.jalali_year, bill.period): bill
        for bill in _fetch(
            session,
            Bill,
            Bill.subscription_id,
            subscription_ids.values(),
            col(Bill.corrects_bill_id).is_(None),
            col(Bill.jalali_year).in_({row.jalali_year for row in rows}),
        )
    }
    created = updated = 0
    for row in rows:
        subscription_id = subscription_ids[row.bill_id]
        key = (subscription_id, row.jalali_year, row.period)
        bill = originals.get(key)
        if bill is None:
            bill = Bill(
                subscription_id=subscription_id,
                jalali_year=row.jalali_year,
                period=row.period,
                previous_reading_date=row.previous_reading_date,
                current_reading_date=row.current_reading_date,
                previous_reading=row.previous_reading,
                current_reading=row.current_reading,
                consumption_kwh=row.consumption_kwh,
                amount_rials=row.amount_rials,
                payment_id=row.payment_id,
                due_date=row.due_date,
                paid_at=row.paid_at,
            )
            originals[key] = bill
            created += 1
        else:
            updated += 1
            bill.previous_reading_date = row.previous_reading_date
            bill.current_reading_date = row.current_reading_date
            bill.previous_reading = row.previous_reading
            bill.current_reading = row.current_reading
            bill.consumption_kwh = row.consumption_kwh
            bill.amount_rials = row.amount_rials
            bill.payment_id = row.payment_id
            bill.due_date = row.due_date
            bill.paid_at = row.paid_at
        session.add(bill)
    session.flush()
    return ImportResult(created=created, updated=updated)
