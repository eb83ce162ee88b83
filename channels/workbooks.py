"""Exports as spreadsheets: an XLSX workbook (openpyxl) and the same sheets as CSV files in a
zip, with the reader's labels, Jalali dates (ASCII digits, so that they sort) and right-to-left
sheets for Persian readers.

Text a spreadsheet would run as a formula (starting with =, +, -, @, a tab or a carriage
return: a subscriber's description may) is never one: in XLSX it is written as a string cell,
in CSV it is prefixed with an apostrophe, as OWASP advises for CSV injection.
"""

import csv
import io
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import TYPE_STRING
from openpyxl.utils import get_column_letter

from backend.compliance import COUNTER_CHANNEL, Dimension, Figures, Row
from backend.exports import TABLES, Export, MonthlySummary
from channels.pdf import RTL_LOCALES
from locales.values import Msg, format_date, render

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP_TYPE = "application/zip"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
Cell = str | int | float | None


@dataclass(frozen=True)
class Sheet:
    name: str  # a catalog key's last part: export.sheet.<name>, and the CSV file's name
    columns: Sequence[str]  # export.column.<column>
    rows: Sequence[Sequence[Cell]]


# --- Labels the reports share (the text of /report, the charts, the sheets) ---


def step_label(step: str) -> Msg:
    """A step as backend.compliance.step_name names it: a data service's (`meter_test.submitted`)
    by its service and the status it runs in, a built one's by its own catalog key."""
    service, dot, status = step.partition(".")
    if dot:
        return Msg(
            "report.step.of_service",
            {"service": Msg(f"kind.{service}"), "status": Msg(f"status.{status}")},
        )
    return Msg(f"report.step.{step}")


def channel_label(channel: str) -> Msg:
    return Msg(
        "report.channel.counter" if channel == COUNTER_CHANNEL else f"staff.channel.{channel}"
    )


def group_label(
    dimension: Dimension,
    key: Sequence[Any],
    staff_names: Mapping[str, str],
    counter_codes: Mapping[int, str],
) -> Msg | str:
    """A group of a compliance table in words: its service, step, place, channel, the staff
    member or counter."""
    value = key[0]
    if dimension == Dimension.SERVICE:
        return Msg(f"kind.{value}")
    if dimension == Dimension.STEP:
        return step_label(value)
    if dimension == Dimension.AREA:
        return f"{key[0]} / {key[1]}"
    if dimension == Dimension.CHANNEL:
        return channel_label(value)
    if dimension == Dimension.STAFF:
        if value is None:
            return Msg("report.staff.nobody")
        return staff_names.get(value) or Msg("report.staff.not_staff")
    if dimension == Dimension.COUNTER:
        return counter_codes.get(value, "") if value is not None else Msg("report.counter.none")
    return str(value)


# --- The sheets ---


def _moment(value: datetime | None) -> str:
    return format_date(value, "en") if value is not None else ""


