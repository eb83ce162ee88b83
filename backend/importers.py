"""Importing the billing system's CSV exports of subscriptions and bills: every row or none.

A file is read twice, row by row, and never held: the first pass checks every row (against the
earlier rows through compact sets of keys, against the database in batches) and keeps the first
MAX_ERRORS errors; only if there are none, the second pass writes the rows in batches of Core
statements or COPY (no ORM objects) in the caller's transaction. What memory grows with is the
duplicate checks: some 120 bytes a subscription (two sets of ints), a bit per bill (bitmaps).
"""

import csv
import io
import os
import re
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO, Protocol, TypeVar

import jdatetime
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
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
from backend.models import Bill, Customer, Subscription, utcnow
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
BATCH_SIZE = 5000  # rows checked against, then written to, the database at a time
MAX_ERRORS = 1000  # errors kept and listed, the first by line; any more are only counted

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
    """The file was rejected and nothing was written.

    `errors` lists the problems found, sorted by line: all of them, or the first ones of a file
    with more than the importer keeps (MAX_ERRORS); `error_count` is how many there are in all.
    """

    def __init__(self, errors: list[RowError], error_count: int | None = None) -> None:
        self.errors = errors
        self.error_count = len(errors) if error_count is None else error_count
        super().__init__(f"{self.error_count} error(s), nothing imported")


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


# --- Errors ----------------------------------------------------------------------------------


class _ErrorSink(Protocol):
    def append(self, error: RowError, /) -> None: ...


def _by_line(error: RowError) -> int:
    return error.line


class _Errors:
    """A file's errors: every one counted, the first `limit` by line kept.

    Errors may come out of line order (a batch is checked against the database after its rows
    were read); a sort is stable, so a line's errors stay in the order they were found.
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("at least one error must be kept")
        self.limit = limit
        self.count = 0
        self._errors: list[RowError] = []

    def append(self, error: RowError, /) -> None:
        self.count += 1
        self._errors.append(error)
        if len(self._errors) >= 2 * self.limit + 1000:
            self._trim()

    def _trim(self) -> None:
        self._errors.sort(key=_by_line)
        del self._errors[self.limit :]

    def kept(self) -> list[RowError]:
        self._trim()
        return self._errors

    def fail_if_any(self) -> None:
        if self.count:
            raise ImportFailed(self.kept(), self.count)


class _Discard:
    """Where the errors of a pass that has already reported them go."""

    def append(self, error: RowError, /) -> None:
        pass


@dataclass(frozen=True)
class _Repeat(RowError):
    """`message` repeats an earlier row's key, whose line the file is read again to find."""

    key: Hashable


def _resolve_repeats(errors: _Errors, keys: Callable[[], Iterator[tuple[int, Hashable]]]) -> None:
    """Completes the kept _Repeat errors with the line of the first row with their key.

    `keys` reads the file again, giving (line, key) for every valid row. Only a file with
    repeats is read a third time; no line number is kept for the rows that do not repeat.
    """
    kept = errors.kept()
    wanted = {error.key for error in kept if isinstance(error, _Repeat)}
    first: dict[Hashable, int] = {}
    if wanted:
        for line, key in keys():
            if key in wanted and key not in first:
                first[key] = line
                if len(first) == len(wanted):
                    break

    def resolved(error: RowError) -> RowError:
        if not isinstance(error, _Repeat):
            return error
        where = f"line {first[error.key]}" if error.key in first else "an earlier line"
        return RowError(error.line, f"{error.message} repeats {where}")

    kept[:] = [resolved(error) for error in kept]


# --- Reading the file ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Record:
    line: int
    cells: dict[str, str]


