"""CSV imports of subscriptions and bills: validation of every row, all or nothing, upserts."""

import csv
import io
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import jdatetime
import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from backend import importers
from backend.constants import SubscriptionStatus
from backend.db import session_scope
from backend.identifiers import make_bill_id, make_payment_id
from backend.importers import (
    BILL_COLUMNS,
    SUBSCRIPTION_COLUMNS,
    ImportFailed,
    ImportResult,
    import_bills,
    import_subscriptions,
)
from backend.models import Bill, Customer, Subscription

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BILL_A = make_bill_id(12345678, 774)
BILL_B = make_bill_id(87654322, 774)
NATIONAL_ID_A = "0372045189"
NATIONAL_ID_B = "0381127303"
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def write_csv(path: Path, rows: list[dict[str, str]], *, bom: bool = False) -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(("\ufeff" if bom else "") + buffer.getvalue(), encoding="utf-8")
    return path


def subscription_row(bill_id: str = BILL_A, **changes: str) -> dict[str, str]:
    row = {
        "bill_id": bill_id,
        "subscription_number": "4100123456" if bill_id == BILL_A else "4100654321",
        "full_name": "سمیه جعفری",
        "national_id": NATIONAL_ID_A,
        "mobile": "0912 123 4567",
        "address": "قم، زنبیل‌آباد، بلوار جمهوری اسلامی، کوچه ۱۸، پلاک ۶۹",
        "city": "قم",
        "area": "زنبیل‌آباد",
        "feeder": "F-23",
        "tariff": "1-1",
        "status": "",
    }
    return row | changes


def bill_row(
    bill_id: str = BILL_A, year: int = 1404, period: int = 5, amount: int = 90_000, **changes: str
) -> dict[str, str]:
    row = {
        "bill_id": bill_id,
        "jalali_year": str(year),
        "period": str(period),
        "previous_reading_date": f"{year}/09/11",
        "current_reading_date": f"{year}/11/11",
        "previous_reading": "23395",
        "current_reading": "23678",
        "consumption_kwh": "283",
        "amount_rials": str(amount),
        "payment_id": make_payment_id(amount, year, period, bill_id),
        "due_date": f"{year}/11/25",
        "paid_date": f"{year}/11/20",
    }
    return row | changes


def count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def import_two_subscriptions(session: Session, tmp_path: Path) -> None:
    rows = [subscription_row(), subscription_row(BILL_B, national_id=NATIONAL_ID_B, mobile="")]
    import_subscriptions(session, write_csv(tmp_path / "subscriptions.csv", rows))
    session.commit()


def test_the_column_lists_are_the_documented_ones() -> None:
    documented = (PROJECT_ROOT / "docs" / "import-formats.md").read_text(encoding="utf-8")
    for column in [*SUBSCRIPTION_COLUMNS, *BILL_COLUMNS]:
        assert f"`{column}`" in documented


def test_import_subscriptions_creates_subscriptions_and_customers(
    session: Session, tmp_path: Path
) -> None:
    rows = [
        subscription_row(),
        subscription_row(
            BILL_B, national_id="", mobile="", full_name="رضا محمدی", status="disconnected"
        ),
    ]
    result = import_subscriptions(session, write_csv(tmp_path / "s.csv", rows))
    session.commit()

    assert result == ImportResult(created=2, updated=0)
    first = session.exec(select(Subscription).where(Subscription.bill_id == BILL_A)).one()
    assert (first.city, first.area, first.feeder, first.tariff, first.status) == (
        "قم",
        "زنبیل‌آباد",
        "F-23",
        "1-1",
        SubscriptionStatus.ACTIVE,
    )
    customer = session.get(Customer, first.customer_id)
    assert customer is not None
    assert (customer.full_name, customer.national_id, customer.mobile) == (
        "سمیه جعفری",
        NATIONAL_ID_A,
        "+989121234567",
    )
    second = session.exec(select(Subscription).where(Subscription.bill_id == BILL_B)).one()
    assert second.status == SubscriptionStatus.DISCONNECTED
    anonymous = session.get(Customer, second.customer_id)
    assert anonymous is not None
    assert (anonymous.national_id, anonymous.mobile) == (None, None)


