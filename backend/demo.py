"""Deterministic demo data: Qom-province customers, subscriptions and a year of bills."""

import random
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction

import jdatetime
from sqlmodel import Session, col, select

from backend.identifiers import make_bill_id, make_payment_id
from backend.models import Bill, Customer, Subscription
from backend.settings import local_zone

SEED = 1405
COMPANY_CODE = 774  # the demo distribution company's code inside every bill ID
SUBSCRIPTIONS = 30
# A year and one period: the latest bill has the same season a year before to be compared with.
BILLS_PER_SUBSCRIPTION = 7
# The demo's "today", fixed so that every run makes the same bills: the latest bill is the last
# bi-monthly period whose readings were all taken before it.
REFERENCE_DATE = jdatetime.date(1405, 7, 25).togregorian()
# Meters are read on a route: each subscription on its own day of the month, up to this one.
LAST_READING_DAY = 20
DUE_AFTER_DAYS = 14
SAMPLE_INDEX = 0  # the subscription the README points at; its latest bill is suspiciously high
SUSPICIOUS_FACTOR = 3.6

# Demo prices, not the official ones: rials per kWh for each step of monthly consumption (the
# last step has no upper bound). A bill's steps are stretched to its days (x days / 30).
TARIFF_STEPS: dict[str, tuple[tuple[int | None, int], ...]] = {
    "1-1": (  # household
        (100, 277),
        (200, 323),
        (300, 692),
        (400, 1199),
        (500, 1384),
        (600, 1845),
        (None, 2722),
    ),
    "5-1": ((None, 3104),),  # commercial ("other uses"): one price
}
TAX_PERCENT = 10

# Bi-monthly period -> consumption relative to the year's average; period 1 is Farvardin and
# Ordibehesht. Qom summers (periods 2-3) run air conditioners; winters are heated with gas.
SEASON = {1: 0.85, 2: 1.35, 3: 1.6, 4: 0.9, 5: 1.0, 6: 1.05}

# City -> area -> feeders.
PLACES: dict[str, dict[str, tuple[str, ...]]] = {
    "قم": {
        "پردیسان": ("F-12", "F-14"),
        "صفاشهر": ("F-21", "فیدر صفائیه"),
        "زنبیل‌آباد": ("F-23",),
        "سالاریه": ("F-31", "F-32"),
        "شهرک قدس": ("فیدر نیروگاه",),
    },
    "کهک": {"مرکز کهک": ("F-51",), "ونارچ": ("فیدر ونارچ",)},
    "جعفریه": {"مرکز جعفریه": ("F-61", "F-62")},
    "سلفچگان": {"مرکز سلفچگان": ("F-71",), "راهجرد": ("فیدر راهجرد",)},
    "قنوات": {"مرکز قنوات": ("F-81", "F-82")},
    "دستجرد": {"خلجستان": ("F-91", "فیدر دستجرد")},
}
CITY_WEIGHTS = {"قم": 10, "کهک": 3, "جعفریه": 3, "سلفچگان": 2, "قنوات": 2, "دستجرد": 2}
STREETS: dict[str, tuple[str, ...]] = {
    "قم": (
        "بلوار امین",
        "خیابان صفائیه",
        "بلوار پیامبر اعظم",
        "خیابان چهارمردان",
        "بلوار غدیر",
        "خیابان ارم",
        "بلوار جمهوری اسلامی",
        "خیابان هفت‌تیر",
    ),
}
TOWN_STREETS = ("خیابان امام خمینی", "خیابان شهید بهشتی", "بلوار ولیعصر", "خیابان معلم")
FIRST_NAMES = (
    "محمد",
    "علی",
    "حسین",
    "مهدی",
    "رضا",
    "امیرحسین",
    "سجاد",
    "مرتضی",
    "فاطمه",
    "زهرا",
    "مریم",
    "معصومه",
    "زینب",
    "سمیه",
    "نرگس",
    "کبری",
)
LAST_NAMES = (
    "قمی",
    "محمدی",
    "حسینی",
    "رضایی",
    "احمدی",
    "کریمی",
    "موسوی",
    "جعفری",
    "صادقی",
    "اکبری",
    "نوروزی",
    "فراهانی",
    "کاشانی",
    "عباس‌زاده",
    "طباطبایی",
    "شریفی",
)
MOBILE_PREFIXES = ("912", "919", "935", "936", "937", "901", "902", "910", "921", "990")
QOM_NATIONAL_ID_PREFIXES = ("037", "038")  # the issuing office code of Qom


@dataclass(frozen=True)
class DemoSummary:
    subscriptions_created: int
    bills_created: int
    sample_bill_id: str  # a bill ID to try the desk with; its latest bill invites a review
    sample_mobile: str  # the mobile of that subscription's customer


@dataclass(frozen=True)
class _DemoCustomer:
    full_name: str
    national_id: str
    mobile: str


