"""SMS gateways behind one interface: Kavenegar, Melipayamak and a console stand-in."""

from notifications.sms.base import (
    DeliveryState,
    InboundSms,
    InvalidPushError,
    MessageRef,
    OutgoingSms,
    SendResult,
    SmsError,
    SmsPermanentError,
    SmsProvider,
    SmsTemporaryError,
    StatusResult,
    Tracked,
)
from notifications.sms.httpapi import RetryPolicy
from notifications.sms.registry import make_provider

__all__ = [
    "DeliveryState",
    "InboundSms",
    "InvalidPushError",
    "MessageRef",
    "OutgoingSms",
    "RetryPolicy",
    "SendResult",
    "SmsError",
    "SmsPermanentError",
    "SmsProvider",
    "SmsTemporaryError",
    "StatusResult",
    "Tracked",
    "make_provider",
]