def test_one_customer_for_subscriptions_with_the_same_national_id(
    session: Session, tmp_path: Path
) -> None:
    rows = [subscription_row(), subscription_row(BILL_B, tariff="5-1")]
    import_subscriptions(session, write_csv(tmp_path / "s.csv", rows))
    session.commit()

    assert count(session, Customer) == 1
    assert len(set(session.exec(select(Subscription.customer_id)).all())) == 1


def test_persian_digits_arabic_letters_and_bom(session: Session, tmp_path: Path) -> None:
    row = subscription_row(
        bill_id=BILL_A.translate(PERSIAN),
        subscription_number="۴۱۰۰۱۲۳۴۵۶",
        full_name="علي  كريمي",  # Arabic yeh and kaf, two spaces
        national_id=NATIONAL_ID_A.translate(PERSIAN),
        mobile="۰۹۱۲-۱۲۳-۴۵۶۷",
        address="قم، خيابان صفائيه، كوچه ۳",
        city="قم",
        feeder="F-۲۳",
        tariff="۱-۱",
    )
    import_subscriptions(session, write_csv(tmp_path / "s.csv", [row], bom=True))
    amount = 1_234_000
    bill = bill_row(
        amount=amount,
        year=1404,
        period=5,
        previous_reading_date="۱۴۰۴/۰۹/۱۱",
        current_reading_date="١٤٠٤/١١/١١",  # Arabic-Indic digits
        previous_reading="۲۳۳۹۵",
        current_reading="۲۳۶۷۸",
        consumption_kwh="۲۸۳",
        amount_rials="۱٬۲۳۴٬۰۰۰",  # Persian thousands separator
        payment_id=make_payment_id(amount, 1404, 5, BILL_A).translate(PERSIAN),
        due_date="۱۴۰۴/۱۱/۲۵",
        paid_date="۱۴۰۴/۱۱/۲۰",
    ) | {"jalali_year": "۱۴۰۴", "period": "۵"}
    import_bills(session, write_csv(tmp_path / "b.csv", [bill], bom=True))
    session.commit()

    subscription = session.exec(select(Subscription)).one()
    assert subscription.bill_id == BILL_A
    assert subscription.subscription_number == "4100123456"
    assert subscription.address == "قم، خیابان صفائیه، کوچه ۳"  # Persian letters; digits as typed
    assert (subscription.feeder, subscription.tariff) == ("F-23", "1-1")
    customer = session.get(Customer, subscription.customer_id)
    assert customer is not None
    assert (customer.full_name, customer.national_id, customer.mobile) == (
        "علی کریمی",
        NATIONAL_ID_A,
        "+989121234567",
    )
    stored = session.exec(select(Bill)).one()
    assert stored.previous_reading_date == jdatetime.date(1404, 9, 11).togregorian()
    assert stored.current_reading_date == date(2026, 1, 31)  # 1404/11/11
    assert (stored.consumption_kwh, stored.amount_rials) == (283, amount)
    assert stored.payment_id == make_payment_id(amount, 1404, 5, BILL_A)
    # Paid on 1404/11/20 = 2026-02-09, at noon in Tehran (UTC+03:30, no daylight saving).
    assert stored.paid_at == datetime(2026, 2, 9, 8, 30, tzinfo=UTC)


def test_two_bad_subscription_rows_are_both_reported_and_nothing_is_written(
    session: Session, tmp_path: Path
) -> None:
    wrong_check_digit = BILL_B[:-1] + str((int(BILL_B[-1]) + 1) % 10)
    rows = [
        subscription_row(),
        subscription_row(wrong_check_digit, national_id=NATIONAL_ID_B),
        subscription_row(make_bill_id(11111111, 774), subscription_number="1", national_id=""),
        subscription_row(
            make_bill_id(22222222, 774), subscription_number="2", full_name=" ", mobile="12345"
        ),
    ]
    path = write_csv(tmp_path / "s.csv", rows)

    with pytest.raises(ImportFailed) as failure:
        import_subscriptions(session, path)

    assert [str(error) for error in failure.value.errors] == [
        f"line 3: bill_id {wrong_check_digit}: wrong check digit",
        "line 5: full_name is empty",
        "line 5: mobile 12345: not an Iranian mobile number",
    ]
    session.rollback()
    assert count(session, Subscription) == 0
    assert count(session, Customer) == 0