@dataclass(frozen=True)
class _DemoBill:
    jalali_year: int
    period: int
    previous_reading_date: date
    current_reading_date: date
    previous_reading: int
    current_reading: int
    amount_rials: int
    payment_id: str
    due_date: date
    paid_at: datetime | None
    tariff: str


@dataclass(frozen=True)
class _DemoSubscription:
    bill_id: str
    subscription_number: str
    customer: _DemoCustomer
    address: str
    city: str
    area: str
    feeder: str
    tariff: str
    bills: tuple[_DemoBill, ...]


def seed_demo(session: Session) -> DemoSummary:
    """Add the demo data that is missing (none on a second run); flushes, the caller commits."""
    demo = _demo_subscriptions()
    customers = {
        customer.national_id: customer
        for customer in session.exec(
            select(Customer).where(
                col(Customer.national_id).in_({item.customer.national_id for item in demo})
            )
        )
    }
    for item in demo:
        if item.customer.national_id not in customers:
            customer = Customer(**asdict(item.customer))
            session.add(customer)
            customers[customer.national_id] = customer
    session.flush()

    subscriptions = {
        subscription.bill_id: subscription
        for subscription in session.exec(
            select(Subscription).where(col(Subscription.bill_id).in_([d.bill_id for d in demo]))
        )
    }
    subscriptions_created = 0
    for item in demo:
        if item.bill_id not in subscriptions:
            customer_id = customers[item.customer.national_id].id
            assert customer_id is not None  # flushed above
            subscription = Subscription(
                bill_id=item.bill_id,
                subscription_number=item.subscription_number,
                customer_id=customer_id,
                address=item.address,
                city=item.city,
                area=item.area,
                feeder=item.feeder,
                tariff=item.tariff,
            )
            session.add(subscription)
            subscriptions[item.bill_id] = subscription
            subscriptions_created += 1
    session.flush()

    ids = [subscription.id for subscription in subscriptions.values()]
    have = {
        tuple(row)
        for row in session.exec(
            select(Bill.subscription_id, Bill.jalali_year, Bill.period).where(
                col(Bill.subscription_id).in_(ids), col(Bill.corrects_bill_id).is_(None)
            )
        )
    }
    bills_created = 0
    for item in demo:
        subscription_id = subscriptions[item.bill_id].id
        assert subscription_id is not None  # flushed above
        for bill in item.bills:
            if (subscription_id, bill.jalali_year, bill.period) in have:
                continue
            session.add(
                Bill(
                    subscription_id=subscription_id,
                    consumption_kwh=bill.current_reading - bill.previous_reading,
                    **asdict(bill),
                )
            )
            bills_created += 1
    session.flush()

    sample = demo[SAMPLE_INDEX]
    return DemoSummary(
        subscriptions_created=subscriptions_created,
        bills_created=bills_created,
        sample_bill_id=sample.bill_id,
        sample_mobile=sample.customer.mobile,
    )


def bill_amount_rials(tariff: str, consumption_kwh: int, days: int) -> int:
    """The amount of a bill: energy by the tariff's steps, plus tax, rounded down to 1000 rials.

    The steps are for a month's consumption; a bill of `days` days stretches them by days / 30.
    """
    remaining = Fraction(consumption_kwh)
    lower = Fraction(0)
    charge = Fraction(0)
    for upper, price in TARIFF_STEPS[tariff]:
        width = remaining if upper is None else Fraction(upper * days, 30) - lower
        used = min(remaining, width)
        charge += used * price
        remaining -= used
        lower += width
        if remaining == 0:
            break
    total = charge * (100 + TAX_PERCENT) / 100
    return int(total // 1000) * 1000


def _reading_date(jalali_year: int, period: int, day: int) -> date:
    """The reading that closes a period (its two months), on `day` of the month after it."""
    month = 2 * period + 1
    if month > 12:
        jalali_year, month = jalali_year + 1, 1
    gregorian: date = jdatetime.date(jalali_year, month, day).togregorian()  # jdatetime is untyped
    return gregorian


def _previous_period(jalali_year: int, period: int) -> tuple[int, int]:
    return (jalali_year, period - 1) if period > 1 else (jalali_year - 1, 6)


def _demo_periods() -> list[tuple[int, int]]:
    """The last BILLS_PER_SUBSCRIPTION periods read before REFERENCE_DATE, oldest first."""
    latest = (jdatetime.date.fromgregorian(date=REFERENCE_DATE).year, 6)
    while _reading_date(*latest, LAST_READING_DAY) >= REFERENCE_DATE:
        latest = _previous_period(*latest)
    periods = [latest]
    while len(periods) < BILLS_PER_SUBSCRIPTION:
        periods.append(_previous_period(*periods[-1]))
    return periods[::-1]


def _persian_digits(number: int) -> str:
    return str(number).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))


