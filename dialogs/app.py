"""Puts the flows together into one dialog engine."""

import sqlalchemy as sa

from backend.otp import SmsSender, configured_sms_sender
from backend.settings import Settings
from backend.storage import FileStorage
from dialogs import bill_review, broadcast, follow, my_requests, staff
from dialogs.engine import Context, DialogEngine
from dialogs.menu import LanguageStep, MenuStep
from dialogs.phone import PhoneStep
from dialogs.removal import removal_steps
from dialogs.tracking import TrackCodeStep


def make_dialog_engine(
    *, db: sa.Engine, settings: Settings, storage: FileStorage, sms: SmsSender | None = None
) -> DialogEngine:
    """The dialogs; `sms` sends one-time codes (the gateway the settings name, by default)."""
    steps = [
        MenuStep(),
        LanguageStep(),
        TrackCodeStep(),
        PhoneStep(),
        *bill_review.STEPS,
        *removal_steps(sms or configured_sms_sender(settings)),
        *my_requests.STEPS,
        *staff.STEPS,
        *follow.STEPS,
        *broadcast.STEPS,
    ]
    return DialogEngine(
        db=db,
        settings=settings,
        storage=storage,
        steps=steps,
        other_commands=_other_commands,
    )


def _other_commands(ctx: Context, name: str, argument: str) -> bool:
    """The commands beyond the engine's own, the first flow that takes one runs it."""
    takers = (follow.run_notices_command, broadcast.run_broadcast_command, staff.run_staff_command)
    return any(take(ctx, name, argument) for take in takers)