def test_duplicates_within_a_file_are_errors(session: Session, tmp_path: Path) -> None:
    rows = [subscription_row(), subscription_row(subscription_number="42")]
    with pytest.raises(ImportFailed) as failure:
        import_subscriptions(session, write_csv(tmp_path / "s.csv", rows))
    assert [str(error) for error in failure.value.errors] == [
        f"line 3: bill_id {BILL_A} repeats line 2"
    ]


def test_subscription_number_may_not_move_to_another_bill_id(
    session: Session, tmp_path: Path
) -> None:
    import_two_subscriptions(session, tmp_path)
    row = subscription_row(make_bill_id(33333333, 774), subscription_number="4100123456")
    with pytest.raises(ImportFailed) as failure:
        import_subscriptions(session, write_csv(tmp_path / "s2.csv", [row]))
    assert [str(error) for error in failure.value.errors] == [
        f"line 2: subscription_number 4100123456 already belongs to bill_id {BILL_A}"
    ]


def test_reimporting_subscriptions_updates_them(session: Session, tmp_path: Path) -> None:
    import_two_subscriptions(session, tmp_path)
    customer_id = session.exec(
        select(Subscription.customer_id).where(Subscription.bill_id == BILL_A)
    ).one()
    rows = [
        subscription_row(address="قم، پردیسان، بلوار امین", feeder="F-12", mobile=""),
        subscription_row(BILL_B, national_id=NATIONAL_ID_B, full_name="زهرا رضایی"),
        subscription_row(make_bill_id(44444444, 774), subscription_number="9", national_id=""),
    ]
    result = import_subscriptions(session, write_csv(tmp_path / "s2.csv", rows))
    session.commit()

    assert result == ImportResult(created=1, updated=2)
    first = session.exec(select(Subscription).where(Subscription.bill_id == BILL_A)).one()
    assert (first.address, first.feeder, first.customer_id) == (
        "قم، پردیسان، بلوار امین",
        "F-12",
        customer_id,
    )
    customer = session.get(Customer, customer_id)
    assert customer is not None
    assert customer.mobile == "+989121234567"  # an empty mobile keeps the known one
    second = session.exec(select(Subscription).where(Subscription.bill_id == BILL_B)).one()
    renamed = session.get(Customer, second.customer_id)
    assert renamed is not None
    assert (renamed.full_name, renamed.mobile) == ("زهرا رضایی", "+989121234567")
    assert count(session, Subscription) == 3
    assert count(session, Customer) == 3


def test_a_national_id_given_later_identifies_the_same_customer(
    session: Session, tmp_path: Path
) -> None:
    import_subscriptions(session, write_csv(tmp_path / "s.csv", [subscription_row(national_id="")]))
    session.commit()
    customer_id = session.exec(select(Subscription.customer_id)).one()

    import_subscriptions(session, write_csv(tmp_path / "s2.csv", [subscription_row()]))
    session.commit()

    assert session.exec(select(Subscription.customer_id)).one() == customer_id
    customer = session.get(Customer, customer_id)
    assert customer is not None
    assert customer.national_id == NATIONAL_ID_A
    assert count(session, Customer) == 1


def test_header_problems_are_reported_on_line_1(session: Session, tmp_path: Path) -> None:
    row = subscription_row()
    del row["city"]
    row["nationl_id"] = "x"
    with pytest.raises(ImportFailed) as failure:
        import_subscriptions(session, write_csv(tmp_path / "s.csv", [row]))
    assert [str(error) for error in failure.value.errors] == [
        "line 1: unknown column 'nationl_id'",
        "line 1: missing column 'city'",
    ]


def test_optional_columns_may_be_left_out(session: Session, tmp_path: Path) -> None:
    row = subscription_row()
    for column in ("national_id", "mobile", "status"):
        del row[column]
    assert import_subscriptions(session, write_csv(tmp_path / "s.csv", [row])).created == 1


