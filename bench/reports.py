"""The year's compliance report over the province database: time and peak memory.

    .venv/bin/python bench/reports.py [--database URL] [--rounds 3]

Runs, on the database bench/province.py seeds (`desk_province`: 200,000 requests and their
events over the last year; read only), what /report and the export's tables compute for a
whole year: the total, by service, by step, by week and service (the chart's bars), by area,
channel, staff member and counter. Prints each one's time (the median of --rounds) and the
process's peak memory (tracemalloc's peak of Python allocations, and the resident maximum):
the figures are SQL aggregates, so neither grows with the requests.
"""

import argparse
import os
import resource
import statistics
import sys
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlmodel import Session  # noqa: E402

from backend.compliance import Dimension, compliance  # noqa: E402
from backend.db import make_engine  # noqa: E402
from backend.models import utcnow  # noqa: E402
from backend.periods import Period, local_day  # noqa: E402
from backend.settings import get_settings  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/desk_province"
D = Dimension
REPORTS: dict[str, tuple[Dimension, ...]] = {
    "total": (),
    "by service": (D.SERVICE,),
    "by step": (D.STEP,),
    "by week and service": (D.WEEK, D.SERVICE),
    "by area": (D.AREA,),
    "by channel": (D.CHANNEL,),
    "by staff member": (D.STAFF,),
    "by counter": (D.COUNTER,),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    engine = make_engine(args.database)
    now = utcnow()
    year = Period(local_day(now) - timedelta(days=365), local_day(now))
    settings = get_settings()
    tracemalloc.start()
    print(f"{'report':22} {'groups':>7} {'steps':>8} {'median s':>9}")
    for name, dimensions in REPORTS.items():
        times = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            with Session(engine) as session:
                rows = compliance(
                    session, period=year, dimensions=dimensions, now=now, settings=settings
                )
            times.append(time.perf_counter() - started)
        steps = sum(row.figures.steps for row in rows)
        print(f"{name:22} {len(rows):>7} {steps:>8} {statistics.median(times):>9.2f}")
    _, peak = tracemalloc.get_traced_memory()
    resident = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak Python allocations {peak / 2**20:.1f} MB, resident maximum {resident:.0f} MB")


if __name__ == "__main__":
    main()
