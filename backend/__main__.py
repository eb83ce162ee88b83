"""The admin command line: `python -m backend COMMAND …` (see `python -m backend --help`)."""

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path

import jdatetime
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import Session

from backend.constants import CounterAction, CounterReason, RequestKind, StaffRole
from backend.counter_workflow import TRANSITIONS as COUNTER_TRANSITIONS
from backend.counter_workflow import Paper
from backend.counter_workflow import apply as apply_counter_step
from backend.counters import (
    KIND_WORDS,
    STATUS_WORDS,
    CounterError,
    add_operator,
    all_counters,
    check_details,
    counter_by_code,
    delegate,
    import_counters,
    introduce_counter,
    parse_kinds,
    refusal_words,
    services_of,
)
from backend.db import alembic_config, get_engine, migrate, session_scope
from backend.demo import seed_demo
from backend.holidays import import_holidays
from backend.importers import (
    ImportFailed,
    ImportResult,
    _jalali_date,
    import_bills,
    import_subscriptions,
)
from backend.models import Counter, Staff, utcnow
from backend.outage_schedule import import_planned_outages
from backend.self_readings import export_readings
from backend.services import startup_problem
from backend.services.engine import defined_service, service_kinds
from backend.settings import Environment, get_settings, local_zone
from backend.staff import (
    ROLE_WORDS,
    StaffError,
    add_staff,
    all_staff,
    change_role,
    deactivate,
    staff_by_phone,
)
from backend.storage import LocalFileStorage
from backend.workflows import Refused

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


def _described(staff: Staff) -> str:
    active = "" if staff.active else ", deactivated"
    return f"{staff.full_name}, {staff.phone}, {ROLE_WORDS[staff.role]}{active}"


def run_staff_add(args: argparse.Namespace) -> int:
    try:
        with session_scope() as session:
            staff = add_staff(session, full_name=args.name, phone=args.phone, role=args.role)
    except StaffError as exc:
        print(f"staff member not added: {exc}", file=sys.stderr)
        return 1
    print(f"staff member {staff.id} added: {_described(staff)}")
    print("they bind their messenger account by sharing this phone (menu: register my mobile)")
    return 0


def run_staff_list(args: argparse.Namespace) -> int:
    with session_scope() as session:
        everyone = all_staff(session)
        for staff in everyone:
            print(f"{staff.id}: {_described(staff)}")
    if not everyone:
        print("no staff members yet: add one with `staff add`")
    return 0


def run_staff_deactivate(args: argparse.Namespace) -> int:
    try:
        with session_scope() as session:
            staff = staff_by_phone(session, args.phone)
            if not staff.active:
                print(f"nothing changed: staff member {staff.id} was already deactivated")
                return 0
            held = deactivate(session, staff)
            print(f"staff member {staff.id} deactivated: {_described(staff)}")
    except StaffError as exc:
        print(f"nothing changed: {exc}", file=sys.stderr)
        return 1
    if held:
        print(f"{held} open request(s) still assigned to them: give them to others with /assign")
    return 0


def run_staff_role(args: argparse.Namespace) -> int:
    try:
        with session_scope() as session:
            staff = staff_by_phone(session, args.phone)
            change_role(session, staff, args.role)
            print(f"staff member {staff.id}'s role changed: {_described(staff)}")
    except StaffError as exc:
        print(f"nothing changed: {exc}", file=sys.stderr)
        return 1
    return 0


# --- Pishkhan counters ---

CLI_ACTOR = "admin:cli"  # who a counter's events name for what is recorded here


def _storage() -> LocalFileStorage:
    return LocalFileStorage(get_settings().files_dir)


def _paper(path: Path | None) -> Paper | None:
    return None if path is None else Paper(path.read_bytes(), path.name)


def _jalali(moment: datetime) -> str:
    local = moment.astimezone(local_zone())
    text: str = jdatetime.date.fromgregorian(date=local.date()).strftime("%Y/%m/%d")
    return text


def _kind_words(kind: str) -> str:
    """A service in words: a built one's, or a defined one's code as its English name says."""
    definition = defined_service(kind)
    return definition.name.en.lower() if definition is not None else KIND_WORDS[RequestKind(kind)]


def _counter_words(session: Session, counter: Counter) -> str:
    status = STATUS_WORDS[counter.status]
    if counter.status_reason is not None:
        status += f" ({counter.status_reason.replace('_', ' ')})"
    services = ", ".join(_kind_words(kind) for kind in services_of(session, counter))
    due = (
        "" if counter.step_deadline is None else f"; next step due {_jalali(counter.step_deadline)}"
    )
    return (
        f"{counter.code}: {counter.name}, {counter.city} ({counter.area}), {status}; "
        f"files {services or 'nothing yet'}{due}"
    )


