"""The export's sheets and files: personal data as the role sees it, CSV as well (text that
would run as a formula defused), the command line, and Tavanir's monthly summary."""

import csv
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from sqlmodel import Session

from backend.compliance import Scope
from backend.constants import StaffRole
from backend.db import get_engine
from backend.exports import build_export, monthly_summary
from backend.periods import jalali_month
from backend.settings import get_settings
from backend.staff import ROLE_SEES
from bot.reports_cli import main as cli
from channels.workbooks import csv_zip_bytes, export_sheets, summary_sheet, xlsx_bytes
from tests.reports.conftest import FORMULA, NOW, WEEK, Desk


def test_personal_data_by_role(week: Desk) -> None:
    def first_line(role: StaffRole | None):  # type: ignore[no-untyped-def]
        sees = ROLE_SEES[role] if role else frozenset()
        export = build_export(
            week.session, period=WEEK, scope=Scope(), sees=sees, now=NOW, settings=get_settings()
        )
        return export.requests[0]

    full = first_line(StaffRole.ADMIN)
    assert (full.name, full.mobile) == ("مریم احمدی", "09121234567")
    inspector = first_line(StaffRole.HQ_INSPECTOR)
    assert (inspector.name, inspector.mobile) == ("مریم احمدی", "0912***4567")
    nobody = first_line(None)
    assert (nobody.name, nobody.mobile) == ("", "0912***4567")


def test_csv_files_defuse_formulas(week: Desk) -> None:
    export = build_export(
        week.session, period=WEEK, scope=Scope(), sees=frozenset(), now=NOW, settings=get_settings()
    )
    archive = zipfile.ZipFile(io.BytesIO(csv_zip_bytes(export_sheets(export, "en"), "en")))
    assert archive.namelist() == ["requests.csv", "steps.csv", "compliance.csv", "csat.csv"]
    text = archive.read("requests.csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "Tracking code"
    assert "'" + FORMULA in [row[12] for row in rows]


def test_the_command_line(
    week: Desk, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    get_engine.cache_clear()
    out = tmp_path / "week.xlsx"
    args = ["export", "--from", "1405/07/29", "--to", "1405/08/06", "--out", str(out)]
    assert cli(args) == 0
    sheet = openpyxl.load_workbook(out)["درخواست‌ها"]
    assert sheet.max_row == 1 + 7 and sheet.sheet_view.rightToLeft
    assert sheet["K2"].value == "0912***4567"  # no --role: masked
    zipped = tmp_path / "week.zip"
    assert cli([*args[:-1], str(zipped), "--format", "csv", "--locale", "en"]) == 0
    assert "csat.csv" in zipfile.ZipFile(zipped).namelist()
    assert cli(["tavanir", "1405/08", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "tavanir-1405-08.png").read_bytes().startswith(b"\x89PNG")
    assert cli(["export", "--from", "1405/13/01", "--to", "1405/08/06", "--out", str(out)]) == 2
    get_settings.cache_clear()
    get_engine.cache_clear()


def test_tavanir_summary(week: Desk, session: Session) -> None:
    month = jalali_month(1405, 8)  # 23 October to 21 November: from the Friday on
    summary = monthly_summary(
        week.session, period=month, scope=Scope(), now=NOW, settings=get_settings()
    )
    assert summary.by_service == {"bill_review": 4}
    assert summary.by_channel == {"sms": 1, "counter": 1, "telegram": 2}
    assert summary.by_outcome == {"open": 3, "withdrawn": 1}
    sheet = summary_sheet(summary, "en")
    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes([sheet], "en")))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][:3] == ("Section", "Item", "Requests")
    assert ("Requests by service", "Bill review", 4) in [row[:3] for row in rows]
    assert not book.active.sheet_view.rightToLeft