def test_empty_file_and_wrong_field_count(session: Session, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"\xef\xbb\xbf")
    with pytest.raises(ImportFailed) as failure:
        import_bills(session, empty)
    assert [error.line for error in failure.value.errors] == [1]

    short = tmp_path / "short.csv"
    short.write_text(",".join(BILL_COLUMNS) + "\n\n" + BILL_A + ",1404\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as failure:
        import_bills(session, short)
    assert [str(error) for error in failure.value.errors] == ["line 3: 2 fields, the header has 12"]


def test_import_bills_and_reimport_updates_them(session: Session, tmp_path: Path) -> None:
    import_two_subscriptions(session, tmp_path)
    rows = [bill_row(), bill_row(BILL_B, paid_date=""), bill_row(period=6, amount=77_000)]
    result = import_bills(session, write_csv(tmp_path / "b.csv", rows))
    session.commit()
    assert result == ImportResult(created=3, updated=0)
    unpaid = session.exec(select(Bill).where(col(Bill.paid_at).is_(None))).one()
    assert unpaid.payment_id == make_payment_id(90_000, 1404, 5, BILL_B)

    # A correction of period 5 exists; re-importing updates the original bill only.
    original = session.exec(select(Bill).where(Bill.payment_id == rows[0]["payment_id"])).one()
    correction = Bill.model_validate(
        original.model_dump(exclude={"id", "created_at"}) | {"corrects_bill_id": original.id}
    )
    session.add(correction)
    session.commit()
    rows = [bill_row(BILL_B), bill_row(amount=45_000, paid_date="")]
    result = import_bills(session, write_csv(tmp_path / "b2.csv", rows))
    session.commit()

    assert result == ImportResult(created=0, updated=2)
    assert count(session, Bill) == 4
    session.refresh(original)
    session.refresh(correction)
    assert (original.amount_rials, original.paid_at) == (45_000, None)
    assert correction.amount_rials == 90_000
    assert session.exec(select(Bill).where(col(Bill.paid_at).is_(None))).all() == [original]


def test_two_bad_bill_rows_are_both_reported_and_nothing_is_written(
    session: Session, tmp_path: Path
) -> None:
    import_two_subscriptions(session, tmp_path)
    rows = [
        bill_row(),
        bill_row(BILL_B, consumption_kwh="300"),
        bill_row(period=6),
        bill_row(
            period=4,
            amount_rials="91000",
            due_date="1404/12/30",  # 1404 is not a leap year
            current_reading_date="2026/01/31",  # a Gregorian date
        ),
    ]
    with pytest.raises(ImportFailed) as failure:
        import_bills(session, write_csv(tmp_path / "b.csv", rows))

    assert [str(error) for error in failure.value.errors] == [
        "line 3: consumption_kwh 300: current_reading - previous_reading is 283",
        "line 5: current_reading_date 2026/01/31: year out of range (dates are Jalali, YYYY/MM/DD)",
        "line 5: due_date 1404/12/30: no such Jalali date",
    ]
    session.rollback()
    assert count(session, Bill) == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"payment_id": make_payment_id(91_000, 1404, 5, BILL_A)},
            f"payment_id {make_payment_id(91_000, 1404, 5, BILL_A)}: its amount is 91000 rials, "
            "amount_rials is 90000",
        ),
        (
            {"payment_id": make_payment_id(90_000, 1404, 5, BILL_B)},
            f"payment_id {make_payment_id(90_000, 1404, 5, BILL_B)}: wrong check digit",
        ),
        (
            {"payment_id": make_payment_id(90_000, 1403, 4, BILL_A)},
            f"payment_id {make_payment_id(90_000, 1403, 4, BILL_A)}: it is for year digit 3 "
            "and period 4, the row is for 1404 period 5",
        ),
        ({"amount_rials": "90500"}, "amount_rials 90500: not a multiple of 1000 rials"),
        (
            {"current_reading": "23000", "consumption_kwh": "0"},
            "current_reading 23000: less than previous_reading 23395",
        ),
        (
            {"current_reading_date": "1404/09/11"},
            "current_reading_date 1404/09/11: not after previous_reading_date 1404/09/11",
        ),
        ({"period": "13"}, "period 13: must be between 1 and 12"),
        ({"previous_reading": "12.5"}, "previous_reading 12.5: not a whole number"),
        (
            {"bill_id": make_bill_id(12345678, 774, service_type=1)},
            f"bill_id {make_bill_id(12345678, 774, service_type=1)}: not an electricity bill ID "
            "(its service-type digit is not 2)",
        ),
        (
            {"bill_id": make_bill_id(99999999, 774)},
            f"bill_id {make_bill_id(99999999, 774)}: no such subscription (import it first)",
        ),
    ],
)
def test_bill_rules(
    session: Session, tmp_path: Path, changes: dict[str, str], message: str
) -> None:
    import_two_subscriptions(session, tmp_path)
    row = bill_row() | changes
    with pytest.raises(ImportFailed) as failure:
        import_bills(session, write_csv(tmp_path / "b.csv", [bill_row(period=1), row]))
    messages = [str(error) for error in failure.value.errors]
    assert f"line 3: {message}" in messages
    assert all(text.startswith("line 3: ") for text in messages)


