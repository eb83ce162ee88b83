"""Keys derived from SECRET_KEY, one per purpose, and short-lived values sealed with them.

A database reader without the server's secret can neither compute a keyed hash nor open a
sealed value. Each purpose gets its own key (HMAC of the secret with the purpose's name), so a
key leaked from one use opens nothing of another.
"""

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken

from backend.settings import Settings

# Used while SECRET_KEY is unset, which production refuses (Settings.production_problems).
DEVELOPMENT_SECRET_KEY = "development only: production refuses to run without SECRET_KEY"


class Unsealable(ValueError):
    """A sealed value that does not open: sealed under another key, or altered."""


class SealExpired(Unsealable):
    """A sealed value opened after its time: what it holds is no longer worth sending."""


def derived_key(settings: Settings, purpose: str) -> bytes:
    secret = (
        settings.secret_key.get_secret_value()
        if settings.secret_key is not None
        else DEVELOPMENT_SECRET_KEY
    )
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()


def keyed_hash(settings: Settings, purpose: str, text: str) -> str:
    """HMAC-SHA256 of `text` under the purpose's key, 64 hex digits."""
    return hmac.new(derived_key(settings, purpose), text.encode(), hashlib.sha256).hexdigest()


def seal(settings: Settings, purpose: str, text: str, *, now: datetime) -> str:
    """`text` encrypted and authenticated (Fernet) under the purpose's key, stamped `now`."""
    return _fernet(settings, purpose).encrypt_at_time(text.encode(), int(now.timestamp())).decode()


def unseal(
    settings: Settings, purpose: str, token: str, *, now: datetime, max_age: timedelta
) -> str:
    """What `seal` sealed; SealExpired once `max_age` has passed since it was sealed.

    The stamp is compared with the caller's `now` (not the machine's clock), the moment the
    seal was made being the sealer's `now`: one clock for both, as the tests move it.
    """
    fernet = _fernet(settings, purpose)
    try:
        sealed_at = fernet.extract_timestamp(token)  # checks the signature first
        if now.timestamp() - sealed_at > max_age.total_seconds():
            raise SealExpired("sealed too long ago")
        return fernet.decrypt(token).decode()
    except InvalidToken:
        raise Unsealable("not sealed under this server's key") from None


def _fernet(settings: Settings, purpose: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(derived_key(settings, purpose)))
