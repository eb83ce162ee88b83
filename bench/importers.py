"""Import benchmark: `python -m backend import subscriptions|bills FILE` on generated exports.

    .venv/bin/python bench/importers.py [--rows 1000000] [--bills 2] [--again]

Needs PostgreSQL (BENCH_DATABASE_URL, default the CI one; a fresh database is made and dropped).
Writes a subscriptions CSV of --rows rows (valid bill IDs, national IDs and mobiles; some
customers with two subscriptions) and a bills CSV of --bills bills per subscription (0 for none),
then runs each import as its own process, as an administrator would, and prints for each: rows,
seconds, rows a second, the process's peak resident memory (its own ru_maxrss, from wait4) and
its CPU time (on a busy machine the wall time is mostly waiting for a core).
--again re-imports the subscriptions file, every row then an update. The default of 2 bills a
subscription keeps a run near 7 minutes here; --bills 6 (a year of bi-monthly bills, 6,000,000
rows for the default --rows) adds some 10 minutes of import and 3 of writing the file.
"""

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend.db import migrate  # noqa: E402
from backend.identifiers import (  # noqa: E402
    InvalidIdentifier,
    make_bill_id,
    make_payment_id,
    parse_national_id,
)
from backend.importers import BILL_COLUMNS, SUBSCRIPTION_COLUMNS  # noqa: E402

SEED = 1405
YEAR = 1404
FIRST_FILE_NUMBER = 10_000_000  # 8-digit file numbers: 13-digit bill IDs, as in the exports
NAMES = ("مریم احمدی", "رضا محمدی", "زهرا رضایی", "علی کریمی", "سمیه جعفری", "حسین موسوی")
PLACES = (
    ("قم", "پردیسان", "F-12"),
    ("قم", "صفاشهر", "فیدر صفائیه"),
    ("قم", "زنبیل‌آباد", "F-23"),
    ("کهک", "مرکز کهک", "F-51"),
    ("جعفریه", "مرکز جعفریه", "F-61"),
)
STREETS = ("بلوار امین", "خیابان صفائیه", "بلوار پیامبر اعظم", "خیابان معلم")


def bill_id(n: int) -> str:
    return make_bill_id(FIRST_FILE_NUMBER + n, 774)


def national_id(customer: int) -> str:
    """A valid national ID for customer number `customer` (a bijection on 9-digit bodies)."""
    body = f"{customer * 7919 % 10**9:09d}"
    remainder = sum(int(digit) * (10 - i) for i, digit in enumerate(body)) % 11
    code = body + str(remainder if remainder < 2 else 11 - remainder)
    try:
        return parse_national_id(code)
    except InvalidIdentifier:  # the few bodies never issued
        return ""


def write_subscriptions(path: Path, rows: int, rng: random.Random) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(SUBSCRIPTION_COLUMNS)
        for n in range(rows):
            city, area, feeder = PLACES[n % len(PLACES)]
            has_national_id = n % 5 != 4  # one in five without: a customer of its own
            # Every tenth subscription belongs to the customer of the one before.
            customer = n - 1 if n % 10 == 1 else n
            writer.writerow(
                (
                    bill_id(n),
                    str(4_100_000_000 + n),
                    rng.choice(NAMES),
                    national_id(customer + 1) if has_national_id else "",
                    f"0912{n % 10**7:07d}" if n % 3 else "",
                    f"{city}، {rng.choice(STREETS)}، کوچه {n % 50}، پلاک {n % 200}",
                    city,
                    area,
                    feeder,
                    "1-1" if n % 7 else "5-1",
                    "disconnected" if n % 97 == 0 else "",
                )
            )


def write_bills(path: Path, rows: int, per_subscription: int, rng: random.Random) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(BILL_COLUMNS)
        for n in range(rows):
            subscription_bill_id = bill_id(n)
            reading = 10_000 + n % 5_000
            for period in range(1, per_subscription + 1):  # one a month, within the month
                consumption = rng.randrange(80, 700)
                amount = (consumption * 1_500 // 1_000 + 1) * 1_000
                writer.writerow(
                    (
                        subscription_bill_id,
                        YEAR,
                        period,
                        f"{YEAR}/{period:02d}/01",
                        f"{YEAR}/{period:02d}/25",
                        reading,
                        reading + consumption,
                        consumption,
                        amount,
                        make_payment_id(amount, YEAR, period, subscription_bill_id),
                        f"{YEAR}/{period:02d}/29",
                        f"{YEAR}/{period:02d}/27" if rng.random() < 0.8 else "",
                    )
                )
                reading += consumption


def run_import(url: str, kind: str, path: Path, rows: int) -> None:
    """Runs the CLI import as its own process; prints its time, rate and peak memory."""
    env = os.environ | {"DATABASE_URL": url}
    command = [sys.executable, "-m", "backend", "import", kind.split()[0], str(path)]
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)  # this child's own rusage, not all children's
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        output, errors = stdout.read().strip(), stderr.read()
    if process.returncode != 0:
        sys.exit(f"{kind} import failed ({process.returncode}):\n{errors[-3000:]}")
    peak_mb = usage.ru_maxrss / 1024  # kilobytes on Linux
    cpu = usage.ru_utime + usage.ru_stime  # the importer's own; the database server's is not in it
    print(
        f"{kind:<22} {rows:>9} rows in {seconds:7.1f} s  {rows / seconds:8.0f} rows/s  "
        f"peak {peak_mb:6.0f} MB  (cpu {cpu:.0f} s; {output})",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000, help="subscriptions")
    parser.add_argument("--bills", type=int, default=2, help="bills per subscription (0-12)")
    parser.add_argument("--again", action="store_true", help="re-import the subscriptions too")
    args = parser.parse_args()
    if not 0 <= args.bills <= 12:
        parser.error("--bills is 0 to 12 (one bill a month of one year)")
    admin_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    name = f"desk_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        migrate(url)
        with tempfile.TemporaryDirectory() as folder:
            rng = random.Random(SEED)
            subscriptions, bills = Path(folder) / "subscriptions.csv", Path(folder) / "bills.csv"
            start = time.perf_counter()
            write_subscriptions(subscriptions, args.rows, rng)
            if args.bills:
                write_bills(bills, args.rows, args.bills, rng)
            megabytes = sum(p.stat().st_size for p in (subscriptions, bills) if p.exists()) / 2**20
            print(
                f"generated {args.rows} subscriptions and {args.rows * args.bills} bills "
                f"({megabytes:.0f} MB of CSV) in {time.perf_counter() - start:.1f} s; "
                f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
                flush=True,
            )
            run_import(url, "subscriptions", subscriptions, args.rows)
            if args.again:
                run_import(url, "subscriptions (again)", subscriptions, args.rows)
            if args.bills:
                run_import(url, "bills", bills, args.rows * args.bills)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


if __name__ == "__main__":
    main()
