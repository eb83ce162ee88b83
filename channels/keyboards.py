"""Neutral buttons as Bot API keyboards."""

from collections.abc import Sequence

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from channels.replies import Button, Reply
from locales.values import Msg, render

CALLBACK_DATA_LIMIT = 64  # bytes, the Bot API's limit


def keyboard(reply: Reply, locale: str) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    if reply.request_contact:
        share = KeyboardButton(text=render(Msg("phone.share_button"), locale), request_contact=True)
        return ReplyKeyboardMarkup(keyboard=[[share]], resize_keyboard=True, one_time_keyboard=True)
    return inline_keyboard(reply.buttons, locale)


def inline_keyboard(
    buttons: Sequence[Sequence[Button]], locale: str
) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    rows = []
    for row in buttons:
        for button in row:
            if len(button.value.encode()) > CALLBACK_DATA_LIMIT:
                raise ValueError(f"callback data over {CALLBACK_DATA_LIMIT} bytes: {button.value}")
        rows.append(
            [
                InlineKeyboardButton(text=render(button.label, locale), callback_data=button.value)
                for button in row
            ]
        )
    return InlineKeyboardMarkup(inline_keyboard=rows)