def test_cli_import_exits_1_and_writes_nothing(
    session: Session, engine: sa.Engine, database_url: str, tmp_path: Path
) -> None:
    import_two_subscriptions(session, tmp_path)
    session.close()
    bad = write_csv(tmp_path / "bad.csv", [bill_row(), bill_row(BILL_B, consumption_kwh="1")])
    env = os.environ | {"DATABASE_URL": database_url}

    def run(path: Path) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "backend", "import", "bills", str(path)]
        return subprocess.run(
            command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60
        )

    failed = run(bad)
    assert failed.returncode == 1, failed.stderr
    assert "line 3: consumption_kwh 1" in failed.stderr
    with Session(engine) as check:
        assert count(check, Bill) == 0

    good = write_csv(tmp_path / "good.csv", [bill_row(), bill_row(BILL_B)])
    succeeded = run(good)
    assert succeeded.returncode == 0, succeeded.stderr
    assert succeeded.stdout.strip() == "imported: 2 created, 0 updated"
    with Session(engine) as check:
        assert count(check, Bill) == 2


def test_the_documented_examples_import(session: Session, tmp_path: Path) -> None:
    documented = (PROJECT_ROOT / "docs" / "import-formats.md").read_text(encoding="utf-8")
    blocks = [block.split("```")[0] for block in documented.split("```csv\n")[1:]]
    subscriptions, bills = blocks[:2]  # the planned outages' example is tests/outages' own
    (tmp_path / "s.csv").write_text(subscriptions, encoding="utf-8")
    (tmp_path / "b.csv").write_text(bills, encoding="utf-8")

    assert import_subscriptions(session, tmp_path / "s.csv") == ImportResult(2, 0)
    assert import_bills(session, tmp_path / "b.csv") == ImportResult(2, 0)
    names = set(session.exec(select(Customer.full_name)))
    assert names == {"مریم احمدی", "رضا محمدی"}


# --- Streaming: batches, the error cap, all or nothing across batches -------------------------


def numbered_subscriptions(count: int) -> list[dict[str, str]]:
    """`count` subscriptions; rows 0 and 12 share a customer (national ID A), row 7 has B."""
    national_ids = {0: NATIONAL_ID_A, 7: NATIONAL_ID_B, 12: NATIONAL_ID_A}
    return [
        subscription_row(
            make_bill_id(20_000 + n, 774),
            subscription_number=str(5_000 + n),
            full_name=f"مشترک {n}",
            national_id=national_ids.get(n, ""),
            mobile=f"0912{n:07d}",
        )
        for n in range(count)
    ]


def numbered_bills(count: int, periods: int = 2) -> list[dict[str, str]]:
    return [
        bill_row(make_bill_id(20_000 + n, 774), period=period)
        for n in range(count)
        for period in range(1, periods + 1)
    ]


