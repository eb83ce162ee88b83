"""What a channel hands the dialogs (events) and what it gets back (replies)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from backend.constants import Channel


class EventKind(StrEnum):
    TEXT = "text"  # typed text; a leading "/" makes it a command
    CHOICE = "choice"  # a button pressed
    CONTACT = "contact"  # a shared phone number
    FILE = "file"  # a document or photo
    LOCATION = "location"  # a location shared from the phone
    UNSUPPORTED = "unsupported"  # a sticker, a voice note, a location...


class FileTooLarge(Exception):
    """Raised by a fetch when the channel will not hand over a file that big."""


class FetchFailed(Exception):
    """Raised by a fetch that failed for a reason a retry may cure (network, the platform's
    5xx): the event is not recorded as handled, so that its redelivery is tried again."""


@dataclass(frozen=True)
class IncomingFile:
    """A file as announced by the channel; `fetch` downloads it, only once it is accepted
    (the engine calls it with no transaction open)."""

    name: str
    content_type: str
    size_bytes: int
    fetch: Callable[[], bytes]


@dataclass(frozen=True)
class Event:
    channel: Channel
    user_id: str
    kind: EventKind
    text: str = ""
    choice: str = ""
    phone: str = ""
    # True only when the channel vouches that the contact is the sender's own number.
    contact_is_own: bool = False
    file: IncomingFile | None = None
    # A shared location (LOCATION): latitude and longitude in degrees.
    location: tuple[float, float] | None = None
    # The channel's id of this delivery (update_id, SMS id): a redelivery is handled once.
    event_id: str | None = None
    # Set when `event_id` is a digest of the message, not an id the channel gave it: the same
    # digest is a redelivery only within this long of its handling (a sliding window).
    repeat_window: timedelta | None = None
