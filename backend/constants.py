"""Every status, kind and code the desk stores, named once."""

from enum import StrEnum


class Channel(StrEnum):
    TELEGRAM = "telegram"
    BALE = "bale"
    SMS = "sms"
    SHELL = "shell"
    # A pishkhan counter that filed a request on a subscriber's behalf (seed 002): no chat of
    # its own; the request's notices go to the subscriber (notifications.policy).
    COUNTER = "counter"


# The channels that are messenger bots (the channel layer's registry describes each).
MESSENGER_CHANNELS: tuple[Channel, ...] = (Channel.TELEGRAM, Channel.BALE)


class RequestKind(StrEnum):
    BILL_REVIEW = "bill_review"
    CONNECTION_REMOVAL = "connection_removal"


class RequestStatus(StrEnum):
    SUBMITTED = "submitted"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"
    # Bill review (seed 000)
    UNDER_REVIEW = "under_review"
    UPHELD = "upheld"  # a correction is proposed; above the two-person limit it awaits approval
    BILL_CORRECTED = "bill_corrected"
    REJECTED = "rejected"
    RESULT_ANNOUNCED = "result_announced"
    # Permanent removal of the connection (seed 001)
    FEE_ANNOUNCED = "fee_announced"
    FEE_PAID = "fee_paid"
    METER_TESTED = "meter_tested"
    TERMS_ANNOUNCED = "terms_announced"
    TERMS_ACCEPTED = "terms_accepted"
    ARCHIVED = "archived"  # the subscriber declined the terms
    COLLECTED = "collected"
    STATEMENT_ISSUED = "statement_issued"
    SETTLED = "settled"


class ReviewReason(StrEnum):
    WRONG_READING = "wrong_reading"
    HIGH_CONSUMPTION = "high_consumption"
    WRONG_TARIFF = "wrong_tariff"
    METER_FAULT = "meter_fault"
    OTHER = "other"


class DocumentType(StrEnum):
    EVIDENCE = "evidence"
    ID_CARD = "id_card"
    OWNERSHIP_DEED = "ownership_deed"
    LEASE = "lease"


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    DISCONNECTED = "disconnected"
    REMOVED = "removed"


class EventAction(StrEnum):
    """What happened to a request: a workflow transition's name, or a note."""

    SUBMITTED = "submitted"
    TAKE = "take"
    ASSIGN = "assign"
    UPHOLD = "uphold"
    APPROVE = "approve"
    CORRECT = "correct"
    REJECT = "reject"
    ANNOUNCE = "announce"
    ANNOUNCE_FEE = "announce_fee"
    PAY_FEE = "pay_fee"
    TEST_METER = "test_meter"
    ANNOUNCE_TERMS = "announce_terms"
    ACCEPT_TERMS = "accept_terms"
    DECLINE_TERMS = "decline_terms"
    COLLECT = "collect"
    ISSUE_STATEMENT = "issue_statement"
    SETTLE = "settle"
    CLOSE = "close"
    WITHDRAW = "withdraw"
    NOTE = "note"
    ADD_DOCUMENTS = "add_documents"  # by the subscriber, after filing
    PAYMENT_FAILED = "payment_failed"  # an online attempt; the payment stays due
    CORRECT_STATEMENT = "correct_statement"  # voided and issued again, before it was paid


class RemovalReason(StrEnum):
    DEMOLITION = "demolition"
    NOT_NEEDED = "not_needed"
    MERGE = "merge"
    OTHER = "other"


class RejectionReason(StrEnum):
    READING_CORRECT = "reading_correct"
    CONSUMPTION_NORMAL = "consumption_normal"
    TARIFF_CORRECT = "tariff_correct"
    METER_SOUND = "meter_sound"
    NO_EVIDENCE = "no_evidence"
    OTHER = "other"


class MeterTestResult(StrEnum):
    OK = "ok"
    FAULTY = "faulty"


class StaffRole(StrEnum):
    ADMIN = "admin"
    BILLING_REVIEWER = "billing_reviewer"
    FIELD_TECHNICIAN = "field_technician"
    FINANCE = "finance"
    SUPERVISOR = "supervisor"
    # Pishkhan counters (seed 002): an operator works for one counter; the head of an area's
    # customer service office supervises its counters; an HQ inspector may visit any counter.
    COUNTER_OPERATOR = "counter_operator"
    AREA_HEAD = "area_head"
    HQ_INSPECTOR = "hq_inspector"


class PaymentPurpose(StrEnum):
    COLLECTION_FEE = "collection_fee"
    FINAL_STATEMENT = "final_statement"
    BILL = "bill"  # a consumption bill, paid online from «صورت‌حساب من»
    SERVICE_FEE = "service_fee"  # a fee of a service defined as data (backend.services.fees)


class PaymentStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"
    CANCELLED = "cancelled"


class PaymentMethod(StrEnum):
    ONLINE = "online"
    IN_PERSON = "in_person"
    BANK = "bank"


class AlertLevel(StrEnum):
    """Who has been told that a step passed its deadline (backend.staff_notices)."""

    HOLDER = "holder"
    SUPERVISOR = "supervisor"


class OtpPurpose(StrEnum):
    """What a one-time code proves: a code sent for one purpose is no answer for another."""

    MOBILE = "mobile"  # the sender holds a subscription's registered mobile (a removal)
    STAFF = "staff"  # the sender holds a staff member's phone: their account is bound to them
    # The subscriber at a pishkhan counter consents to its operator filing for them (and, for a
    # removal, so proves they hold the registered mobile): read out from their phone.
    COUNTER = "counter"


class NoticeKind(StrEnum):
    """What a notice is about; money, final results, codes and staff bindings are essential."""

    RECEIPT = "receipt"
    UNDER_REVIEW = "under_review"
    RESULT_CORRECTED = "result_corrected"
    RESULT_REJECTED = "result_rejected"
    FEE_DUE = "fee_due"
    FEE_RECEIVED = "fee_received"
    METER_TESTED = "meter_tested"
    TERMS = "terms"
    ARCHIVED = "archived"
    COLLECTED = "collected"
    STATEMENT = "statement"
    CLEARANCE = "clearance"
    WITHDRAWN = "withdrawn"
    CLOSED = "closed"
    # A code proving a mobile (backend.otp): by SMS to that mobile, often before any request.
    ONE_TIME_CODE = "one_time_code"
    # The same, for a counter's operator to file on the subscriber's behalf: says which counter
    # asks and for what, since the subscriber reads it out to them.
    COUNTER_CODE = "counter_code"
    # To each admin by SMS: a messenger account was bound to a staff member (backend.staff).
    STAFF_BOUND = "staff_bound"
    # A final statement voided and issued again, corrected, before it was paid.
    STATEMENT_CORRECTED = "statement_corrected"
    # To a staff member's bound messenger accounts (backend.staff_notices): a request given to
    # them, one reaching their role's queue, a step of theirs past its deadline, and (to the
    # supervisors) one left past it.
    STAFF_ASSIGNED = "staff_assigned"
    STAFF_QUEUE = "staff_queue"
    STAFF_OVERDUE = "staff_overdue"
    STAFF_ESCALATED = "staff_escalated"
    # Asked once when a request is final (backend.feedback): how it went, 1 to 5; not essential.
    FEEDBACK = "feedback"
    # To the area's supervisors: a score of 1 or 2, and the comment that came with it.
    STAFF_LOW_SCORE = "staff_low_score"
    STAFF_LOW_SCORE_COMMENT = "staff_low_score_comment"
    # To the area's head: a pishkhan counter's lifecycle step past its deadline (no request).
    STAFF_COUNTER_OVERDUE = "staff_counter_overdue"
    # To a manager who asked for it (backend.reports): the weekly report, Saturday morning.
    STAFF_WEEKLY_REPORT = "staff_weekly_report"
    # To a chat (backend.outages): a planned outage starts in an hour, as it asked; an outage
    # it reported is over.
    OUTAGE_REMINDER = "outage_reminder"
    INCIDENT_RESOLVED = "incident_resolved"
    # A step of a service defined as data (backend.services): its text is the catalog's
    # `service.notice.<the action's notice>`.
    SERVICE_STEP = "service_step"


STAFF_NOTICES = frozenset(
    {
        NoticeKind.STAFF_ASSIGNED,
        NoticeKind.STAFF_QUEUE,
        NoticeKind.STAFF_OVERDUE,
        NoticeKind.STAFF_ESCALATED,
        NoticeKind.STAFF_LOW_SCORE,
        NoticeKind.STAFF_LOW_SCORE_COMMENT,
        NoticeKind.STAFF_COUNTER_OVERDUE,
        NoticeKind.STAFF_WEEKLY_REPORT,
    }
)

# Notices to one chat with no request behind it: `to_channel` and `to_user` in their params,
# their language on the row; by SMS to the bill ID's registered mobile where no bot reaches.
CHAT_NOTICES = frozenset({NoticeKind.OUTAGE_REMINDER, NoticeKind.INCIDENT_RESOLVED})


ESSENTIAL_NOTICES = frozenset(
    {
        NoticeKind.ONE_TIME_CODE,
        NoticeKind.COUNTER_CODE,
        NoticeKind.STAFF_BOUND,
        NoticeKind.RESULT_CORRECTED,
        NoticeKind.RESULT_REJECTED,
        NoticeKind.FEE_DUE,
        NoticeKind.TERMS,
        NoticeKind.STATEMENT,
        NoticeKind.STATEMENT_CORRECTED,
        NoticeKind.CLEARANCE,
        NoticeKind.SERVICE_STEP,
    }
)


