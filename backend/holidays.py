"""Importing the official holidays (Jalali date, name) that deadlines skip: every row or none."""

from collections.abc import Mapping
from datetime import date
from pathlib import Path

import jdatetime
from sqlmodel import Session

from backend.importers import (
    ImportResult,
    RowError,
    _Cells,
    _check_duplicates,
    _fail_if_any,
    _fetch,
    _read,
)
from backend.models import Holiday

HOLIDAY_COLUMNS: Mapping[str, bool] = {"date": True, "name": True}


def _jalali(day: date) -> str:
    text: str = jdatetime.date.fromgregorian(date=day).strftime("%Y/%m/%d")  # jdatetime is untyped
    return text


def import_holidays(session: Session, path: Path | str) -> ImportResult:
    """Create or rename holidays (by date) from a CSV with the columns date (YYYY/MM/DD, Jalali)
    and name. Raises ImportFailed listing every problem, writing nothing; the caller commits."""
    errors: list[RowError] = []
    rows: list[tuple[int, date, str]] = []
    for record in _read(Path(path), HOLIDAY_COLUMNS, errors):
        cells = _Cells(record, errors)
        day = cells.jalali_date("date")
        name = cells.text("name", max_length=200)
        if day is not None and name is not None:
            rows.append((cells.line, day, name))
    _check_duplicates(
        ((day, line) for line, day, _ in rows), lambda day: f"date {_jalali(day)}", errors
    )
    _fail_if_any(errors)

    existing = {h.day: h for h in _fetch(session, Holiday, Holiday.day, (r[1] for r in rows))}
    for _, day, name in rows:
        holiday = existing.get(day) or Holiday(day=day, name=name)
        holiday.name = name
        session.add(holiday)
    session.flush()
    created = len({day for _, day, _ in rows} - existing.keys())
    return ImportResult(created=created, updated=len(rows) - created)
