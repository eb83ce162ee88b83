"""The database tables (SQLModel); the schema itself is made only by the Alembic migrations."""

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from backend.constants import (
    BroadcastChannels,
    BroadcastStatus,
    BroadcastTopic,
    Channel,
    ChecklistAnswer,
    CounterAction,
    CounterDocumentType,
    CounterReason,
    CounterStatus,
    DeliveryState,
    IncidentStatus,
    InspectionKind,
    InspectionStatus,
    NoticeKind,
    OtpPurpose,
    OutageProblem,
    OutageSource,
    PaymentMethod,
    PaymentPurpose,
    PaymentStatus,
    RequestKind,
    RequestStatus,
    StaffRole,
    SubscriptionStatus,
)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always gives them back aware, on SQLite too."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def created_at_field() -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


def optional_time_field(*, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=True, index=index))


class Customer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    full_name: str = Field(max_length=200)
    national_id: str | None = Field(default=None, max_length=10, unique=True)
    mobile: str | None = Field(default=None, max_length=13, index=True)  # E.164
    created_at: datetime = created_at_field()


class Subscription(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    bill_id: str = Field(max_length=13, unique=True)  # شناسه قبض
    subscription_number: str = Field(max_length=20, unique=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    address: str = Field(max_length=500)
    city: str = Field(max_length=100, index=True)
    area: str = Field(max_length=100)
    feeder: str = Field(max_length=50, index=True)
    tariff: str = Field(max_length=20)
    status: SubscriptionStatus = Field(default=SubscriptionStatus.ACTIVE, sa_type=sa.String(20))
    created_at: datetime = created_at_field()
    # When a removal of the connection was closed with its clearance (status REMOVED then); an
    # import may say REMOVED without a date.
    removed_at: datetime | None = optional_time_field()


class Bill(SQLModel, table=True):
    __table_args__ = (
        # One original bill per period; corrections are further rows pointing at it.
        sa.Index(
            "uq_bill_period",
            "subscription_id",
            "jalali_year",
            "period",
            unique=True,
            sqlite_where=sa.text("corrects_bill_id IS NULL"),
            postgresql_where=sa.text("corrects_bill_id IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key="subscription.id", index=True)
    jalali_year: int
    period: int = Field(ge=1, le=12)
    previous_reading_date: date
    current_reading_date: date
    previous_reading: int = Field(ge=0)
    current_reading: int = Field(ge=0)
    consumption_kwh: int = Field(ge=0)
    amount_rials: int = Field(ge=0, sa_type=sa.BigInteger)
    payment_id: str = Field(max_length=13)  # شناسه پرداخت
    due_date: date
    paid_at: datetime | None = optional_time_field()
    corrects_bill_id: int | None = Field(default=None, foreign_key="bill.id")
    created_at: datetime = created_at_field()
    # The tariff the bill was charged at (None: the billing system did not say), and whether
    # its current reading was estimated (علی‌الحساب) rather than read off the meter.
    tariff: str | None = Field(default=None, max_length=20)
    estimated: bool = False


class ServiceRequest(SQLModel, table=True):
    __tablename__ = "service_request"

    id: int | None = Field(default=None, primary_key=True)
    kind: RequestKind = Field(sa_type=sa.String(30), index=True)
    tracking_code: str = Field(max_length=10, unique=True)  # کد رهگیری
    status: RequestStatus = Field(sa_type=sa.String(30), index=True)
    channel: Channel = Field(sa_type=sa.String(20))
    channel_user_id: str = Field(max_length=64)
    subscription_id: int = Field(foreign_key="subscription.id", index=True)
    disputed_bill_id: int | None = Field(default=None, foreign_key="bill.id", index=True)
    reason: str = Field(max_length=30)
    description: str = Field(max_length=2000)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
    step_deadline: datetime | None = optional_time_field(index=True)
    assignee_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    # Bill review: the decision, and a correction waiting for approval or made.
    decision_reason: str | None = Field(default=None, max_length=30)
    decision_note: str | None = Field(default=None, max_length=2000)
    proposed_amount_rials: int | None = Field(default=None, sa_type=sa.BigInteger)
    corrected_bill_id: int | None = Field(default=None, foreign_key="bill.id")
    # Permanent removal: the figures each step fixes.
    fee_rials: int | None = Field(default=None, sa_type=sa.BigInteger)
    meter_test_result: str | None = Field(default=None, max_length=10)
    meter_test_reading: int | None = None
    terms: str | None = Field(default=None, max_length=2000)
    final_reading: int | None = None
    # Positive: the subscriber owes it (debt and damages); negative: the company owes it.
    statement_rials: int | None = Field(default=None, sa_type=sa.BigInteger)
    no_refund_acknowledged: bool = False
    # The language the subscriber last chose in the chat that filed it: its SMS are in it.
    locale: str | None = Field(default=None, max_length=5)
    # Filed at a pishkhan counter by its operator on the subscriber's behalf (seed 002).
    counter_id: int | None = Field(default=None, foreign_key="counter.id", index=True)
    filed_by_id: int | None = Field(default=None, foreign_key="staff.id")
    # A service defined as data (backend.services): its questions' answers by key, and what
    # staff entered at each step by the step's action (an amount, a reading, a text).
    answers: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class StoredFile(SQLModel):
    """What is kept of a file received (backend.storage holds its bytes under the key)."""

    storage_key: str = Field(max_length=200)
    content_type: str = Field(max_length=100)
    size_bytes: int
    sha256: str = Field(max_length=64)
    original_name: str = Field(max_length=255)


class RequestDocument(StoredFile, table=True):
    __tablename__ = "request_document"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="service_request.id", index=True)
    doc_type: str = Field(max_length=30)
    created_at: datetime = created_at_field()


class RequestEvent(SQLModel, table=True):
    """Append-only history of a request; rows are never updated or deleted."""

    __tablename__ = "request_event"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="service_request.id", index=True)
    actor: str = Field(max_length=100)
    action: str = Field(max_length=40)
    from_status: str | None = Field(default=None, max_length=30)
    to_status: str | None = Field(default=None, max_length=30)
    note: str | None = Field(default=None, max_length=2000)
    created_at: datetime = created_at_field()


class Feedback(SQLModel, table=True):
    """The subscriber's answer to "how did it go?" once a request was final: one per request
    (the unique key), changeable for a day after it was first given (backend.feedback)."""

    __table_args__ = (sa.CheckConstraint("score BETWEEN 1 AND 5", name="ck_feedback_score"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="service_request.id", unique=True)
    score: int
    comment: str | None = Field(default=None, max_length=1000)
    channel: Channel = Field(sa_type=sa.String(20))  # where it was answered
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
    # When the area's supervisors were told of a low score: once per request.
    flagged_at: datetime | None = optional_time_field()


class ChannelIdentity(SQLModel, table=True):
    """A messenger or SMS user as the desk knows them; linked to a customer once verified."""

    __tablename__ = "channel_identity"
    __table_args__ = (sa.UniqueConstraint("channel", "external_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: Channel = Field(sa_type=sa.String(20))
    external_user_id: str = Field(max_length=64)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    phone: str | None = Field(default=None, max_length=13)
    phone_verified: bool = False
    reachable: bool = True
    created_at: datetime = created_at_field()


class Conversation(SQLModel, table=True):
    """Where a user stands in a dialog, and their draft answers; keyed by (channel, user)."""

    channel: Channel = Field(primary_key=True, sa_type=sa.String(20))
    user_id: str = Field(primary_key=True, max_length=64)
    state: str = Field(max_length=60)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    locale: str = Field(max_length=5)
    updated_at: datetime = created_at_field()


class ProcessedEvent(SQLModel, table=True):
    """Ids of inbound events already handled, so a redelivered one is handled once, with the
    answer they got until it is known to have been sent (a redelivery then sends it again).

    Rows older than a few days are pruned (backend.conversations.prune_processed_events).
    """

    __tablename__ = "processed_event"

    channel: Channel = Field(primary_key=True, sa_type=sa.String(20))
    event_id: str = Field(primary_key=True, max_length=64)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True)
    )
    # The replies as message keys and parameters (channels.reply_json), not rendered text.
    answer: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    answered_at: datetime | None = optional_time_field()  # set once the answer went out


class Staff(SQLModel, table=True):
    """A member of staff; a messenger account of theirs is bound (StaffBinding) once it has
    shared this phone as its own contact and typed the code texted to it."""

    id: int | None = Field(default=None, primary_key=True)
    full_name: str = Field(max_length=200)
    phone: str = Field(max_length=13, unique=True)  # E.164
    role: StaffRole = Field(sa_type=sa.String(30))
    active: bool = True
    created_at: datetime = created_at_field()
    # A counter operator's counter; the area an area head supervises.
    counter_id: int | None = Field(default=None, foreign_key="counter.id", index=True)
    area: str | None = Field(default=None, max_length=100)


class StaffBinding(SQLModel, table=True):
    """A messenger account that acts as a staff member: one staff member per account."""

    __tablename__ = "staff_binding"
    __table_args__ = (sa.UniqueConstraint("channel", "external_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    channel: Channel = Field(sa_type=sa.String(20))
    external_user_id: str = Field(max_length=64)
    bound_at: datetime = created_at_field()


class StaffAlert(SQLModel, table=True):
    """Who was told that a request's step passed its deadline: once per step (its deadline) and
    level, by the unique key, however many clocks look (backend.staff_notices)."""

    __tablename__ = "staff_alert"
    __table_args__ = (sa.UniqueConstraint("request_id", "deadline", "level"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="service_request.id")
    deadline: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    level: str = Field(max_length=20)  # AlertLevel
    created_at: datetime = created_at_field()
    # The holder's row: when the supervisors are to be told, unless the step is done by then.
    escalate_at: datetime | None = optional_time_field()


class Holiday(SQLModel, table=True):
    """An official holiday (Fridays are weekends by rule and need no row)."""

    day: date = Field(primary_key=True)
    name: str = Field(max_length=200)


class Payment(SQLModel, table=True):
    """Money a request asks of the subscriber, or a bill paid online; paid online, in person or
    at a bank. Exactly one of request_id and bill_id is set."""

    id: int | None = Field(default=None, primary_key=True)
    request_id: int | None = Field(default=None, foreign_key="service_request.id", index=True)
    bill_id: int | None = Field(default=None, foreign_key="bill.id", index=True)
    purpose: PaymentPurpose = Field(sa_type=sa.String(30))
    amount_rials: int = Field(sa_type=sa.BigInteger)
    status: PaymentStatus = Field(default=PaymentStatus.PENDING, sa_type=sa.String(20))
    # Our own id, given to the provider: a callback is matched by it, and only once.
    reference: str = Field(max_length=40, unique=True)
    method: PaymentMethod | None = Field(default=None, sa_type=sa.String(20))
    provider_ref: str | None = Field(default=None, max_length=100)
    recorded_by: str | None = Field(default=None, max_length=100)
    created_at: datetime = created_at_field()
    paid_at: datetime | None = optional_time_field()


class PaymentAttempt(SQLModel, table=True):
    """A transaction a gateway opened for a payment (Zarinpal's authority): its callback must
    name one of these, so that an authority of another payment cannot pay this one."""

    __tablename__ = "payment_attempt"
    __table_args__ = (sa.UniqueConstraint("provider", "attempt"),)

    id: int | None = Field(default=None, primary_key=True)
    payment_id: int = Field(foreign_key="payment.id", index=True)
    provider: str = Field(max_length=20)
    attempt: str = Field(max_length=100)
    created_at: datetime = created_at_field()


class Notice(SQLModel, table=True):
    """The outbox: a notice to a subscriber, written in the transaction that causes it."""

    id: int | None = Field(default=None, primary_key=True)
    request_id: int | None = Field(default=None, foreign_key="service_request.id", index=True)
    kind: NoticeKind = Field(sa_type=sa.String(30))
    essential: bool = False
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # A direct notice (a one-time code) goes by SMS to this mobile, in this language, whether
    # or not a request comes of it; a request's notices go where its requester is (None here).
    to_mobile: str | None = Field(default=None, max_length=13)
    locale: str | None = Field(default=None, max_length=5)
    created_at: datetime = created_at_field()
    # Set when the relay has handed the notice to the queue.
    relayed_at: datetime | None = optional_time_field(index=True)


class NoticeDelivery(SQLModel, table=True):
    """A notice on one channel: its state, the provider's raw code, and its tries."""

    __tablename__ = "notice_delivery"
    __table_args__ = (
        sa.UniqueConstraint("notice_id", "channel"),
        # The relay's every pass looks for due deliveries; most rows are done (NULL).
        sa.Index("ix_notice_delivery_next_attempt_at", "next_attempt_at"),
        # A digit texted back is matched to the feedback question sent to that number.
        sa.Index("ix_notice_delivery_address", "address"),
    )

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notice.id", index=True)
    channel: Channel = Field(sa_type=sa.String(20))
    address: str = Field(max_length=64)  # chat id or E.164 mobile
    state: DeliveryState = Field(default=DeliveryState.QUEUED, sa_type=sa.String(20))
    raw_code: str | None = Field(default=None, max_length=50)
    provider_message_id: str | None = Field(default=None, max_length=100)
    attempts: int = 0
    next_attempt_at: datetime | None = optional_time_field()
    last_error: str | None = Field(default=None, max_length=500)
    updated_at: datetime = created_at_field()


class OtpChallenge(SQLModel, table=True):
    """A one-time code sent by SMS to prove a mobile: a subscription's registered one, or a
    staff member's phone (`purpose`)."""

    __tablename__ = "otp_challenge"

    id: int | None = Field(default=None, primary_key=True)
    channel: Channel = Field(sa_type=sa.String(20))
    user_id: str = Field(max_length=64)
    purpose: OtpPurpose = Field(default=OtpPurpose.MOBILE, sa_type=sa.String(20))
    # The limits are per mobile: each check sums the wrong tries on its recent codes.
    mobile: str = Field(max_length=13, index=True)
    code_hash: str = Field(max_length=64)
    attempts: int = 0
    created_at: datetime = created_at_field()
    expires_at: datetime = created_at_field()
    verified_at: datetime | None = optional_time_field()
    # The outbox row that carries the code (sealed); linked to the request the code proved.
    notice_id: int | None = Field(default=None, foreign_key="notice.id")


class SmsOptOut(SQLModel, table=True):
    """A mobile that asked for no non-essential SMS («لغو۱۱»)."""

    __tablename__ = "sms_opt_out"

    mobile: str = Field(primary_key=True, max_length=13)
    created_at: datetime = created_at_field()


class FollowedSubscription(SQLModel, table=True):
    """A bill ID a messenger or SMS user follows (home, parents' home, shop) for its notices."""

    __tablename__ = "followed_subscription"
    __table_args__ = (sa.UniqueConstraint("channel", "user_id", "subscription_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: Channel = Field(sa_type=sa.String(20))
    user_id: str = Field(max_length=64)
    subscription_id: int = Field(foreign_key="subscription.id", index=True)
    label: str | None = Field(default=None, max_length=30)  # «خانه», «مغازه»: the follower's name
    created_at: datetime = created_at_field()


class TopicOptOut(SQLModel, table=True):
    """A user who turned off broadcasts of a topic (`/notices off`)."""

    __tablename__ = "topic_opt_out"

    channel: Channel = Field(primary_key=True, sa_type=sa.String(20))
    user_id: str = Field(primary_key=True, max_length=64)
    topic: BroadcastTopic = Field(primary_key=True, sa_type=sa.String(20))
    created_at: datetime = created_at_field()


class Broadcast(SQLModel, table=True):
    """A notice to many subscribers (a planned outage above all), composed by staff."""

    id: int | None = Field(default=None, primary_key=True)
    topic: BroadcastTopic = Field(sa_type=sa.String(20))
    # The message as subscribers see it: a catalog key and its parameters, per their locale.
    message_key: str = Field(max_length=60)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    audience: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    channels: BroadcastChannels = Field(sa_type=sa.String(30))
    status: BroadcastStatus = Field(sa_type=sa.String(20), index=True)
    created_by: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = created_at_field()
    send_at: datetime = created_at_field()
    finished_at: datetime | None = optional_time_field()
    # Where the live progress message is, so any worker can update it.
    progress_channel: str | None = Field(default=None, max_length=20)
    progress_chat_id: str | None = Field(default=None, max_length=64)
    progress_message_id: int | None = None


class BroadcastDelivery(SQLModel, table=True):
    """One recipient of a broadcast on one channel: sent at most once, never skipped."""

    __tablename__ = "broadcast_delivery"
    __table_args__ = (
        sa.UniqueConstraint("broadcast_id", "channel", "address"),
        sa.Index("ix_broadcast_delivery_pending", "broadcast_id", "state", "id"),
    )

    # BIGINT on PostgreSQL (a million rows a broadcast); SQLite autoincrements INTEGER keys only.
    id: int | None = Field(
        default=None, primary_key=True, sa_type=sa.BigInteger().with_variant(sa.Integer, "sqlite")
    )
    broadcast_id: int = Field(foreign_key="broadcast.id")
    channel: Channel = Field(sa_type=sa.String(20))
    address: str = Field(max_length=64)  # chat id or E.164 mobile
    locale: str = Field(default="fa", max_length=5)
    state: DeliveryState = Field(default=DeliveryState.QUEUED, sa_type=sa.String(20))
    attempts: int = 0
    raw_code: str | None = Field(default=None, max_length=50)
    updated_at: datetime | None = optional_time_field()


class PlannedOutage(SQLModel, table=True):
    """A schedule entry: power off on a feeder, or in a city or an area of it, for a while.

    Written with a planned-outage broadcast (in its transaction) or from a dispatch centre's
    CSV (backend.outages); subscribers see the coming ones for their bill IDs or a place."""

    __tablename__ = "planned_outage"

    id: int | None = Field(default=None, primary_key=True)
    feeder: str | None = Field(default=None, max_length=50, index=True)
    city: str | None = Field(default=None, max_length=100)
    area: str | None = Field(default=None, max_length=100)
    starts_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    ends_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    reason: str = Field(max_length=30)  # one of backend.broadcasts.OUTAGE_REASONS, or ""
    reason_text: str = Field(default="", max_length=200)  # the reason in words otherwise
    source: OutageSource = Field(sa_type=sa.String(20))
    broadcast_id: int | None = Field(default=None, foreign_key="broadcast.id")
    created_at: datetime = created_at_field()


class OutageReminder(SQLModel, table=True):
    """A chat that asked to be told an hour before a planned outage: one row per entry and
    chat (the unique key), sent once by the clock's round (`sent_at`)."""

    __tablename__ = "outage_reminder"
    __table_args__ = (sa.UniqueConstraint("outage_id", "channel", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    outage_id: int = Field(foreign_key="planned_outage.id")
    channel: Channel = Field(sa_type=sa.String(20))
    user_id: str = Field(max_length=64)
    # The followed bill ID it was asked for: its registered mobile where no bot reaches.
    subscription_id: int | None = Field(default=None, foreign_key="subscription.id")
    place: str = Field(max_length=200)  # where, as the chat asked: its bill's place, or typed
    created_at: datetime = created_at_field()
    sent_at: datetime | None = optional_time_field(index=True)


class OutageIncident(SQLModel, table=True):
    """Outage reports on one feeder (or, without a bill ID, one area) grouped while they keep
    coming (OUTAGE_INCIDENT_WINDOW_MINUTES); staff resolve it, and every reporter is told."""

    __tablename__ = "outage_incident"
    __table_args__ = (sa.Index("ix_outage_incident_open", "status", "feeder"),)

    id: int | None = Field(default=None, primary_key=True)
    feeder: str | None = Field(default=None, max_length=50)
    city: str = Field(max_length=100)
    area: str | None = Field(default=None, max_length=100)
    status: IncidentStatus = Field(sa_type=sa.String(20))
    opened_at: datetime = created_at_field()
    last_report_at: datetime = created_at_field()
    resolved_at: datetime | None = optional_time_field()
    resolved_by: int | None = Field(default=None, foreign_key="staff.id")


class OutageReport(SQLModel, table=True):
    """One subscriber's report of an outage (as to 121), with its tracking code."""

    __tablename__ = "outage_report"

    id: int | None = Field(default=None, primary_key=True)
    tracking_code: str = Field(max_length=10, unique=True)
    incident_id: int = Field(foreign_key="outage_incident.id", index=True)
    problem: OutageProblem = Field(sa_type=sa.String(20))
    channel: Channel = Field(sa_type=sa.String(20))
    user_id: str = Field(max_length=64)
    subscription_id: int | None = Field(default=None, foreign_key="subscription.id")
    # A location shared from the phone, kept with the bill ID or area it was given with.
    latitude: float | None = None
    longitude: float | None = None
    created_at: datetime = created_at_field()


class MeterSelfReading(StoredFile, table=True):
    """A reading the subscriber sent of their own meter (خوداظهاری), with its photo, for the
    billing system to import (`python -m backend readings export`)."""

    __tablename__ = "meter_self_reading"

    id: int | None = Field(default=None, primary_key=True)
    tracking_code: str = Field(max_length=10, unique=True)
    subscription_id: int = Field(foreign_key="subscription.id", index=True)
    reading: int = Field(ge=0)
    channel: Channel = Field(sa_type=sa.String(20))
    user_id: str = Field(max_length=64)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True)
    )


class Counter(SQLModel, table=True):
    """A pishkhan counter (دفتر پیشخوان) that files some of the company's services (seed 002);
    its status changes only through backend.counter_workflow."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True)  # the office's code
    name: str = Field(max_length=200)
    city: str = Field(max_length=100, index=True)
    area: str = Field(max_length=100, index=True)  # the distribution area whose office vets it
    address: str = Field(max_length=500)
    phone: str = Field(max_length=13)
    manager_name: str = Field(max_length=200)
    status: CounterStatus = Field(sa_type=sa.String(30), index=True)
    # Why it was rejected, suspended or terminated (None otherwise).
    status_reason: CounterReason | None = Field(default=None, sa_type=sa.String(40))
    agreement_signed_on: date | None = None
    step_deadline: datetime | None = optional_time_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class CounterEvent(SQLModel, table=True):
    """Append-only history of a counter: who did which step, when, and why."""

    __tablename__ = "counter_event"

    id: int | None = Field(default=None, primary_key=True)
    counter_id: int = Field(foreign_key="counter.id", index=True)
    actor: str = Field(max_length=100)
    action: CounterAction = Field(sa_type=sa.String(40))
    from_status: str | None = Field(default=None, max_length=30)
    to_status: str | None = Field(default=None, max_length=30)
    reason: CounterReason | None = Field(default=None, sa_type=sa.String(40))
    note: str | None = Field(default=None, max_length=2000)
    created_at: datetime = created_at_field()


class CounterDocument(StoredFile, table=True):
    """A counter's paper: the guild association's letter, the scanned agreement."""

    __tablename__ = "counter_document"

    id: int | None = Field(default=None, primary_key=True)
    counter_id: int = Field(foreign_key="counter.id", index=True)
    doc_type: CounterDocumentType = Field(sa_type=sa.String(30))
    created_at: datetime = created_at_field()


class CounterService(SQLModel, table=True):
    """A request kind delegated to a counter (seed 002 form 7-2): it may file it."""

    __tablename__ = "counter_service"

    counter_id: int = Field(foreign_key="counter.id", primary_key=True)
    kind: RequestKind = Field(primary_key=True, sa_type=sa.String(30))
    added_by: str = Field(max_length=100)
    created_at: datetime = created_at_field()


class Checklist(SQLModel, table=True):
    """One version of the supervision checklist (چک‌لیست نظارت); a change is a new version, so
    a past visit keeps the items it was scored on."""

    __table_args__ = (sa.UniqueConstraint("code", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40)
    version: int
    title: str = Field(max_length=200)  # in Persian; the checklist file holds both languages
    title_en: str = Field(max_length=200)
    created_at: datetime = created_at_field()


class ChecklistItem(SQLModel, table=True):
    __tablename__ = "checklist_item"
    __table_args__ = (sa.UniqueConstraint("checklist_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    checklist_id: int = Field(foreign_key="checklist.id")
    position: int
    # The same across versions, so a later visit finds the items failed on an earlier one.
    key: str = Field(max_length=40)
    topic: str = Field(max_length=100)  # topic and text in Persian, then in English
    topic_en: str = Field(max_length=100)
    text: str = Field(max_length=500)
    text_en: str = Field(max_length=500)
    weight: int
    expected: ChecklistAnswer = Field(sa_type=sa.String(10))


class Inspection(SQLModel, table=True):
    """A visit to a counter, filled in item by item; it may be paused and resumed."""

    id: int | None = Field(default=None, primary_key=True)
    counter_id: int = Field(foreign_key="counter.id", index=True)
    checklist_id: int = Field(foreign_key="checklist.id")
    inspector_id: int = Field(foreign_key="staff.id")
    kind: InspectionKind = Field(sa_type=sa.String(20))
    status: InspectionStatus = Field(sa_type=sa.String(20))
    started_at: datetime = created_at_field()
    paused_at: datetime | None = optional_time_field()
    finished_at: datetime | None = optional_time_field()


class InspectionAnswer(SQLModel, table=True):
    __tablename__ = "inspection_answer"
    __table_args__ = (sa.UniqueConstraint("inspection_id", "item_id"),)

    id: int | None = Field(default=None, primary_key=True)
    inspection_id: int = Field(foreign_key="inspection.id")
    item_id: int = Field(foreign_key="checklist_item.id")
    answer: ChecklistAnswer = Field(sa_type=sa.String(10))
    note: str | None = Field(default=None, max_length=2000)
    photo_key: str | None = Field(default=None, max_length=200)  # in backend.storage
    # The failed answer of the previous visit this one re-checked.
    recheck_of_id: int | None = Field(default=None, foreign_key="inspection_answer.id")
    answered_at: datetime = created_at_field()


class CounterAlert(SQLModel, table=True):
    """That the area's head was told a counter's lifecycle step passed its deadline: once per
    step (its deadline), by the unique key, however many clocks look (backend.staff_notices)."""

    __tablename__ = "counter_alert"
    __table_args__ = (sa.UniqueConstraint("counter_id", "deadline"),)

    id: int | None = Field(default=None, primary_key=True)
    counter_id: int = Field(foreign_key="counter.id")
    deadline: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    created_at: datetime = created_at_field()


class ReportSubscription(SQLModel, table=True):
    """A manager who asked for the weekly report on Saturday mornings (`/report weekly on`)."""

    __tablename__ = "report_subscription"

    staff_id: int = Field(foreign_key="staff.id", primary_key=True)
    created_at: datetime = created_at_field()


class ReportPush(SQLModel, table=True):
    """A weekly report queued for a staff member: once a week (the unique key), however many
    clocks run the round (backend.reports)."""

    __tablename__ = "report_push"
    __table_args__ = (sa.UniqueConstraint("staff_id", "week"),)

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id")
    week: date  # the Saturday it was pushed on
    created_at: datetime = created_at_field()
