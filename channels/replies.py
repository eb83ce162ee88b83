"""What the dialogs and notices hand a channel to show: neutral replies, buttons and files."""

from dataclasses import dataclass, field

from locales.values import Msg


@dataclass(frozen=True)
class Button:
    label: Msg
    value: str  # at most 64 bytes and never personal data: it travels as callback data


@dataclass(frozen=True)
class OutgoingFile:
    storage_key: str
    name: str
    content_type: str


@dataclass(frozen=True)
class Reply:
    text: Msg
    buttons: list[list[Button]] = field(default_factory=list)
    files: list[OutgoingFile] = field(default_factory=list)
    request_contact: bool = False