def _national_id(rng: random.Random) -> str:
    body = rng.choice(QOM_NATIONAL_ID_PREFIXES) + f"{rng.randrange(1, 1_000_000):06d}"
    remainder = sum(int(digit) * (10 - i) for i, digit in enumerate(body)) % 11
    return body + str(remainder if remainder < 2 else 11 - remainder)


def _customer(rng: random.Random) -> _DemoCustomer:
    return _DemoCustomer(
        full_name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
        national_id=_national_id(rng),
        mobile=f"+98{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10_000_000):07d}",
    )


def _paid_at(rng: random.Random, reading: date, due: date) -> datetime | None:
    """When a bill was paid: mostly before its due date, sometimes a little late."""
    day = due - timedelta(days=rng.randint(0, 10))
    if rng.random() < 0.15:
        day = due + timedelta(days=rng.randint(1, 12))
    day = max(day, reading + timedelta(days=1))
    if day >= REFERENCE_DATE:
        return None
    moment = time(rng.randint(8, 22), rng.randrange(60))
    return datetime.combine(day, moment, tzinfo=local_zone()).astimezone(UTC)


def _bills(
    rng: random.Random, bill_id: str, tariff: str, monthly_kwh: int, suspicious: bool
) -> tuple[_DemoBill, ...]:
    periods = _demo_periods()
    reading_day = rng.randint(1, LAST_READING_DAY)
    reading = rng.randint(3_000, 60_000)
    reading_date = _reading_date(*_previous_period(*periods[0]), reading_day)
    # The oldest bill came to the demo later: drawn apart, so that the rest stays as it was.
    oldest = random.Random(f"{SEED}:{bill_id}")
    bills: list[_DemoBill] = []
    for year, period in periods:
        draw = oldest if not bills else rng
        current_date = _reading_date(year, period, reading_day)
        days = (current_date - reading_date).days
        kwh = round(monthly_kwh * days / 30 * SEASON[period] * draw.uniform(0.85, 1.15))
        latest = (year, period) == periods[-1]
        if suspicious and latest:
            kwh = round(kwh * SUSPICIOUS_FACTOR)
        amount = bill_amount_rials(tariff, kwh, days)
        due = current_date + timedelta(days=DUE_AFTER_DAYS)
        # The latest bill is paid by about half; the suspicious one is waiting for a review.
        unpaid = (suspicious or rng.random() < 0.5) if latest else False
        bills.append(
            _DemoBill(
                jalali_year=year,
                period=period,
                previous_reading_date=reading_date,
                current_reading_date=current_date,
                previous_reading=reading,
                current_reading=reading + kwh,
                amount_rials=amount,
                payment_id=make_payment_id(amount, year, period, bill_id),
                due_date=due,
                paid_at=None if unpaid else _paid_at(draw, current_date, due),
                tariff=tariff,
            )
        )
        reading, reading_date = reading + kwh, current_date
    return tuple(bills)


def _unique(rng: random.Random, used: set[int], low: int, high: int) -> int:
    while (number := rng.randrange(low, high)) in used:
        pass
    used.add(number)
    return number


def _demo_subscriptions() -> list[_DemoSubscription]:
    """The whole demo data set, the same on every call (its own seeded random generator)."""
    rng = random.Random(SEED)
    cities = list(CITY_WEIGHTS)
    file_numbers: set[int] = set()
    subscription_numbers: set[int] = set()
    result: list[_DemoSubscription] = []
    for index in range(SUBSCRIPTIONS):
        # Every tenth subscription is the shop of the previous one's customer.
        commercial = index % 10 == 9
        customer = result[-1].customer if commercial else _customer(rng)
        city = "قم" if index == SAMPLE_INDEX else rng.choices(cities, [*CITY_WEIGHTS.values()])[0]
        area = rng.choice(list(PLACES[city]))
        street = rng.choice(STREETS.get(city, TOWN_STREETS))
        alley, number = rng.randint(1, 40), rng.randint(1, 120)
        address = (
            f"{city}، {area}، {street}، کوچه {_persian_digits(alley)}، "
            f"پلاک {_persian_digits(number)}"
        )
        tariff = "5-1" if commercial else "1-1"
        monthly_kwh = rng.randint(500, 1300) if commercial else rng.randint(120, 320)
        bill_id = make_bill_id(_unique(rng, file_numbers, 10_000_000, 100_000_000), COMPANY_CODE)
        result.append(
            _DemoSubscription(
                bill_id=bill_id,
                subscription_number=str(
                    _unique(rng, subscription_numbers, 1_000_000_000, 10_000_000_000)
                ),
                customer=customer,
                address=address,
                city=city,
                area=area,
                feeder=rng.choice(PLACES[city][area]),
                tariff=tariff,
                bills=_bills(rng, bill_id, tariff, monthly_kwh, index == SAMPLE_INDEX),
            )
        )
    return result