def _counter_command(failed: str, body: Callable[[Session], None]) -> int:
    """Runs `body` in one transaction; a refusal or a bad value is printed and changes nothing."""
    try:
        with session_scope() as session:
            body(session)
    except (CounterError, StaffError) as exc:
        print(f"{failed}: {exc}", file=sys.stderr)
        return 1
    except Refused as exc:
        print(f"{failed}: {refusal_words(exc)}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{failed}: cannot read {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


def run_counters_add(args: argparse.Namespace) -> int:
    def add(session: Session) -> None:
        details = check_details(
            code=args.code,
            name=args.name,
            city=args.city,
            area=args.area,
            address=args.address,
            phone=args.phone,
            manager_name=args.manager,
        )
        counter = introduce_counter(
            session,
            details,
            _paper(args.letter),
            services=parse_kinds(args.services, service_kinds()),
            storage=_storage(),
            actor=CLI_ACTOR,
            now=utcnow(),
        )
        print(f"counter introduced: {_counter_words(session, counter)}")

    return _counter_command("counter not added", add)


def run_counters_list(args: argparse.Namespace) -> int:
    with session_scope() as session:
        counters = all_counters(session)
        for counter in counters:
            print(_counter_words(session, counter))
    if not counters:
        print("no counters yet: add one with `counters add` or `counters import`")
    return 0


def run_counters_import(args: argparse.Namespace) -> int:
    def counters(session: Session, path: Path) -> ImportResult:
        return import_counters(
            session, path, storage=_storage(), actor=CLI_ACTOR, now=utcnow(), known=service_kinds()
        )

    return _import(counters, args.file)


def run_counters_delegate(args: argparse.Namespace) -> int:
    def change(session: Session) -> None:
        counter = counter_by_code(session, args.code)
        wanted = parse_kinds(",".join(args.services), service_kinds())
        kinds = delegate(session, counter, wanted, actor=CLI_ACTOR, now=utcnow())
        files = ", ".join(_kind_words(kind) for kind in kinds) or "nothing"
        print(f"counter {counter.code} now files {files}")

    return _counter_command("nothing changed", change)


def run_counters_operator(args: argparse.Namespace) -> int:
    def link(session: Session) -> None:
        counter = counter_by_code(session, args.code)
        staff = staff_by_phone(session, args.phone)
        add_operator(session, counter, staff, actor=CLI_ACTOR, now=utcnow())
        print(f"{staff.full_name} now works at counter {counter.code}")

    return _counter_command("nothing changed", link)


def run_counters_step(args: argparse.Namespace) -> int:
    def step(session: Session) -> None:
        counter = counter_by_code(session, args.code)
        signed_on = None
        if args.signed_on is not None:
            day = _jalali_date(args.signed_on)
            if isinstance(day, str):
                raise CounterError(f"--signed-on {args.signed_on}: {day}")
            signed_on = day
        apply_counter_step(
            session,
            counter,
            CounterAction(args.action),
            actor=CLI_ACTOR,
            now=utcnow(),
            storage=_storage(),
            reason=None if args.reason is None else CounterReason(args.reason),
            note=args.note,
            document=_paper(args.document),
            signed_on=signed_on,
        )
        print(f"step recorded: {_counter_words(session, counter)}")

    return _counter_command("step not recorded", step)


def run_outages_import(args: argparse.Namespace) -> int:
    def importer(session: Session, path: Path) -> ImportResult:
        return import_planned_outages(session, path, now=utcnow())

    return _import(importer, args.file)


def run_readings_export(args: argparse.Namespace) -> int:
    days = [_jalali_date(typed) for typed in (args.start, args.end)]
    for flag, typed, day in zip(("--from", "--to"), (args.start, args.end), days, strict=True):
        if isinstance(day, str):
            print(f"{flag} {typed}: {day}", file=sys.stderr)
            return 2
    start, end = days
    assert isinstance(start, date) and isinstance(end, date)
    try:
        with session_scope() as session, args.out.open("w", encoding="utf-8", newline="") as out:
            count = export_readings(session, out, start=start, end=end)
    except OSError as exc:
        print(f"cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"exported: {count} self-reading(s) to {args.out}")
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
    roles = [role.value for role in StaffRole]  # as typed and shown, not as Python's repr
    command.add_argument("--role", required=True, choices=roles, help="their role")
    command.set_defaults(run=run_staff_add)
    command = staff.add_parser("list", help="every staff member, with their role in words")
    command.set_defaults(run=run_staff_list)
    command = staff.add_parser("deactivate", help="stop a staff member's accounts acting as staff")
    command.add_argument("--phone", required=True, help="their phone, as added")
    command.set_defaults(run=run_staff_deactivate)
    command = staff.add_parser("role", help="change a staff member's role")
    command.add_argument("--phone", required=True, help="their phone, as added")
    command.add_argument("--role", required=True, choices=roles, help="the new role")
    command.set_defaults(run=run_staff_role)

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

    counters = commands.add_parser("counters", help="pishkhan counters").add_subparsers(
        dest="counters_command", required=True, metavar="COUNTERS_COMMAND"
    )
    services = [kind.value for kind in RequestKind]
    command = counters.add_parser(
        "add", help="introduce a counter, with the guild association's scanned letter"
    )
    command.add_argument("--code", required=True, help="the office's code")
    command.add_argument("--name", required=True)
    command.add_argument("--city", required=True)
    command.add_argument("--area", required=True, help="the distribution area that vets it")
    command.add_argument("--address", required=True)
    command.add_argument("--phone", required=True, help="with its area code, e.g. 041-33445566")
    command.add_argument("--manager", required=True, help="the manager's full name")
    command.add_argument("--letter", type=Path, help="the scanned letter (JPEG, PNG or PDF)")
    command.add_argument(
        "--services", default="", help=f"what it may file, e.g. {';'.join(services)}"
    )
    command.set_defaults(run=run_counters_add)
    command = counters.add_parser("list", help="every counter, its status and services in words")
    command.set_defaults(run=run_counters_list)
    command = counters.add_parser(
        "import",
        help="introduce the counters of a CSV (all rows or none)",
        description="Columns: code, name, city, area, address, phone, manager, letter (the "
        "scan's path, relative to the CSV), services (optional, separated by ;).",
    )
    command.add_argument("file", type=Path, help="the CSV file (UTF-8)")
    command.set_defaults(run=run_counters_import)
    command = counters.add_parser(
        "delegate", help="set the services a counter may file (none: it files nothing)"
    )
    command.add_argument("code", help="the counter's office code")
    # Checked when run, against the definitions too (read once the startup check passed).
    command.add_argument(
        "services", nargs="*", help=f"its services: {', '.join(services)} or a defined one's code"
    )
    command.set_defaults(run=run_counters_delegate)
    command = counters.add_parser("operator", help="link a counter operator to their counter")
    command.add_argument("code", help="the counter's office code")
    command.add_argument("--phone", required=True, help="the operator's phone, as added")
    command.set_defaults(run=run_counters_operator)
    command = counters.add_parser("step", help="record a step of a counter's lifecycle")
    command.add_argument("code", help="the counter's office code")
    steps = list(dict.fromkeys(t.action.value for t in COUNTER_TRANSITIONS))
    command.add_argument("action", choices=steps, help="the step")
    reasons = [reason.value for reason in CounterReason]
    command.add_argument("--reason", choices=reasons, help="why it is rejected, suspended…")
    command.add_argument("--note")
    command.add_argument("--document", type=Path, help="the scanned signed agreement")
    command.add_argument("--signed-on", help="the agreement's date, Jalali YYYY/MM/DD")
    command.set_defaults(run=run_counters_step)

    outages = commands.add_parser("outages", help="the planned-outage schedule").add_subparsers(
        dest="outages_command", required=True, metavar="OUTAGES_COMMAND"
    )
    command = outages.add_parser(
        "import",
        help="enter a dispatch centre's schedule, without broadcasting it (all rows or none)",
        description="Columns: feeder or city (and area), date (Jalali YYYY/MM/DD), start and "
        "end (HH:MM), reason; see docs/import-formats.md.",
    )
    command.add_argument("file", type=Path, help="the CSV file (UTF-8)")
    command.set_defaults(run=run_outages_import)

    readings = commands.add_parser("readings", help="subscribers' own meter readings")
    readings_commands = readings.add_subparsers(
        dest="readings_command", required=True, metavar="READINGS_COMMAND"
    )
    command = readings_commands.add_parser(
        "export",
        help="the self-readings sent in a span of days, as CSV for the billing system",
        description="Columns: see docs/import-formats.md (Self-readings export).",
    )
    command.add_argument("--from", dest="start", required=True, help="first day, Jalali YYYY/MM/DD")
    command.add_argument("--to", dest="end", required=True, help="last day, Jalali YYYY/MM/DD")
    command.add_argument("--out", type=Path, required=True, help="the CSV file to write")
    command.set_defaults(run=run_readings_export)
    return parser


def _schema_is_current() -> bool:
    head = ScriptDirectory.from_config(alembic_config(get_settings().database_url)).get_heads()
    with get_engine().connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads()) == set(head)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    if (problem := startup_problem()) is not None:
        print(problem, file=sys.stderr)
        return 2
    # Everything but the two commands that migrate works on the schema: a clean or an old
    # database gets what to do, not a traceback about a missing table.
    if run not in (run_migrate, run_seed_demo) and not _schema_is_current():
        print("the database schema is missing or out of date: run `migrate` first", file=sys.stderr)
        return 1
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