def test_a_file_of_many_batches_is_imported_whole(session: Session, tmp_path: Path) -> None:
    subscriptions = write_csv(tmp_path / "s.csv", numbered_subscriptions(23))
    bills = write_csv(tmp_path / "b.csv", numbered_bills(23))

    assert import_subscriptions(session, subscriptions, batch_size=5) == ImportResult(23, 0)
    assert import_bills(session, bills, batch_size=4) == ImportResult(46, 0)
    session.commit()

    assert (count(session, Subscription), count(session, Bill)) == (23, 46)
    # Rows 0 and 12 are in different batches and still one customer, named by the later row.
    assert count(session, Customer) == 22
    shared = session.exec(select(Customer).where(Customer.national_id == NATIONAL_ID_A)).one()
    owned = select(Subscription.subscription_number).where(Subscription.customer_id == shared.id)
    assert sorted(session.exec(owned)) == ["5000", "5012"]
    assert (shared.full_name, shared.mobile) == ("مشترک 12", "+989120000012")
    last = session.exec(select(Subscription).where(Subscription.subscription_number == "5022"))
    assert last.one().feeder == "F-23"

    # Again, in other batches: every row is an update, nothing is added.
    assert import_subscriptions(session, subscriptions, batch_size=7) == ImportResult(0, 23)
    assert import_bills(session, bills, batch_size=10) == ImportResult(0, 46)
    session.commit()
    assert (count(session, Customer), count(session, Subscription), count(session, Bill)) == (
        22,
        23,
        46,
    )


def test_a_bad_last_row_writes_nothing_of_the_batches_before_it(
    session: Session, tmp_path: Path
) -> None:
    rows = numbered_subscriptions(12)
    rows[-1]["mobile"] = "12345"
    path = write_csv(tmp_path / "s.csv", rows)

    with pytest.raises(ImportFailed) as failure:
        import_subscriptions(session, path, batch_size=5)

    assert [str(error) for error in failure.value.errors] == [
        "line 13: mobile 12345: not an Iranian mobile number"
    ]
    session.rollback()
    assert (count(session, Subscription), count(session, Customer)) == (0, 0)


def test_a_repeat_is_reported_with_the_line_it_repeats_in_an_earlier_batch(
    session: Session, tmp_path: Path
) -> None:
    subscriptions = numbered_subscriptions(9)
    subscriptions[8] |= {"bill_id": subscriptions[1]["bill_id"]}
    subscriptions[6] |= {"subscription_number": "5000"}
    with pytest.raises(ImportFailed) as failure:
        import_subscriptions(session, write_csv(tmp_path / "s.csv", subscriptions), batch_size=2)
    assert [str(error) for error in failure.value.errors] == [
        "line 8: subscription_number 5000 repeats line 2",
        f"line 10: bill_id {subscriptions[1]['bill_id']} repeats line 3",
    ]

    import_subscriptions(session, write_csv(tmp_path / "ok.csv", numbered_subscriptions(3)))
    bills = [*numbered_bills(3), bill_row(make_bill_id(20_001, 774), period=1)]
    with pytest.raises(ImportFailed) as failure:
        import_bills(session, write_csv(tmp_path / "b.csv", bills), batch_size=2)
    assert [str(error) for error in failure.value.errors] == [
        f"line 8: bill_id {make_bill_id(20_001, 774)} year 1404 period 1 repeats line 4"
    ]


def test_errors_beyond_the_cap_are_counted_not_kept(session: Session, tmp_path: Path) -> None:
    import_two_subscriptions(session, tmp_path)
    rows = numbered_subscriptions(1100)
    for row in rows[1:]:
        row["tariff"] = "x"
    # The first row is checked against the database once its batch is full, at the end of the
    # file: after a thousand later errors, and still kept before them.
    rows[0]["subscription_number"] = "4100123456"
    path = write_csv(tmp_path / "s.csv", rows)

    with pytest.raises(ImportFailed) as failure:
        import_subscriptions(session, path, batch_size=4, max_errors=3)

    assert failure.value.error_count == 1100
    assert [str(error) for error in failure.value.errors] == [
        f"line 2: subscription_number 4100123456 already belongs to bill_id {BILL_A}",
        "line 3: tariff x: not a tariff code like 1-1",
        "line 4: tariff x: not a tariff code like 1-1",
    ]
    assert str(failure.value) == "1100 error(s), nothing imported"

    rows = numbered_subscriptions(5)
    rows[3]["subscription_number"] = "4100123456"
    rows[4]["tariff"] = "x"
    path = write_csv(tmp_path / "s2.csv", rows)
    with pytest.raises(ImportFailed) as failure:
        import_subscriptions(session, path, batch_size=5, max_errors=1)
    assert failure.value.error_count == 2
    assert [str(error) for error in failure.value.errors] == [
        f"line 5: subscription_number 4100123456 already belongs to bill_id {BILL_A}"
    ]


