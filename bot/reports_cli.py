"""`python -m bot export …` and `python -m bot tavanir MONTH`: the exports of /export from the
command line (here, not in `python -m backend`, because the sheets are labelled from the
catalogs and drawn by channels/, which the backend may not import).

Without `--role`, personal data (name, mobile, national ID) is masked; `--role admin` shows what
an admin sees."""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from backend.compliance import EVERYTHING
from backend.constants import StaffRole
from backend.db import session_scope
from backend.exports import build_export, monthly_summary
from backend.models import utcnow
from backend.periods import BadPeriod, Period, jalali_text, parse_jalali_day, parse_jalali_range
from backend.settings import get_settings
from backend.staff import ROLE_SEES
from channels.charts import summary_chart_png
from channels.workbooks import csv_zip_bytes, export_sheets, summary_sheet, xlsx_bytes
from dialogs.staff.reports import summary_chart


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot")
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", help="requests, steps, compliance and CSAT of a period")
    export.add_argument("--from", dest="first", required=True, help="Jalali day YYYY/MM/DD")
    export.add_argument("--to", dest="last", required=True, help="Jalali day YYYY/MM/DD")
    export.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
    export.add_argument("--out", type=Path, required=True, help="the file to write")
    export.add_argument("--role", choices=[r.value for r in StaffRole], default=None)
    export.add_argument("--locale", choices=("fa", "en"), default="fa")
    tavanir = commands.add_parser("tavanir", help="the monthly summary for Tavanir")
    tavanir.add_argument("month", help="Jalali month YYYY/MM")
    tavanir.add_argument("--out", type=Path, default=Path("."), help="folder for both files")
    tavanir.add_argument("--locale", choices=("fa", "en"), default="fa")
    return parser


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(argv)
    settings = get_settings()
    try:
        if args.command == "export":
            period = Period(parse_jalali_day(args.first), parse_jalali_day(args.last))
        else:
            found = parse_jalali_range(args.month)
            if found is None:
                raise BadPeriod(args.month)
            period = found
    except BadPeriod as error:
        print(f"not a Jalali date: {error}", file=sys.stderr)
        return 2
    if period.last < period.first:
        print("--to is before --from", file=sys.stderr)
        return 2
    with session_scope() as session:
        if args.command == "export":
            contents = build_export(
                session,
                period=period,
                scope=EVERYTHING,
                sees=ROLE_SEES[StaffRole(args.role)] if args.role else frozenset(),
                now=utcnow(),
                settings=settings,
            )
            sheets = export_sheets(contents, args.locale)
            write = csv_zip_bytes if args.format == "csv" else xlsx_bytes
            args.out.write_bytes(write(sheets, args.locale))
            print(f"{len(contents.requests)} requests, {len(contents.steps)} steps: {args.out}")
            return 0
        summary = monthly_summary(
            session, period=period, scope=EVERYTHING, now=utcnow(), settings=settings
        )
    name = "tavanir-" + jalali_text(period.first)[:7].replace("/", "-")
    args.out.mkdir(parents=True, exist_ok=True)
    sheet, image = args.out / f"{name}.xlsx", args.out / f"{name}.png"
    sheet.write_bytes(xlsx_bytes([summary_sheet(summary, args.locale)], args.locale))
    image.write_bytes(summary_chart_png(summary_chart(summary), args.locale))
    print(f"{sum(summary.by_service.values())} requests: {sheet}, {image}")
    return 0
