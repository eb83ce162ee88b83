"""How replies look in each messenger: Telegram HTML, Bale plain text, keyboards."""

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from dialogs.events import Button, Reply
from locales.values import LRI, PDI, Markup, Msg, render

CALLBACK_DATA_LIMIT = 64  # bytes, the Bot API's limit


def bale_escape(text: str) -> str:
    # Bale has no parse_mode and renders *bold*, _italic_ and [text](link) on its own: user
    # text must not turn into formatting, so the markers are replaced by look-alikes.
    return text.replace("*", "\u2217").replace("_", "\u2017").replace("](", "] (")


BALE_MARKUP = Markup(escape=bale_escape, code=lambda text: f"{LRI}{text}{PDI}")


def keyboard(reply: Reply, locale: str) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    if reply.request_contact:
        share = KeyboardButton(text=render(Msg("phone.share_button"), locale), request_contact=True)
        return ReplyKeyboardMarkup(keyboard=[[share]], resize_keyboard=True, one_time_keyboard=True)
    return inline_keyboard(reply.buttons, locale)


def inline_keyboard(buttons: list[list[Button]], locale: str) -> InlineKeyboardMarkup | None:
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
