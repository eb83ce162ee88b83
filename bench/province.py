"""Province-sized database: staff's look-ups on 1,000,000 subscriptions and 200,000 requests.

    .venv/bin/python bench/province.py seed [--rows 1000000] [--bills 6] [--requests 200000]
    .venv/bin/python bench/province.py requests [--requests 200000]
    .venv/bin/python bench/province.py staff [--calls 200]
    .venv/bin/python bench/province.py drop

Needs PostgreSQL (BENCH_DATABASE_URL, default the CI one). `seed` makes the database
`desk_province` (kept between runs, so that `staff` and bench/interactive.py --database can use it):
migrates it, adds the demo data (`python -m backend seed-demo`, so that the interactive benchmark
finds its bill IDs), imports --rows subscriptions with --bills bills each through
`python -m backend import` (as bench/importers.py does, printing each import's time, rate and peak
memory), then writes --requests requests with their event histories by COPY: bill reviews and
removals filed over the last year, each history walked through its workflow's transitions
(backend.workflows) as staff and subscribers would have made them, steps taking a tenth of their
target to twice it (so a share is late, and the recent ones still open), a few withdrawn, a third of
the finished ones with a feedback answer; assigned to a few reviewers. `requests` writes them again
on the seeded database (for bench/reports.py after a change of the walk).

`staff` binds one supervisor's chat (a row, not the texted code: that is not what is measured) and
sends, through the dialogs exactly as the bots do, --calls times each: /queue, /queue overdue,
/overdue, and /find with a bill ID, a mobile and a national ID of subscriptions that have requests,
then prints p50, p99 and the largest time of each (the target is p99 under 200 ms).
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.compliance import FILING_TARGETS  # noqa: E402
from backend.constants import FINAL_STATUSES, EventAction, RequestKind, RequestStatus  # noqa: E402
from backend.settings import Settings  # noqa: E402
from backend.workflows import KEEP, TRANSITIONS  # noqa: E402
from bench.importers import SEED, run_import, write_bills, write_subscriptions  # noqa: E402

DATABASE = "desk_province"
STAFF_USER = "province-bench-supervisor"
# Open statuses and the share of the open requests in each; the rest of the requests are closed.
CHANNELS = ("telegram", "bale", "sms")
# Actions the subscriber takes (the rest are staff's), and the ones a walk takes seldom.
BY_SUBSCRIBER = {
    EventAction.SUBMITTED,
    EventAction.PAY_FEE,
    EventAction.ACCEPT_TERMS,
    EventAction.DECLINE_TERMS,
    EventAction.WITHDRAW,
}
UNLIKELY = {EventAction.WITHDRAW, EventAction.DECLINE_TERMS}
SCORES = (1, 2, 3, 4, 4, 5, 5, 5)  # feedback answers, skewed as satisfied subscribers are
WORKING_DAYS = {name: field.default for name, field in Settings.model_fields.items()}
REVIEWERS = 8


def admin_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def database_url() -> str:
    return sa.make_url(admin_url()).set(database=DATABASE).render_as_string(hide_password=False)


def backend_command(*args: str) -> None:
    env = os.environ | {"DATABASE_URL": database_url()}
    subprocess.run([sys.executable, "-m", "backend", *args], cwd=ROOT, env=env, check=True)


def tracking_codes(count: int, rng: random.Random) -> Iterator[str]:
    from backend.tracking import tracking_check_digit

    seen: set[str] = set()
    while len(seen) < count:
        body = str(rng.randrange(10**8, 10**9))
        if body not in seen:
            seen.add(body)
            yield body + str(tracking_check_digit(body))


def copy_rows(connection: sa.Connection, table: str, columns: str, rows: Iterator[tuple]) -> int:
    """COPY rows into a table over the connection's own psycopg cursor; the number written."""
    written = 0
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            written += 1
    return written


def walk(
    rng: random.Random, kind: RequestKind, filed: datetime, now: datetime
) -> tuple[
    RequestStatus,
    list[tuple[EventAction, RequestStatus | None, RequestStatus, datetime]],
    datetime | None,
]:
    """A request's history as its workflow would have written it, up to `now`: from the
    filing, each step taking between a tenth of its target and twice it (a share of them
    late), a few withdrawn, a few terms declined. The status reached, the events (action,
    from, to, when) and the open step's deadline (None once nothing is owed)."""
    status, moment = RequestStatus.SUBMITTED, filed
    events = [(EventAction.SUBMITTED, None, status, filed)]
    target: str | None = FILING_TARGETS[kind]
    started = filed
    while status not in FINAL_STATUSES:
        choices = [t for t in TRANSITIONS if t.kind == kind and status in t.sources]
        ways = [t for t in choices if t.action not in UNLIKELY] or choices
        if rng.random() < 0.04:  # the subscriber gives up
            ways = [t for t in choices if t.action in UNLIKELY] or ways
        step = rng.choice(ways)
        days = WORKING_DAYS.get(target or "", 2)
        moment += timedelta(hours=rng.uniform(0.1, 2.0) * days * 24 * 7 / 6)
        if moment > now:  # still on this step
            deadline = started + timedelta(days=days * 7 / 6) if target else None
            return status, events, deadline
        events.append((step.action, status, step.target, moment))
        status = step.target
        if step.deadline != KEEP:
            target, started = step.deadline, moment
    return status, events, None


