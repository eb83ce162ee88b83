"""Neutral buttons as Bot API keyboards."""

from collections.abc import Sequence
from functools import lru_cache

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
    return _inline_markup(
        tuple(
            tuple((render(button.label, locale), button.value) for button in row) for row in buttons
        )
    )


@lru_cache(maxsize=1024)
def _inline_markup(rows: tuple[tuple[tuple[str, str], ...], ...]) -> InlineKeyboardMarkup:
    """Made once for each distinct keyboard: most answers carry one of a few (the menu, yes or
    no), and building its pydantic models cost more than rendering the rest of the answer.
    Shared, never changed: aiogram only reads a markup it sends."""
    for row in rows:
        for _, value in row:
            if len(value.encode()) > CALLBACK_DATA_LIMIT:
                raise ValueError(f"callback data over {CALLBACK_DATA_LIMIT} bytes: {value}")
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=text, callback_data=value) for text, value in row]
            for row in rows
        ]
    )