def _days(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _share(figures: Figures) -> float | None:
    share = figures.on_time_share
    return None if share is None else round(100 * share, 1)


def _yes_no(value: bool, locale: str) -> str:
    return render(Msg("export.yes" if value else "export.no"), locale)


def export_sheets(export: Export, locale: str) -> list[Sheet]:
    def words(message: Msg | str) -> str:
        return render(message, locale) if isinstance(message, Msg) else message

    requests = Sheet(
        "requests",
        (
            "tracking_code",
            "service",
            "status",
            "channel",
            "city",
            "area",
            "counter",
            "filed_at",
            "updated_at",
            "name",
            "mobile",
            "national_id",
            "description",
        ),
        [
            (
                line.tracking_code,
                words(Msg(f"kind.{line.service}")),
                words(Msg(f"status.{line.status}")),
                words(channel_label(line.channel)),
                line.city,
                line.area,
                line.counter,
                _moment(line.filed_at),
                _moment(line.updated_at),
                line.name,
                line.mobile,
                line.national_id,
                line.description,
            )
            for line in export.requests
        ],
    )
    steps = Sheet(
        "steps",
        (
            "tracking_code",
            "step",
            "target_days",
            "started_at",
            "ended_at",
            "by",
            "working_days",
            "on_time",
            "overdue",
        ),
        [
            (
                line.tracking_code,
                words(step_label(line.step)),
                line.target,
                _moment(line.started_at),
                _moment(line.ended_at),
                line.by,
                _days(line.working_days),
                _yes_no(line.on_time, locale),
                _yes_no(line.overdue, locale),
            )
            for line in export.steps
        ],
    )
    tables = Sheet(
        "compliance",
        ("table", "group", *FIGURE_COLUMNS),
        [
            (
                words(Msg(f"export.table.{dimension}")),
                words(group_label(dimension, row.key, export.staff_names, export.counter_codes)),
                *figure_cells(row.figures),
            )
            for dimension in TABLES
            for row in export.tables[dimension]
        ],
    )
    feedback = Sheet(
        "csat",
        ("tracking_code", "service", "score", "comment", "channel", "answered_at"),
        [
            (
                line.tracking_code,
                words(Msg(f"kind.{line.service}")),
                line.score,
                line.comment,
                words(channel_label(line.channel)),
                _moment(line.answered_at),
            )
            for line in export.feedback
        ],
    )
    return [requests, steps, tables, feedback]


FIGURE_COLUMNS = (
    "requests",
    "steps",
    "done",
    "on_time",
    "on_time_percent",
    "overdue",
    "mean_days",
    "median_days",
    "p90_days",
    "csat_average",
    "csat_count",
)


def figure_cells(figures: Figures) -> tuple[Cell, ...]:
    return (
        figures.requests,
        figures.steps,
        figures.done,
        figures.on_time,
        _share(figures),
        figures.overdue,
        _days(figures.mean_days),
        _days(figures.median_days),
        _days(figures.p90_days),
        _days(figures.csat_average),
        figures.csat_count,
    )


def summary_sheet(summary: MonthlySummary, locale: str) -> Sheet:
    """Tavanir's monthly summary as one sheet of (section, item, figures…) rows."""

    def counted(section: str, items: Iterable[tuple[Msg, int]]) -> list[Sequence[Cell]]:
        title = render(Msg(f"tavanir.section.{section}"), locale)
        return [(title, render(label, locale), count) for label, count in items]

    def measured(section: str, rows: Sequence[Row], label: Any) -> list[Sequence[Cell]]:
        title = render(Msg(f"tavanir.section.{section}"), locale)
        return [
            (title, render(label(row.key[0]), locale), *figure_cells(row.figures)) for row in rows
        ]

    rows = [
        *counted("service", ((Msg(f"kind.{k}"), n) for k, n in sorted(summary.by_service.items()))),
        *counted("channel", ((channel_label(c), n) for c, n in sorted(summary.by_channel.items()))),
        *counted(
            "outcome",
            ((Msg(f"tavanir.outcome.{o}"), n) for o, n in sorted(summary.by_outcome.items())),
        ),
        *measured("steps", summary.steps, step_label),
        *measured("csat", summary.services, lambda kind: Msg(f"kind.{kind}")),
    ]
    return Sheet("tavanir", ("section", "item", *FIGURE_COLUMNS), rows)


# --- Writing them ---


def _formula_safe_csv(value: Cell) -> Cell:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def xlsx_bytes(sheets: Sequence[Sheet], locale: str) -> bytes:
    workbook = Workbook()
    for blank in workbook.worksheets:  # the one every new workbook has
        workbook.remove(blank)
    for sheet in sheets:
        worksheet = workbook.create_sheet(render(Msg(f"export.sheet.{sheet.name}"), locale)[:31])
        worksheet.sheet_view.rightToLeft = locale in RTL_LOCALES
        worksheet.append([render(Msg(f"export.column.{c}"), locale) for c in sheet.columns])
        for row in sheet.rows:
            worksheet.append(list(row))
            for cell in worksheet[worksheet.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = TYPE_STRING  # never a formula, whatever it starts with
        worksheet.freeze_panes = "A2"
        for index, column in enumerate(sheet.columns, start=1):
            worksheet.column_dimensions[get_column_letter(index)].width = max(12, len(column) + 4)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_zip_bytes(sheets: Sequence[Sheet], locale: str) -> bytes:
    """One CSV file per sheet (UTF-8 with a BOM, which spreadsheet programs need to read
    Persian), named by the sheet, in one zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for sheet in sheets:
            text = io.StringIO()
            writer = csv.writer(text)
            writer.writerow([render(Msg(f"export.column.{c}"), locale) for c in sheet.columns])
            writer.writerows([_formula_safe_csv(value) for value in row] for row in sheet.rows)
            info = zipfile.ZipInfo(f"{sheet.name}.csv", date_time=(1980, 1, 1, 0, 0, 0))
            archive.writestr(info, "\ufeff" + text.getvalue(), zipfile.ZIP_DEFLATED)
    return buffer.getvalue()
