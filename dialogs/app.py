"""Puts the flows together into one dialog engine."""

import sqlalchemy as sa

from backend.settings import Settings
from backend.storage import FileStorage
from dialogs import (
    bill_review,
    broadcast,
    counter_filing,
    counter_finder,
    feedback,
    follow,
    my_bill,
    my_requests,
    outage_report,
    outage_staff,
    outages,
    self_reading,
    service_flow,
    staff,
)
from dialogs.engine import Context, DialogEngine, Effects
from dialogs.menu import BillIdActionsStep, LanguageStep, MenuStep
from dialogs.phone import PhoneStep, StaffCodeStep
from dialogs.removal import removal_steps
from dialogs.staff.counter_steps import CounterPaperStep, run_counter_command
from dialogs.tracking import TrackCodeStep


def make_dialog_engine(
    *,
    db: sa.Engine,
    settings: Settings,
    storage: FileStorage,
    effects: Effects | None = None,
) -> DialogEngine:
    """The dialogs; one-time codes go out as notices of the outbox, as every notice does."""
    steps = [
        MenuStep(),
        BillIdActionsStep(),
        LanguageStep(),
        TrackCodeStep(),
        PhoneStep(),
        StaffCodeStep(),
        *bill_review.STEPS,
        *removal_steps(),
        *my_requests.STEPS,
        *my_bill.STEPS,
        *staff.STEPS,
        *follow.STEPS,
        *broadcast.STEPS,
        *feedback.STEPS,
        *counter_finder.STEPS,
        *outages.STEPS,
        *outage_report.STEPS,
        *self_reading.STEPS,
        *outage_staff.STEPS,
        *counter_filing.STEPS,
        *service_flow.STEPS,
        CounterPaperStep(),
    ]
    return DialogEngine(
        db=db,
        settings=settings,
        storage=storage,
        steps=steps,
        other_commands=_other_commands,
        effects=effects,
    )


def _other_commands(ctx: Context, name: str, argument: str) -> bool:
    """The commands beyond the engine's own, the first flow that takes one runs it."""
    takers = (
        follow.run_notices_command,
        broadcast.run_broadcast_command,
        outage_staff.run_outage_command,
        counter_filing.run_command,
        run_counter_command,
        staff.run_staff_command,
    )
    return any(take(ctx, name, argument) for take in takers)