def test_cli_lists_the_first_thousand_errors_and_counts_the_rest(
    database_url: str, engine: sa.Engine, tmp_path: Path
) -> None:
    rows = [subscription_row(make_bill_id(30_000 + n, 774), mobile="12") for n in range(1003)]
    path = write_csv(tmp_path / "s.csv", rows)
    command = [sys.executable, "-m", "backend", "import", "subscriptions", str(path)]
    env = os.environ | {"DATABASE_URL": database_url}
    failed = subprocess.run(
        command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120
    )

    assert failed.returncode == 1
    lines = failed.stderr.splitlines()
    assert len(lines) == importers.MAX_ERRORS + 2
    assert lines[0] == "line 2: mobile 12: not an Iranian mobile number"
    assert lines[-2:] == ["… and 3 more error(s), not listed", "nothing imported: 1003 error(s)"]


def test_a_failure_while_writing_rolls_back_the_batches_written(
    session: Session, engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_csv(tmp_path / "s.csv", numbered_subscriptions(12))
    write = importers._write_subscriptions
    batches: list[int] = []

    def fail_on_the_third_batch(*args: object) -> int:
        batches.append(len(batches))
        if len(batches) == 3:
            raise RuntimeError("the database went away")
        return write(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(importers, "_write_subscriptions", fail_on_the_third_batch)
    with pytest.raises(RuntimeError), session_scope(engine) as scope:
        import_subscriptions(scope, path, batch_size=5)

    assert len(batches) == 3
    assert (count(session, Subscription), count(session, Customer)) == (0, 0)


def test_a_file_changed_between_the_passes_is_refused(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_csv(tmp_path / "s.csv", numbered_subscriptions(3))
    check = importers._check_subscriptions

    def check_then_edit(*args: object) -> int:
        checked = check(*args)  # type: ignore[arg-type]
        with path.open("a", encoding="utf-8") as file:
            file.write(",".join(subscription_row(make_bill_id(40_000, 774)).values()) + "\n")
        return checked

    monkeypatch.setattr(importers, "_check_subscriptions", check_then_edit)
    with pytest.raises(ImportFailed) as failure:
        import_subscriptions(session, path)
    assert [str(error) for error in failure.value.errors] == [
        "line 1: the file changed while it was being imported: import it again"
    ]
    session.rollback()
    assert count(session, Subscription) == 0


def test_a_byte_that_is_not_utf8_ends_the_file_at_its_line(
    session: Session, tmp_path: Path
) -> None:
    rows = [subscription_row(), subscription_row(BILL_B, mobile="12")]
    path = write_csv(tmp_path / "s.csv", rows)
    # A row saved as Windows-1256 (Excel's "CSV", not "CSV UTF-8"), then one never read.
    third = ",".join(subscription_row(make_bill_id(40_000, 774), national_id="").values())
    path.write_bytes(
        path.read_bytes() + third.encode("cp1256", errors="replace") + b"\n" + b"a,b\n"
    )

    with pytest.raises(ImportFailed) as failure:
        import_subscriptions(session, path)
    assert [str(error) for error in failure.value.errors] == [
        "line 3: mobile 12: not an Iranian mobile number",
        "line 4: not UTF-8 text: save the file as CSV UTF-8",
    ]


def test_old_mac_line_ends(session: Session, tmp_path: Path) -> None:
    rows = [subscription_row(), subscription_row(BILL_B, national_id=NATIONAL_ID_B)]
    text = write_csv(tmp_path / "s.csv", rows).read_text(encoding="utf-8").replace("\n", "\r")
    path = tmp_path / "mac.csv"
    path.write_text(text, encoding="utf-8", newline="")
    assert import_subscriptions(session, path) == ImportResult(2, 0)
