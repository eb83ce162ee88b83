"""SMS gateways behind one interface: Kavenegar, Melipayamak and a console stand-in."""

from channels.sms.base import (
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
from channels.sms.httpapi import RetryPolicy
from channels.sms.registry import (
    SharedProvider,
    SmsSource,
    make_provider,
    send_sms,
    sms_provider,
)

__all__ = [
    "DeliveryState",
    "InboundSms",
    "InvalidPushError",
    "MessageRef",
    "OutgoingSms",
    "RetryPolicy",
    "SendResult",
    "SharedProvider",
    "SmsError",
    "SmsPermanentError",
    "SmsProvider",
    "SmsSource",
    "SmsTemporaryError",
    "StatusResult",
    "Tracked",
    "make_provider",
    "send_sms",
    "sms_provider",
]
