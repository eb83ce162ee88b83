"""The messengers the desk speaks, in one table: how each renders text, its limits and its bot.

Adding a messenger whose Bot API mirrors Telegram's (as Bale's does) is one entry here and its
settings; nothing else names the messengers one by one.
"""

from dataclasses import dataclass

from backend.constants import MESSENGER_CHANNELS, Channel
from backend.settings import Settings
from locales.values import HTML, LRI, PDI, Markup


def bale_escape(text: str) -> str:
    # Bale has no parse_mode and renders *bold*, _italic_ and [text](link) on its own: user
    # text must not turn into formatting, so the markers are replaced by look-alikes.
    return text.replace("*", "\u2217").replace("_", "\u2017").replace("](", "] (")


BALE_MARKUP = Markup(escape=bale_escape, code=lambda text: f"{LRI}{text}{PDI}")


@dataclass(frozen=True)
class Messenger:
    """A messenger: how its text is written and what its Bot API accepts."""

    channel: Channel
    markup: Markup
    parse_mode: str | None
    max_text: int = 4096  # characters of one message, after entities are parsed


@dataclass(frozen=True)
class MessengerBot:
    """A messenger whose bot is configured: its token, API base and sending rate."""

    messenger: Messenger
    token: str
    api_base: str
    rate: int  # messages a second the platform allows the token

    @property
    def channel(self) -> Channel:
        return self.messenger.channel


MESSENGERS: dict[Channel, Messenger] = {
    Channel.TELEGRAM: Messenger(Channel.TELEGRAM, HTML, "HTML"),
    Channel.BALE: Messenger(Channel.BALE, BALE_MARKUP, None),  # Bale has no parse_mode
}
assert tuple(MESSENGERS) == MESSENGER_CHANNELS, "backend.constants names the same messengers"


def messenger_bot(settings: Settings, channel: Channel) -> MessengerBot | None:
    """The configured bot of `channel`; None when its token is not set (or it is SMS)."""
    found = {
        Channel.TELEGRAM: (
            settings.telegram_bot_token,
            settings.telegram_api_base,
            settings.telegram_rate,
        ),
        Channel.BALE: (
            settings.bale_bot_token,
            settings.bale_api_base,
            settings.bale_rate,
        ),
    }.get(channel)
    if found is None:
        return None
    token, api_base, rate = found
    if token is None:
        return None
    return MessengerBot(MESSENGERS[channel], token.get_secret_value(), api_base, rate)


def messenger_bots(settings: Settings) -> list[MessengerBot]:
    """Every configured bot, in the table's order."""
    return [bot for channel in MESSENGERS if (bot := messenger_bot(settings, channel))]
