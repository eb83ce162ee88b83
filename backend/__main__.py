"""The admin command line: `python -m backend COMMAND …` (see `python -m backend --help`)."""

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlmodel import Session

from backend.constants import StaffRole
from backend.db import migrate, session_scope
from backend.demo import seed_demo
from backend.holidays import import_holidays
from backend.importers import ImportFailed, ImportResult, import_bills, import_subscriptions
from backend.settings import Environment, get_settings
from backend.staff import StaffError, add_staff

IMPORTERS: dict[str, Callable[[Session, Path], ImportResult]] = {
    "subscriptions": import_subscriptions,
    "bills": import_bills,
}


def run_migrate(args: argparse.Namespace) -> int:
    migrate()
    print("database schema is up to date")
    return 0


def run_import(args: argparse.Namespace) -> int:
    return _import(IMPORTERS[args.kind], args.file)


def run_holidays_import(args: argparse.Namespace) -> int:
    return _import(import_holidays, args.file)


def _import(importer: Callable[[Session, Path], ImportResult], path: Path) -> int:
    try:
        # One transaction: a failure of any kind leaves nothing half-imported.
        with session_scope() as session:
            result = importer(session, path)
    except ImportFailed as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        if exc.error_count > len(exc.errors):
            more = exc.error_count - len(exc.errors)
            print(f"… and {more} more error(s), not listed", file=sys.stderr)
        print(f"nothing imported: {exc.error_count} error(s)", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"imported: {result.created} created, {result.updated} updated")
    return 0


def run_seed_demo(args: argparse.Namespace) -> int:
    if get_settings().environment == Environment.PRODUCTION:
        print("demo data is not loaded with ENVIRONMENT=production", file=sys.stderr)
        return 2
    migrate()
    with session_scope() as session:
        summary = seed_demo(session)
    print(
        f"demo data: {summary.subscriptions_created} subscriptions and "
        f"{summary.bills_created} bills created"
    )
    print(f"sample bill ID: {summary.sample_bill_id} (its latest bill looks too high)")
    print(f"its customer's mobile: {summary.sample_mobile}")
    return 0


def run_staff_add(args: argparse.Namespace) -> int:
    try:
        with session_scope() as session:
            staff = add_staff(session, full_name=args.name, phone=args.phone, role=args.role)
    except StaffError as exc:
        print(f"staff member not added: {exc}", file=sys.stderr)
        return 1
    print(f"staff member {staff.id} added: {staff.full_name}, {staff.phone}, {staff.role}")
    print("they bind their messenger account by sharing this phone (menu: register my mobile)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Every command is declared here: its arguments and the function that runs it (`run`)."""
    parser = argparse.ArgumentParser(
        prog="python -m backend", description="Admin commands of the customer-service desk."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    command = commands.add_parser("migrate", help="bring the database schema up to date")
    command.set_defaults(run=run_migrate)

    command = commands.add_parser(
        "import",
        help="import a CSV export of the billing system (all rows or none)",
        description="Import a CSV export; see docs/import-formats.md for the columns.",
    )
    command.add_argument("kind", choices=IMPORTERS, help="what the file holds")
    command.add_argument("file", type=Path, help="the CSV file (UTF-8)")
    command.set_defaults(run=run_import)

    command = commands.add_parser(
        "seed-demo", help="migrate, then add the demo subscriptions and bills (once)"
    )
    command.set_defaults(run=run_seed_demo)

    staff = commands.add_parser("staff", help="staff accounts").add_subparsers(
        dest="staff_command", required=True, metavar="STAFF_COMMAND"
    )
    command = staff.add_parser("add", help="add a staff member, to be bound by their phone")
    command.add_argument("--name", required=True, help="full name")
    command.add_argument("--phone", required=True, help="Iranian mobile, e.g. 09121234567")
    command.add_argument("--role", required=True, choices=list(StaffRole), help="their role")
    command.set_defaults(run=run_staff_add)

    holidays = commands.add_parser("holidays", help="official holidays").add_subparsers(
        dest="holidays_command", required=True, metavar="HOLIDAYS_COMMAND"
    )
    command = holidays.add_parser(
        "import",
        help="import official holidays (all rows or none); deadlines skip them",
        description="Columns: date (Jalali YYYY/MM/DD), name.",
    )
    command.add_argument("file", type=Path, help="the CSV file (UTF-8)")
    command.set_defaults(run=run_holidays_import)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