def seed_requests(url: str, count: int) -> None:
    """`count` requests filed over the last year, each with the history its workflow gives it
    (walk): most closed, the recent ones still open, some of those late; a third of the
    finished ones answered the feedback question."""
    rng = random.Random(SEED)
    engine = sa.create_engine(url)
    now = datetime.now(UTC)
    start = time.perf_counter()
    with engine.begin() as connection:
        subscriptions = connection.exec_driver_sql("SELECT max(id) FROM subscription").scalar_one()
        staff_ids = [
            connection.exec_driver_sql(
                "INSERT INTO staff (full_name, phone, role, active, created_at) "
                f"VALUES ('کارشناس {n}', '+9893510{n:05d}', 'billing_reviewer', true, now()) "
                "RETURNING id"
            ).scalar_one()
            for n in range(REVIEWERS)
        ]
        first = connection.exec_driver_sql(
            "SELECT coalesce(max(id), 0) + 1 FROM service_request"
        ).scalar_one()
        requests: list[tuple] = []
        events: list[tuple] = []
        answers: list[tuple] = []
        for n, code in enumerate(tracking_codes(count, rng)):
            request_id = first + n
            kind = RequestKind.BILL_REVIEW if n % 4 else RequestKind.CONNECTION_REMOVAL
            filed = now - timedelta(minutes=rng.randrange(1, 365 * 24 * 60))
            status, history, deadline = walk(rng, kind, filed, now)
            staff = rng.choice(staff_ids)
            assignee = staff if status != RequestStatus.SUBMITTED else None
            channel = rng.choice(CHANNELS)
            requests.append(
                (
                    request_id,
                    kind.value,
                    code,
                    status.value,
                    channel,
                    f"{channel}-user-{n}",
                    rng.randrange(1, subscriptions + 1),
                    "high_consumption" if kind == RequestKind.BILL_REVIEW else "not_needed",
                    "مصرف این دوره با دوره‌های قبل نمی‌خواند.",
                    filed,
                    history[-1][3],
                    deadline,
                    assignee,
                    "fa",
                )
            )
            for action, source, target, moment in history:
                actor = "subscriber:" + channel if action in BY_SUBSCRIBER else f"staff:{staff}"
                source_value = source.value if source is not None else None
                events.append(
                    (request_id, actor, action.value, source_value, target.value, None, moment)
                )
            if status in FINAL_STATUSES and n % 3 == 0:
                answered = history[-1][3] + timedelta(hours=1)
                answers.append((request_id, rng.choice(SCORES), channel, answered, answered))
        columns = (
            "id, kind, tracking_code, status, channel, channel_user_id, subscription_id, reason, "
            "description, created_at, updated_at, step_deadline, assignee_id, locale"
        )
        copy_rows(connection, "service_request", columns, iter(requests))
        written = copy_rows(
            connection,
            "request_event",
            "request_id, actor, action, from_status, to_status, note, created_at",
            iter(events),
        )
        copy_rows(
            connection,
            "feedback",
            "request_id, score, channel, created_at, updated_at",
            iter(answers),
        )
        connection.exec_driver_sql(
            "SELECT setval(pg_get_serial_sequence('service_request', 'id'), "
            "(SELECT max(id) FROM service_request))"
        )
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    engine.dispose()
    seconds = time.perf_counter() - start
    print(
        f"requests {count} with {written} events and {len(answers)} feedback answers written "
        f"in {seconds:.1f} s",
        flush=True,
    )


