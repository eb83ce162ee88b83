"""`python -m backend counters …`: a counter onboarded step by step, and imported from a CSV."""

from pathlib import Path

import pytest

from tests.staff.conftest import run_backend

PDF = b"%PDF-1.4 a scanned letter"
JPEG = b"\xff\xd8\xff\xe0 a scanned agreement"


@pytest.fixture
def desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A migrated SQLite desk whose files go to the test's folder; the scans to send."""
    monkeypatch.setenv("FILES_DIR", str(tmp_path / "files"))
    assert run_backend(tmp_path, "migrate").returncode == 0
    (tmp_path / "letter.pdf").write_bytes(PDF)
    (tmp_path / "agreement.jpg").write_bytes(JPEG)
    return tmp_path


def ok(desk: Path, *args: str) -> str:
    result = run_backend(desk, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def refused(desk: Path, *args: str) -> str:
    result = run_backend(desk, *args)
    assert result.returncode == 1, result.stdout
    return result.stderr


def test_a_counter_is_onboarded_from_the_command_line(desk: Path) -> None:
    ok(
        desk,
        "staff",
        "add",
        "--name",
        "سارا نوری",
        "--phone",
        "09141112233",
        "--role",
        "counter_operator",
    )
    added = ok(
        desk,
        *("counters", "add", "--code", "۱۴۰۱۰", "--name", "دفتر پیشخوان ولیعصر"),
        *("--city", "تبریز", "--area", "تبریز ۲", "--address", "خیابان ولیعصر، پلاک ۱۲"),
        *(
            "--phone",
            "041-33445566",
            "--manager",
            "رضا محمدی",
            "--letter",
            str(desk / "letter.pdf"),
        ),
    )
    assert added.startswith("counter introduced: 14010: دفتر پیشخوان ولیعصر, تبریز (تبریز ۲), ")
    assert "introduced, being vetted; files nothing yet; next step due 14" in added
    assert "a counter already has the code 14010" in refused(
        desk,
        *("counters", "add", "--code", "14010", "--name", "دفتر دیگر", "--city", "تبریز"),
        *("--area", "تبریز ۲", "--address", "خیابان امام", "--phone", "04133445500"),
        *("--manager", "علی رضایی", "--letter", str(desk / "letter.pdf")),
    )

    ok(desk, "counters", "step", "14010", "approve", "--note", "استعلام از فرمانداری مثبت بود")
    ok(desk, "counters", "step", "14010", "announce_prerequisites")
    assert "attach the scanned agreement (--document)" in refused(
        desk, "counters", "step", "14010", "sign_agreement", "--signed-on", "1405/08/15"
    )
    agreement = ("--document", str(desk / "agreement.jpg"))
    assert (
        "--signed-on 1405/08/32: no such jalali date"
        in refused(
            desk,
            "counters",
            "step",
            "14010",
            "sign_agreement",
            *agreement,
            "--signed-on",
            "1405/08/32",
        ).lower()
    )
    ok(desk, "counters", "step", "14010", "sign_agreement", *agreement, "--signed-on", "1405/08/15")
    ok(desk, "counters", "step", "14010", "install_software")
    assert "no operator works at the counter yet" in refused(
        desk, "counters", "step", "14010", "train_operator"
    )
    assert "now works at counter 14010" in ok(
        desk, "counters", "operator", "14010", "--phone", "0914 111 2233"
    )
    ok(desk, "counters", "step", "14010", "train_operator")
    assert "no service is delegated to the counter yet" in refused(
        desk, "counters", "step", "14010", "activate"
    )
    assert ok(desk, "counters", "delegate", "14010", "bill_review", "connection_removal") == (
        "counter 14010 now files bill review, connection removal\n"
    )
    assert ok(desk, "counters", "delegate", "14010", "bill_review") == (
        "counter 14010 now files bill review\n"
    )
    active = ok(desk, "counters", "step", "14010", "activate")
    assert active.endswith("active; files bill review\n")
    assert "give the reason (--reason)" in refused(desk, "counters", "step", "14010", "suspend")
    assert "the counter is active: this step does not come now" in refused(
        desk, "counters", "step", "14010", "approve"
    )
    ok(desk, "counters", "step", "14010", "suspend", "--reason", "poor_inspection")
    listed = ok(desk, "counters", "list")
    assert listed.endswith("suspended (poor inspection); files bill review\n")
    assert "no counter has the code 99999" in refused(desk, "counters", "step", "99999", "approve")


def write_csv(desk: Path, *rows: str) -> Path:
    path = desk / "counters.csv"
    header = "code,name,city,area,address,phone,manager,letter,services"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_counters_are_imported_all_or_none_with_line_numbers(desk: Path) -> None:
    bad = write_csv(
        desk,
        "14010,دفتر یک,تبریز,تبریز ۲,خیابان امام,041-33445566,رضا محمدی,letter.pdf,bill_review",
        "14011,دفتر دو,مراغه,مراغه,خیابان شهید بهشتی,33445566,مریم احمدی,letter.pdf,",
        "14010,دفتر سه,تبریز,تبریز ۱,خیابان شریعتی,04135556677,علی رضایی,missing.pdf,",
        "14012,دفتر چهار,تبریز,تبریز ۱,خیابان شریعتی,04135556677,علی رضایی,letter.pdf,meter_read",
    )
    errors = refused(desk, "counters", "import", str(bad))
    assert "line 3: not a phone number with its area code: 33445566" in errors
    assert "line 4: letter missing.pdf: cannot be read" in errors
    assert "line 5: unknown service 'meter_read'" in errors
    assert "nothing imported: 3 error(s)" in errors
    assert "no counters yet" in ok(desk, "counters", "list")

    good = write_csv(
        desk,
        "14010,دفتر یک,تبریز,تبریز ۲,خیابان امام,041-33445566,رضا محمدی,letter.pdf,bill_review",
        # A service defined as data is delegated as a built one is.
        "14011,دفتر دو,مراغه,مراغه,خیابان بهشتی,04137223344,مریم احمدی,letter.pdf,meter_test",
    )
    assert ok(desk, "counters", "import", str(good)) == "imported: 2 created, 0 updated\n"
    listed = ok(desk, "counters", "list").splitlines()
    assert [line.split(":")[0] for line in listed] == ["14010", "14011"]
    assert "introduced, being vetted; files bill review" in listed[0]
    assert "files meter test" in listed[1]
    again = refused(desk, "counters", "import", str(good))
    assert "line 2: a counter already has the code 14010" in again
