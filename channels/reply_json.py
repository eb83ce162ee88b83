"""Replies as JSON and back: message keys with typed parameters, never rendered text, so that a
stored answer is shown again in the channel's markup exactly as it was first."""

from datetime import date, datetime
from typing import Any

from channels.replies import Button, OutgoingFile, Reply
from locales.values import Code, Digits, Msg, Rials

_TYPE = "$"  # the tag of a typed value; a plain string or number is stored as it is


def _value(value: Any) -> Any:
    if isinstance(value, Msg):
        return {_TYPE: "msg", "key": value.key, "params": _params(value.params)}
    if isinstance(value, Code):
        return {_TYPE: "code", "value": value.value}
    if isinstance(value, Rials):
        return {_TYPE: "rials", "amount": value.amount}
    if isinstance(value, Digits):
        return {_TYPE: "digits", "value": value.value}
    if isinstance(value, datetime):
        return {_TYPE: "datetime", "value": value.isoformat()}
    if isinstance(value, date):
        return {_TYPE: "date", "value": value.isoformat()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)  # rendered as its str() anyway (an enum's value, say)


def _params(params: Any) -> dict[str, Any]:
    return {name: _value(value) for name, value in params.items()}


def _typed(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    tag = value[_TYPE]
    if tag == "msg":
        return Msg(value["key"], {name: _typed(v) for name, v in value["params"].items()})
    if tag == "code":
        return Code(value["value"])
    if tag == "rials":
        return Rials(value["amount"])
    if tag == "digits":
        return Digits(value["value"])
    if tag == "datetime":
        return datetime.fromisoformat(value["value"])
    if tag == "date":
        return date.fromisoformat(value["value"])
    raise ValueError(f"unknown stored value type {tag!r}")


def _message(value: Any) -> Msg:
    message = _typed(value)
    assert isinstance(message, Msg)
    return message


def replies_to_json(replies: list[Reply]) -> list[dict[str, Any]]:
    return [
        {
            "text": _value(reply.text),
            "buttons": [
                [{"label": _value(button.label), "value": button.value} for button in row]
                for row in reply.buttons
            ],
            "files": [
                {"storage_key": f.storage_key, "name": f.name, "content_type": f.content_type}
                for f in reply.files
            ],
            "request_contact": reply.request_contact,
        }
        for reply in replies
    ]


def replies_from_json(stored: list[dict[str, Any]]) -> list[Reply]:
    return [
        Reply(
            text=_message(reply["text"]),
            buttons=[
                [Button(_message(button["label"]), button["value"]) for button in row]
                for row in reply["buttons"]
            ],
            files=[OutgoingFile(**file) for file in reply["files"]],
            request_contact=reply["request_contact"],
        )
        for reply in stored
    ]