def seed(args: argparse.Namespace) -> None:
    admin = sa.create_engine(admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{DATABASE}"')
    admin.dispose()
    backend_command("seed-demo")  # migrates first
    url = database_url()
    with tempfile.TemporaryDirectory() as folder:
        rng = random.Random(SEED)
        subscriptions, bills = Path(folder) / "subscriptions.csv", Path(folder) / "bills.csv"
        write_subscriptions(subscriptions, args.rows, rng)
        run_import(url, "subscriptions", subscriptions, args.rows)
        subscriptions.unlink()
        if args.bills:
            write_bills(bills, args.rows, args.bills, rng)
            run_import(url, "bills", bills, args.rows * args.bills)
    seed_requests(url, args.requests)


def quoted_identifiers(engine: sa.Engine, count: int) -> dict[str, list[str]]:
    """Bill IDs, mobiles and national IDs of subscriptions that have requests, as people quote
    them (a mobile in its 09… form)."""
    query = sa.text(
        "SELECT s.bill_id, c.mobile, c.national_id FROM service_request r "
        "JOIN subscription s ON s.id = r.subscription_id JOIN customer c ON c.id = s.customer_id "
        "WHERE c.mobile IS NOT NULL AND c.national_id IS NOT NULL ORDER BY r.id DESC LIMIT :n"
    )
    with engine.connect() as connection:
        rows = connection.execute(query, {"n": count}).all()
    return {
        "bill ID": [row.bill_id for row in rows],
        "mobile": ["0" + row.mobile.removeprefix("+98") for row in rows],
        "national ID": [row.national_id for row in rows],
    }


def bind_supervisor(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        staff_id = connection.exec_driver_sql(
            "INSERT INTO staff (full_name, phone, role, active, created_at) VALUES "
            "('ناظر سنجش', '+989359999999', 'supervisor', true, now()) "
            "ON CONFLICT (phone) DO UPDATE SET active = true RETURNING id"
        ).scalar_one()
        connection.execute(
            sa.text(
                "INSERT INTO staff_binding (staff_id, channel, external_user_id, bound_at) "
                "VALUES (:id, 'telegram', :user, now()) ON CONFLICT DO NOTHING"
            ),
            {"id": staff_id, "user": STAFF_USER},
        )


def measure_staff(args: argparse.Namespace) -> None:
    os.environ["DATABASE_URL"] = database_url()
    from backend.constants import Channel
    from backend.db import make_engine
    from backend.settings import get_settings
    from bot.wiring import make_dialogs
    from dialogs.events import Event, EventKind

    backend_command("migrate")  # a database seeded before the latest migrations
    settings = get_settings()
    engine = make_engine(settings.database_url)
    bind_supervisor(engine)
    dialogs = make_dialogs(settings, engine, storage=None)
    quoted = quoted_identifiers(engine, args.calls)
    commands: dict[str, list[str]] = {
        "/queue": ["/queue"] * args.calls,
        "/queue overdue": ["/queue overdue"] * args.calls,
        "/overdue": ["/overdue"] * args.calls,
    }
    commands |= {f"/find {what}": [f"/find {each}" for each in ids] for what, ids in quoted.items()}
    with engine.connect() as connection:
        sizes = connection.exec_driver_sql(
            "SELECT (SELECT count(*) FROM subscription), (SELECT count(*) FROM bill), "
            "(SELECT count(*) FROM service_request), (SELECT count(*) FROM request_event)"
        ).one()
    print(
        f"database: {sizes[0]:,} subscriptions, {sizes[1]:,} bills, {sizes[2]:,} requests, "
        f"{sizes[3]:,} events; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(f"{'command':<20} {'calls':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  first reply")
    for name, texts in commands.items():
        times = []
        first_reply = ""
        for n, text in enumerate(texts):
            event = Event(Channel.TELEGRAM, STAFF_USER, kind=EventKind.TEXT, text=text)
            started = time.perf_counter()
            answer = dialogs.handle(event)
            dialogs.answered(event)
            times.append((time.perf_counter() - started) * 1000)
            if n == 0 and answer.replies:
                first_reply = answer.replies[0].text.key
            if any(reply.text.key == "error.unexpected" for reply in answer.replies):
                sys.exit(f"{text!r} failed: see the log above")
        times.sort()
        p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
        print(
            f"{name:<20} {len(times):>6} {statistics.median(times):8.1f} {p99:8.1f} "
            f"{times[-1]:8.1f}  {first_reply}",
            flush=True,
        )
    engine.dispose()


def reseed_requests(args: argparse.Namespace) -> None:
    """The requests written again, subscriptions and bills kept (minutes, not the seed's ten)."""
    engine = sa.create_engine(database_url())
    with engine.begin() as connection:
        connection.exec_driver_sql("TRUNCATE service_request RESTART IDENTITY CASCADE")
        connection.execute(sa.text("DELETE FROM staff WHERE full_name LIKE 'کارشناس %'"))
    engine.dispose()
    seed_requests(database_url(), args.requests)


def drop(_: argparse.Namespace) -> None:
    admin = sa.create_engine(admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    seeding = commands.add_parser("seed", help="make and fill the province database")
    seeding.add_argument("--rows", type=int, default=1_000_000, help="subscriptions")
    seeding.add_argument("--bills", type=int, default=6, help="bills per subscription (0-12)")
    seeding.add_argument("--requests", type=int, default=200_000)
    seeding.set_defaults(run=seed)
    again = commands.add_parser("requests", help="write its requests again, nothing else")
    again.add_argument("--requests", type=int, default=200_000)
    again.set_defaults(run=reseed_requests)
    staff = commands.add_parser("staff", help="time staff's look-ups on it")
    staff.add_argument("--calls", type=int, default=200, help="calls of each command")
    staff.set_defaults(run=measure_staff)
    commands.add_parser("drop", help="drop the province database").set_defaults(run=drop)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
