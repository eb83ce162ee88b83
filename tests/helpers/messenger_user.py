"""A scripted subscriber in Telegram or Bale, talking to the bots through the fake Bot API."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from backend.models import Bill, Subscription
from backend.tracking import find_tracking_code
from tests.fakes.bot_api import (
    FakeBotAPI,
    callback_update,
    contact_update,
    document_update,
    location_update,
    message_update,
    photo_update,
    voice_update,
)
from tests.helpers.samples import MESSENGER_METER_PHOTO

SENDS = ("sendMessage", "sendDocument", "sendPhoto")


@dataclass
class MessengerUser:
    api: FakeBotAPI
    token: str
    user_id: int
    shape: str = "telegram"
    # How an update reaches the bot: queued for getUpdates unless a webhook poster is given.
    deliver: Callable[[dict[str, Any]], object] | None = None
    replies: list[dict[str, Any]] = field(default_factory=list)

    def _sent(self) -> list[dict[str, Any]]:
        """What the bot sent this chat, in the order it was sent (a document among messages)."""
        sends = {method.lower() for method in SENDS}
        return [
            call.params
            for call in self.api.calls(token=self.token)
            if call.method.lower() in sends and str(call.params.get("chat_id")) == str(self.user_id)
        ]

    def send(self, update: dict[str, Any], *, expect_reply: bool = True) -> list[dict[str, Any]]:
        """Delivers the update and returns once the bot is done with it: everything it caused
        has been sent by then (a webhook is answered after the handling; a pushed update waits
        for the bot side's word, see tests/helpers/bots.py)."""
        before = len(self._sent())
        if self.deliver is None:
            self.api.push_update_and_wait(self.token, update)
        else:
            self.deliver(update)
        self.replies = self._replies(before, expect_reply)
        return self.replies

    def _replies(self, before: int, expect_reply: bool) -> list[dict[str, Any]]:
        """The bot's messages after the first `before`."""
        sent = self._sent()[before:]
        if expect_reply:
            assert sent, "the bot did not answer"
        return sent

    def say(self, text: str, **kwargs: Any) -> list[dict[str, Any]]:
        return self.send(message_update(self.user_id, text, shape=self.shape), **kwargs)

    def press(self, data: str) -> list[dict[str, Any]]:
        message_id = self._message_with_button(data)
        return self.send(callback_update(self.user_id, data, message_id, shape=self.shape))

    def photo(self, content: bytes) -> list[dict[str, Any]]:
        return self.send(photo_update(self.user_id, content, shape=self.shape))

    def document(
        self, name: str, mime: str, content: bytes | None = None, size: int | None = None
    ) -> list[dict[str, Any]]:
        update = document_update(
            self.user_id, name, mime, content, file_size=size, shape=self.shape
        )
        return self.send(update)

    def location(self, latitude: float, longitude: float) -> list[dict[str, Any]]:
        return self.send(location_update(self.user_id, latitude, longitude, shape=self.shape))

    def voice(self) -> list[dict[str, Any]]:
        return self.send(voice_update(self.user_id, shape=self.shape))

    def contact(self, phone: str, owner: int) -> list[dict[str, Any]]:
        return self.send(contact_update(self.user_id, phone, owner, shape=self.shape))

    @property
    def text(self) -> str:
        return "\n".join(str(reply.get("text", "")) for reply in self.replies)

    def buttons(self) -> list[str]:
        return [
            button["callback_data"]
            for reply in self.replies
            for row in (reply.get("reply_markup") or {}).get("inline_keyboard", [])
            for button in row
        ]

    def _message_with_button(self, data: str) -> int:
        for message in reversed(self.api.sent_messages(self.token, self.user_id)):
            rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
            if any(button.get("callback_data") == data for row in rows for button in row):
                return int(message["message_id"])
        raise AssertionError(f"no live button {data!r} in the chat")


def file_a_review(user: MessengerUser, subscription: Subscription, bill: Bill) -> str:
    """Walks the whole bill review flow with a photo; returns the tracking code."""
    user.say("/start")
    assert "menu:review" in user.buttons()
    user.press("menu:review")
    user.say(subscription.bill_id)
    user.press(f"bill:{bill.id}")
    user.press("reason:wrong_reading")
    user.say("رقم کنتور <۱۲۳۴۵> بود")
    user.photo(MESSENGER_METER_PHOTO)
    assert "دریافت شد" in user.text
    user.press("docs:done")
    assert "&lt;۱۲۳۴۵&gt;" in user.text or "<۱۲۳۴۵>" in user.text
    user.press("summary:confirm")
    assert "کد رهگیری" in user.text
    request = user_request(user)
    return request


def user_request(user: MessengerUser) -> str:
    code = find_tracking_code(user.text.replace("<code>", " ").replace("</code>", " "))
    assert code is not None
    return code
