"""`python -m backend outages import` and `readings export` on a migrated SQLite desk."""

from pathlib import Path

from tests.staff.conftest import run_backend


def test_the_schedule_is_imported_and_the_readings_exported_from_the_command_line(
    tmp_path: Path,
) -> None:
    assert run_backend(tmp_path, "seed-demo").returncode == 0
    schedule = tmp_path / "schedule.csv"
    schedule.write_text(
        "feeder,city,area,date,start,end,reason\n"
        ",قم,,1409/01/05,09:00,12:00,تعمیرات\n"
        "F-404,,,1409/01/05,09:00,12:00,\n",
        encoding="utf-8",
    )
    refused = run_backend(tmp_path, "outages", "import", str(schedule))
    assert refused.returncode == 1
    assert "line 3: feeder F-404: no subscription is on it" in refused.stderr
    schedule.write_text(
        "feeder,city,area,date,start,end,reason\n,قم,,1409/01/05,09:00,12:00,تعمیرات\n",
        encoding="utf-8",
    )
    imported = run_backend(tmp_path, "outages", "import", str(schedule))
    assert imported.returncode == 0 and "1 created, 0 updated" in imported.stdout

    out = tmp_path / "readings.csv"
    exported = run_backend(
        tmp_path,
        "readings",
        "export",
        "--from",
        "1404/01/01",
        "--to",
        "1404/12/29",
        "--out",
        str(out),
    )
    assert exported.returncode == 0, exported.stderr
    assert out.read_text(encoding="utf-8").splitlines()[0].startswith("tracking_code,bill_id")
    bad = run_backend(
        tmp_path,
        "readings",
        "export",
        "--from",
        "1404/13/01",
        "--to",
        "1404/12/29",
        "--out",
        str(out),
    )
    assert bad.returncode == 2 and "--from 1404/13/01" in bad.stderr
