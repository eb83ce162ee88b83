"""Puts the flows together into one dialog engine."""

import sqlalchemy as sa

from backend.settings import Settings
from backend.storage import FileStorage
from dialogs import bill_review
from dialogs.engine import DialogEngine
from dialogs.menu import LanguageStep, MenuStep
from dialogs.phone import PhoneStep
from dialogs.tracking import TrackCodeStep


def make_dialog_engine(*, db: sa.Engine, settings: Settings, storage: FileStorage) -> DialogEngine:
    steps = [MenuStep(), LanguageStep(), TrackCodeStep(), PhoneStep(), *bill_review.STEPS]
    return DialogEngine(db=db, settings=settings, storage=storage, steps=steps)
