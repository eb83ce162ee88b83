"""Every status, kind and code the desk stores, named once."""

from enum import StrEnum


class Channel(StrEnum):
    TELEGRAM = "telegram"
    BALE = "bale"
    SMS = "sms"
    SHELL = "shell"


class RequestKind(StrEnum):
    BILL_REVIEW = "bill_review"
    CONNECTION_REMOVAL = "connection_removal"


class RequestStatus(StrEnum):
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    UPHELD = "upheld"
    BILL_CORRECTED = "bill_corrected"
    REJECTED = "rejected"
    RESULT_ANNOUNCED = "result_announced"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


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
    SUBMITTED = "submitted"


# Statuses after which a request is no longer open (a new one may be filed for the same bill).
FINAL_STATUSES = frozenset({RequestStatus.CLOSED, RequestStatus.WITHDRAWN})