class DeliveryState(StrEnum):
    """A notice's state on one channel; every provider's codes collapse into these.

    QUEUED: accepted, not yet handed to an operator. SENT: handed over, outcome not known yet
    (keep polling). DELIVERED: the handset has it. TEMPORARY_FAILURE: sending again may work.
    PERMANENT_FAILURE: sending again will not help (blocked, opted out, cancelled).
    """

    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    TEMPORARY_FAILURE = "temporary-failure"
    PERMANENT_FAILURE = "permanent-failure"


# Statuses after which a request is no longer open (a new one may be filed for the same bill).
FINAL_STATUSES = frozenset({RequestStatus.CLOSED, RequestStatus.WITHDRAWN, RequestStatus.ARCHIVED})


class BroadcastTopic(StrEnum):
    """What a broadcast is about; subscribers can turn each off (`/notices off|on`)."""

    OUTAGE = "outage"
    GENERAL = "general"


class BroadcastChannels(StrEnum):
    MESSENGER = "messenger"
    SMS = "sms"
    MESSENGER_THEN_SMS = "messenger_then_sms"  # SMS for those with no messenger identity


class BroadcastStatus(StrEnum):
    SCHEDULED = "scheduled"
    SENDING = "sending"
    DONE = "done"
    CANCELLED = "cancelled"


class OutageSource(StrEnum):
    """Where a planned outage's schedule entry came from."""

    BROADCAST = "broadcast"  # a planned-outage broadcast composed by staff
    IMPORT = "import"  # a dispatch centre's CSV, entered without broadcasting


class OutageProblem(StrEnum):
    """What a subscriber reports is wrong (as 121 asks)."""

    NO_POWER = "no_power"
    ONE_PHASE = "one_phase"
    WIRE_DOWN = "wire_down"  # a fallen wire or sparks: dangerous
    OTHER = "other"


# Answered first with the safety advice and the 121 number.
DANGEROUS_PROBLEMS = frozenset({OutageProblem.WIRE_DOWN})


class IncidentStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class CounterStatus(StrEnum):
    """Where a pishkhan counter stands in its onboarding and work (seed 002 §4)."""

    INTRODUCED = "introduced"  # the guild association's letter is in; the area office vets it
    APPROVED = "approved"
    REJECTED = "rejected"
    PREREQUISITES_ANNOUNCED = "prerequisites_announced"
    AGREEMENT_SIGNED = "agreement_signed"
    SOFTWARE_INSTALLED = "software_installed"
    OPERATOR_TRAINED = "operator_trained"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"


class CounterAction(StrEnum):
    """A step of a counter's lifecycle (backend.counter_workflow), or a change to its record."""

    INTRODUCE = "introduce"
    APPROVE = "approve"
    REJECT = "reject"
    ANNOUNCE_PREREQUISITES = "announce_prerequisites"
    SIGN_AGREEMENT = "sign_agreement"
    INSTALL_SOFTWARE = "install_software"
    TRAIN_OPERATOR = "train_operator"
    ACTIVATE = "activate"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"
    TERMINATE = "terminate"
    DELEGATE = "delegate"  # the services it may file were changed
    ADD_OPERATOR = "add_operator"


class CounterDocumentType(StrEnum):
    INTRODUCTION_LETTER = "introduction_letter"  # معرفی‌نامه of the guild association
    AGREEMENT = "agreement"  # the scanned signed تفاهم‌نامه


class CounterReason(StrEnum):
    """Why a counter was rejected, suspended or terminated."""

    UNFAVOURABLE_INQUIRY = "unfavourable_inquiry"  # other bodies reported badly on its work
    OUTSIDE_COVERAGE = "outside_coverage"
    PREREQUISITES_MISSING = "prerequisites_missing"
    POOR_INSPECTION = "poor_inspection"
    AGREEMENT_BREACH = "agreement_breach"
    AGREEMENT_ENDED = "agreement_ended"
    COUNTER_REQUEST = "counter_request"  # the office itself asked
    OTHER = "other"


class InspectionKind(StrEnum):
    ANNOUNCED = "announced"  # by the area's head of customer service
    UNANNOUNCED = "unannounced"  # by an HQ inspector


class InspectionStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    PAUSED = "paused"
    DONE = "done"


class ChecklistAnswer(StrEnum):
    """What the visitor saw for an item; it passes when it is the item's expected answer."""

    YES = "yes"
    NO = "no"
    NOT_APPLICABLE = "na"