class _Undecodable(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


def _not_utf8(line: int) -> RowError:
    return RowError(line, "not UTF-8 text: save the file as CSV UTF-8")


def _lines(file: BinaryIO) -> Iterator[str]:
    """The file's lines as text, decoded one at a time, so a bad byte is reported on its line.

    Lines end at "\\n" (never part of a multi-byte UTF-8 character), "\\r\\n" or a lone "\\r",
    as the csv module expects them.
    """
    for number, data in enumerate(file, start=1):
        try:
            text = data.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            raise _Undecodable(number) from None
        if not text:
            continue  # a byte-order mark alone
        if "\r" in text and text.find("\r") != len(text) - 2:
            yield from io.StringIO(text, newline="")  # lines that end with a lone "\r"
        else:
            yield text


def _header_name(cell: str) -> str:
    return strip_invisible(cell).strip().lower()


def _check_header(header: list[str], columns: Mapping[str, bool]) -> None:
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


def _records(path: Path, columns: Mapping[str, bool], errors: _ErrorSink) -> Iterator[_Record]:
    """The file's rows keyed by column name, one at a time; a bad header fails at once (raises
    ImportFailed), a bad row goes to `errors`. A broken quote or a byte that is not UTF-8 ends
    the file: nothing after it can be read reliably."""
    with path.open("rb") as file:
        reader = csv.reader(_lines(file))
        try:
            header = [_header_name(cell) for cell in next(reader)]
        except StopIteration:
            empty = RowError(1, "the file is empty: a header row is required")
            raise ImportFailed([empty]) from None
        except csv.Error as exc:
            raise ImportFailed([RowError(1, f"unreadable header: {exc}")]) from None
        except _Undecodable as exc:
            raise ImportFailed([_not_utf8(exc.line)]) from None
        _check_header(header, columns)

        while True:
            # Where the next record starts (a quoted cell may span lines).
            line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                errors.append(RowError(line, f"unreadable row: {exc}"))
                return  # the csv module cannot resynchronise after a broken quote
            except _Undecodable as exc:
                errors.append(_not_utf8(exc.line))
                return
            if not any(cell.strip() for cell in cells):
                continue  # blank lines, including trailing ones
            if len(cells) != len(header):
                errors.append(RowError(line, f"{len(cells)} fields, the header has {len(header)}"))
                continue
            yield _Record(line, dict(zip(header, cells, strict=True)))


def _read(path: Path, columns: Mapping[str, bool], errors: list[RowError]) -> list[_Record]:
    """Every row of a small file at once (the holidays); see _records."""
    return list(_records(path, columns, errors))


R = TypeVar("R")


def _valid_rows(
    path: Path,
    columns: Mapping[str, bool],
    parse: Callable[["_Cells"], R | None],
    errors: _ErrorSink,
) -> Iterator[R]:
    """The rows that parse, one at a time; the problems of the others go to `errors`."""
    for record in _records(path, columns, errors):
        row = parse(_Cells(record, errors))
        if row is not None:
            yield row


_Stamp = tuple[int, int]


def _stamp(path: Path) -> _Stamp:
    status = os.stat(path)
    return status.st_size, status.st_mtime_ns


def _changed() -> ImportFailed:
    return ImportFailed(
        [RowError(1, "the file changed while it was being imported: import it again")]
    )


class _Unchanged:
    """The error sink of the writing pass: the file was checked, so a bad row means that it
    changed in between."""

    def append(self, error: RowError, /) -> None:
        raise _changed()


class _Cells:
    """One row's cells, read column by column; every problem is recorded, none is raised."""

    def __init__(self, record: _Record, errors: _ErrorSink) -> None:
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

    def text(
        self, column: str, *, max_length: int, required: bool = True, repeats: bool = False
    ) -> str | None:
        """`repeats`: the column has few distinct values (cities, feeders), worth remembering."""
        value = self._present(column, required)
        if value is None:
            return None
        value = _normalize_repeated(value) if repeats else normalize_text(value)
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
        if value.isascii() and value.isdigit():  # the usual case, quickly
            number = int(value)
        else:
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
        day = _jalali_date(value)
        if isinstance(day, str):
            self.fail(f"{column} {value}: {day}")
            return None
        return day

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


# An export has a few hundred distinct days, cities or feeders: each is worked out once.
_normalize_repeated = lru_cache(maxsize=16384)(normalize_text)


@lru_cache(maxsize=16384)
def _jalali_date(value: str) -> date | str:
    """The Gregorian day of a Jalali YYYY/MM/DD, or what is wrong with it."""
    match = _JALALI_DATE.fullmatch(to_ascii_digits(strip_invisible(value)))
    if match is None:
        return "not a Jalali date YYYY/MM/DD"
    year, month, day = (int(part) for part in match.groups())
    if not MIN_JALALI_YEAR <= year <= MAX_JALALI_YEAR:
        return "year out of range (dates are Jalali, YYYY/MM/DD)"
    try:
        gregorian: date = jdatetime.date(year, month, day).togregorian()  # jdatetime is untyped
        return gregorian
    except ValueError:
        return "no such Jalali date"


def _remembering(parse: Callable[[str], str]) -> Callable[[str], str]:
    """`parse` (raising InvalidIdentifier), remembering its recent answers: for a column whose
    values repeat on consecutive rows, such as the bill ID of a subscription's bills."""

    @lru_cache(maxsize=4096)
    def answer(text: str) -> tuple[str, str | None]:
        try:
            return parse(text), None
        except InvalidIdentifier as exc:
            return exc.reason, str(exc)

    def remembered(text: str) -> str:
        value, message = answer(text)
        if message is not None:
            raise InvalidIdentifier(value, message)
        return value

    return remembered


_parse_repeated_bill_id = _remembering(parse_electricity_bill_id)


def _explain(exc: InvalidIdentifier) -> str:
    if exc.reason == CHECKSUM:
        return "wrong check digit"
    if exc.reason == NOT_ELECTRICITY:
        return "not an electricity bill ID (its service-type digit is not 2)"
    return str(exc)


T = TypeVar("T")


def _chunks(values: Iterable[T], size: int = LOOKUP_CHUNK) -> Iterator[list[T]]:
    batch: list[T] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
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


def _check_duplicates(
    keyed_rows: Iterable[tuple[Any, int]], describe: Callable[[Any], str], errors: list[RowError]
) -> None:
    """For a small file held in memory (the holidays); the big imports use sets of keys."""
    first_line: dict[Any, int] = {}
    for key, line in keyed_rows:
        if key in first_line:
            errors.append(RowError(line, f"{describe(key)} repeats line {first_line[key]}"))
        else:
            first_line[key] = line


# --- Database access in batches, with Core statements ----------------------------------------

CUSTOMER: sa.Table = Customer.__table__  # type: ignore[attr-defined]
SUBSCRIPTION: sa.Table = Subscription.__table__  # type: ignore[attr-defined]
BILL: sa.Table = Bill.__table__  # type: ignore[attr-defined]


class _Database:
    """An import's statements, on the session's connection and so in its transaction.

    On PostgreSQL (psycopg) rows are inserted with COPY and a lookup sends its values as one
    array; elsewhere (SQLite) with executemany and IN (...) in chunks of LOOKUP_CHUNK.
    """

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection
        dialect = connection.dialect
        self.postgresql = dialect.name == "postgresql" and dialect.driver == "psycopg"

    def select(
        self,
        columns: Sequence[sa.ColumnElement[Any]],
        key: sa.ColumnElement[Any],
        values: Iterable[Any],
        *conditions: sa.ColumnElement[bool],
    ) -> list[sa.Row[Any]]:
        """`columns` of the rows whose `key` is one of `values` (and meeting `conditions`)."""
        distinct = sorted(set(values))
        if not distinct:
            return []
        if self.postgresql:
            array = sa.cast(sa.bindparam("values", distinct), postgresql.ARRAY(key.type))
            statement = sa.select(*columns).where(key == sa.any_(array), *conditions)
            return list(self.connection.execute(statement).all())
        rows: list[sa.Row[Any]] = []
        for chunk in _chunks(distinct):
            statement = sa.select(*columns).where(key.in_(chunk), *conditions)
            rows += self.connection.execute(statement).all()
        return rows

    def insert(self, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        """INSERTs rows that all have the same keys, the columns."""
        if not rows:
            return
        if not self.postgresql:
            self.connection.execute(table.insert(), rows)
            return
        names = list(rows[0])
        quote = self.connection.dialect.identifier_preparer.quote
        copy_sql = f"COPY {quote(table.name)} ({', '.join(map(quote, names))}) FROM STDIN"
        driver: Any = self.connection.connection.driver_connection  # a psycopg.Connection
        with driver.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row([row[name] for name in names])

    def insert_returning_ids(self, table: sa.Table, rows: list[dict[str, Any]]) -> list[int]:
        """INSERTs rows and returns their new ids, in the rows' order."""
        if not rows:
            return []
        if not self.postgresql:
            returning = table.insert().returning(table.c.id, sort_by_parameter_order=True)
            return list(self.connection.execute(returning, rows).scalars())
        # The ids first, from the column's sequence, so that the rows can be COPYed.
        sequence = sa.func.pg_get_serial_sequence(table.name, "id")
        series = sa.func.generate_series(1, len(rows)).table_valued("n")
        statement = sa.select(sa.func.nextval(sequence)).select_from(series)
        ids = [int(new_id) for new_id in self.connection.execute(statement).scalars()]
        self.insert(table, [{"id": new_id} | row for new_id, row in zip(ids, rows, strict=True)])
        return ids

    def update_by_id(self, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        """UPDATE table SET (the dicts' other keys) WHERE id = row["target_id"]; the dicts all
        have the same keys. One executemany (pipelined by psycopg)."""
        if rows:
            statement = table.update().where(table.c.id == sa.bindparam("target_id"))
            self.connection.execute(statement, rows)


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
    tariff = _tariff_code(value)
    if tariff is None:
        cells.fail(f"tariff {value}: not a tariff code like 1-1")
    return tariff


@lru_cache(maxsize=1024)
def _tariff_code(value: str) -> str | None:
    tariff = to_ascii_digits(strip_invisible(normalize_text(value))).translate(_DASHES)
    tariff = tariff.replace(" ", "")
    return tariff if _TARIFF.fullmatch(tariff) else None


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
        "full_name": cells.text("full_name", max_length=200, repeats=True),
        "national_id": cells.identifier("national_id", parse_national_id, required=False),
        "mobile": cells.identifier("mobile", normalize_mobile, required=False),
        "address": cells.text("address", max_length=500),
        "city": cells.text("city", max_length=100, repeats=True),
        "area": cells.text("area", max_length=100, repeats=True),
        # Feeders are matched against outage reports: ASCII digits make "F-۱۲" equal "F-12".
        "feeder": cells.text("feeder", max_length=50, repeats=True),
        "tariff": _tariff(cells),
        "status": _status(cells),
    }
    if cells.bad:
        return None
    values["feeder"] = to_ascii_digits(values["feeder"])
    return _SubscriptionRow(line=cells.line, **values)


def _number_key(subscription_number: str) -> int:
    """A subscription number as a compact set member; the leading 1 keeps its leading zeros."""
    return int("1" + subscription_number)


def _check_subscriptions_against(
    db: _Database, rows: list[_SubscriptionRow], errors: _ErrorSink
) -> None:
    """Subscription numbers are unique: one may not move to another bill ID."""
    table = SUBSCRIPTION
    owner_of: dict[str, str] = {
        found.subscription_number: found.bill_id
        for found in db.select(
            [table.c.subscription_number, table.c.bill_id],
            table.c.subscription_number,
            (row.subscription_number for row in rows),
        )
    }
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


def _subscription_keys(path: Path) -> Iterator[tuple[int, Hashable]]:
    for row in _valid_rows(path, SUBSCRIPTION_COLUMNS, _parse_subscription, _Discard()):
        yield row.line, ("bill_id", int(row.bill_id))
        yield row.line, ("subscription_number", _number_key(row.subscription_number))


def _check_subscriptions(db: _Database, path: Path, batch_size: int, max_errors: int) -> int:
    """The first pass: raises ImportFailed if any row is wrong, else returns how many rows."""
    errors = _Errors(max_errors)
    bill_ids: set[int] = set()
    numbers: set[int] = set()
    count = 0
    rows = _valid_rows(path, SUBSCRIPTION_COLUMNS, _parse_subscription, errors)
    for batch in _chunks(rows, batch_size):
        count += len(batch)
        for row in batch:
            key = int(row.bill_id)  # canonical: no leading zeros
            if key in bill_ids:
                errors.append(_Repeat(row.line, f"bill_id {row.bill_id}", ("bill_id", key)))
            bill_ids.add(key)
            key = _number_key(row.subscription_number)
            if key in numbers:
                message = f"subscription_number {row.subscription_number}"
                errors.append(_Repeat(row.line, message, ("subscription_number", key)))
            numbers.add(key)
        _check_subscriptions_against(db, batch, errors)
    del bill_ids, numbers
    _resolve_repeats(errors, lambda: _subscription_keys(path))
    errors.fail_if_any()
    return count


class _Customer:
    """A customer as the import sees it: loaded from the database (id set) or to be created."""

    __slots__ = ("full_name", "id", "loaded", "mobile", "national_id")

    def __init__(
        self, id: int | None, full_name: str, national_id: str | None, mobile: str | None
    ) -> None:
        self.id = id
        self.full_name = full_name
        self.national_id = national_id
        self.mobile = mobile
        self.loaded = self.values() if id is not None else None

    def values(self) -> tuple[str, str | None, str | None]:
        return self.full_name, self.national_id, self.mobile

    def columns(self) -> dict[str, Any]:
        return {"full_name": self.full_name, "national_id": self.national_id, "mobile": self.mobile}


_SUBSCRIPTION_VALUES = ("subscription_number", "address", "city", "area", "feeder", "tariff")


def _write_subscriptions(db: _Database, rows: list[_SubscriptionRow], now: datetime) -> int:
    """Creates or updates one batch of checked rows (and their customers); returns how many of
    them were created. The earlier batches are in the database already, so every lookup sees
    the customers they made."""
    table = SUBSCRIPTION
    existing = {
        row.bill_id: row
        for row in db.select(
            [table.c.bill_id, table.c.id, table.c.customer_id, table.c.status]
            + [table.c[name] for name in _SUBSCRIPTION_VALUES],
            table.c.bill_id,
            (row.bill_id for row in rows),
        )
    }
    customers: dict[int, _Customer] = {}
    by_national_id: dict[str, _Customer] = {}
    c = CUSTOMER.c
    for found in db.select(
        [c.id, c.full_name, c.national_id, c.mobile],
        c.id,
        (subscription.customer_id for subscription in existing.values()),
    ) + db.select(
        [c.id, c.full_name, c.national_id, c.mobile],
        c.national_id,
        (row.national_id for row in rows if row.national_id),
    ):
        loaded = _Customer(found.id, found.full_name, found.national_id, found.mobile)
        loaded = customers.setdefault(found.id, loaded)
        if loaded.national_id:
            by_national_id[loaded.national_id] = loaded

    new_customers: list[_Customer] = []
    customer_of_row: list[_Customer] = []
    for row in rows:
        subscription = existing.get(row.bill_id)
        current = customers[subscription.customer_id] if subscription else None
        customer: _Customer | None
        if row.national_id:
            customer = by_national_id.get(row.national_id)
            if customer is None and current is not None and current.national_id is None:
                # Same person, now identified: keep the customer (and any linked chat users).
                customer = current
                customer.national_id = row.national_id
            if customer is None:
                customer = _Customer(None, row.full_name, row.national_id, None)
                new_customers.append(customer)
            by_national_id[row.national_id] = customer
        elif current is not None:
            customer = current
        else:
            customer = _Customer(None, row.full_name, None, None)
            new_customers.append(customer)
        customer.full_name = row.full_name
        if row.mobile:
            customer.mobile = row.mobile
        customer_of_row.append(customer)

    if new_customers:
        ids = db.insert_returning_ids(
            CUSTOMER, [customer.columns() | {"created_at": now} for customer in new_customers]
        )
        for customer, customer_id in zip(new_customers, ids, strict=True):
            customer.id = customer_id
    db.update_by_id(
        CUSTOMER,
        [
            customer.columns() | {"target_id": customer.id}
            for customer in customers.values()
            if customer.values() != customer.loaded
        ],
    )

    created: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for row, customer in zip(rows, customer_of_row, strict=True):
        values = {name: getattr(row, name) for name in _SUBSCRIPTION_VALUES}
        values["customer_id"] = customer.id
        subscription = existing.get(row.bill_id)
        if subscription is None:
            status = SubscriptionStatus.ACTIVE if row.status is None else row.status
            created.append(values | {"bill_id": row.bill_id, "status": status, "created_at": now})
            continue
        # An empty status leaves the known one.
        values["status"] = subscription.status if row.status is None else row.status
        if any(getattr(subscription, name) != value for name, value in values.items()):
            changed.append(values | {"target_id": subscription.id})
    db.insert(table, created)
    db.update_by_id(table, changed)
    return len(created)


def import_subscriptions(
    session: Session,
    path: Path | str,
    *,
    batch_size: int = BATCH_SIZE,
    max_errors: int = MAX_ERRORS,
) -> ImportResult:
    """Create or update subscriptions (by bill_id) and their customers from a CSV export.

    Checks every row first and raises ImportFailed listing the problems (the first
    `max_errors`, and how many in all), writing nothing. Otherwise writes every row, in batches
    of `batch_size`, in the session's transaction; the caller commits (or rolls back). A file
    that changes while it is written raises ImportFailed too: roll back then, as on any error.
    A customer is found by national_id when the row has one; a new subscription without one
    gets a new customer. Later rows win when rows of one customer disagree on name or mobile.
    Objects the session had loaded are expired: they reload what the import wrote.
    """
    return _import(
        session,
        Path(path),
        check=_check_subscriptions,
        columns=SUBSCRIPTION_COLUMNS,
        parse=_parse_subscription,
        write=_write_subscriptions,
        batch_size=batch_size,
        max_errors=max_errors,
    )


def _import(
    session: Session,
    path: Path,
    *,
    check: Callable[["_Database", Path, int, int], int],
    columns: Mapping[str, bool],
    parse: Callable[["_Cells"], R | None],
    write: Callable[["_Database", list[R], datetime], int],
    batch_size: int,
    max_errors: int,
) -> ImportResult:
    """The two passes: `check` every row (raising ImportFailed, nothing written), then read the
    file again and `write` it in batches; refused if the file changed in between."""
    session.flush()
    db = _Database(session.connection())
    stamp = _stamp(path)
    count = check(db, path, batch_size, max_errors)
    if _stamp(path) != stamp:
        raise _changed()
    now = utcnow()
    written = created = 0
    for batch in _chunks(_valid_rows(path, columns, parse, _Unchanged()), batch_size):
        written += len(batch)
        created += write(db, batch, now)
    if written != count or _stamp(path) != stamp:
        raise _changed()
    session.expire_all()
    return ImportResult(created=created, updated=written - created)


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
    return None if day is None else _noon(day, local_zone())


@lru_cache(maxsize=8192)
def _noon(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, PAID_AT_LOCAL_TIME, tzinfo=zone).astimezone(UTC)


def _parse_bill(cells: _Cells) -> _BillRow | None:
    values: dict[str, Any] = {
        "bill_id": cells.identifier("bill_id", _parse_repeated_bill_id),
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


class _Periods:
    """Which (subscription, year, period) the file has had so far: one bit each.

    Subscription ids are dense, so a bitmap per year and block of ids is a few bytes a
    subscription, where a set of 6,000,000 keys would take hundreds of megabytes.
    """

    BLOCK = 4096  # subscription ids a bitmap covers; 12 bits each

    def __init__(self) -> None:
        self._bits: dict[tuple[int, int], bytearray] = {}

    def add(self, subscription_id: int, year: int, period: int) -> bool:
        """Records the key; False if it was there already."""
        block, offset = divmod(subscription_id, self.BLOCK)
        bits = self._bits.get((year, block))
        if bits is None:
            bits = self._bits[year, block] = bytearray(self.BLOCK * 12 // 8)
        index, mask = divmod(offset * 12 + period - 1, 8)
        if bits[index] & 1 << mask:
            return False
        bits[index] |= 1 << mask
        return True


def _subscription_ids(db: _Database, bill_ids: Iterable[str]) -> dict[str, int]:
    table = SUBSCRIPTION
    found = db.select([table.c.bill_id, table.c.id], table.c.bill_id, bill_ids)
    return {subscription.bill_id: subscription.id for subscription in found}


def _bill_keys(path: Path) -> Iterator[tuple[int, Hashable]]:
    for row in _valid_rows(path, BILL_COLUMNS, _parse_bill, _Discard()):
        yield row.line, (row.bill_id, row.jalali_year, row.period)


def _check_bills(db: _Database, path: Path, batch_size: int, max_errors: int) -> int:
    """The first pass: raises ImportFailed if any row is wrong, else returns how many rows."""
    errors = _Errors(max_errors)
    seen = _Periods()
    count = 0
    for batch in _chunks(_valid_rows(path, BILL_COLUMNS, _parse_bill, errors), batch_size):
        count += len(batch)
        subscription_ids = _subscription_ids(db, (row.bill_id for row in batch))
        for row in batch:
            subscription_id = subscription_ids.get(row.bill_id)
            if subscription_id is None:
                message = f"bill_id {row.bill_id}: no such subscription (import it first)"
                errors.append(RowError(row.line, message))
            elif not seen.add(subscription_id, row.jalali_year, row.period):
                key = (row.bill_id, row.jalali_year, row.period)
                message = f"bill_id {row.bill_id} year {row.jalali_year} period {row.period}"
                errors.append(_Repeat(row.line, message, key))
    del seen
    _resolve_repeats(errors, lambda: _bill_keys(path))
    errors.fail_if_any()
    return count


_BILL_VALUES = (
    "previous_reading_date",
    "current_reading_date",
    "previous_reading",
    "current_reading",
    "consumption_kwh",
    "amount_rials",
    "payment_id",
    "due_date",
    "paid_at",
)


def _write_bills(db: _Database, rows: list[_BillRow], now: datetime) -> int:
    """Creates or updates one batch of checked rows; returns how many of them were created."""
    table = BILL
    subscription_ids = _subscription_ids(db, (row.bill_id for row in rows))
    originals = {
        (bill.subscription_id, bill.jalali_year, bill.period): bill
        for bill in db.select(
            [table.c.id, table.c.subscription_id, table.c.jalali_year, table.c.period]
            + [table.c[name] for name in _BILL_VALUES],
            table.c.subscription_id,
            subscription_ids.values(),
            table.c.corrects_bill_id.is_(None),
            table.c.jalali_year.in_(sorted({row.jalali_year for row in rows})),
        )
    }
    created: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for row in rows:
        subscription_id = subscription_ids[row.bill_id]
        values = {name: getattr(row, name) for name in _BILL_VALUES}
        bill = originals.get((subscription_id, row.jalali_year, row.period))
        if bill is None:
            key = {"subscription_id": subscription_id, "jalali_year": row.jalali_year}
            created.append(values | key | {"period": row.period, "created_at": now})
        elif any(getattr(bill, name) != value for name, value in values.items()):
            changed.append(values | {"target_id": bill.id})
    db.insert(table, created)
    db.update_by_id(table, changed)
    return len(created)


def import_bills(
    session: Session,
    path: Path | str,
    *,
    batch_size: int = BATCH_SIZE,
    max_errors: int = MAX_ERRORS,
) -> ImportResult:
    """Create or update bills from a CSV export; the subscriptions must already be in the database.

    Checks every row first and raises ImportFailed listing the problems (the first
    `max_errors`, and how many in all), writing nothing. Otherwise writes every row, in batches
    of `batch_size`, in the session's transaction; the caller commits (or rolls back). A file
    that changes while it is written raises ImportFailed too: roll back then, as on any error.
    A row updates the original bill (not a correction) of its subscription, year and period, if
    there is one; every column is replaced, an empty paid_date included.
    Objects the session had loaded are expired: they reload what the import wrote.
    """
    return _import(
        session,
        Path(path),
        check=_check_bills,
        columns=BILL_COLUMNS,
        parse=_parse_bill,
        write=_write_bills,
        batch_size=batch_size,
        max_errors=max_errors,
    )
