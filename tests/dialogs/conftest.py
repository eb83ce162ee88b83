"""Fixtures for dialog tests: the real engine on the test database, and a subscriber."""

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from backend.models import Subscription
from backend.settings import Settings
from backend.storage import LocalFileStorage
from dialogs.app import make_dialog_engine
from dialogs.engine import DialogEngine
from tests.dialogs.chat import ChatUser
from tests.factories import add_subscription


@pytest.fixture
def dialog_engine(engine: sa.Engine, settings: Settings) -> DialogEngine:
    return make_dialog_engine(
        db=engine, settings=settings, storage=LocalFileStorage(settings.files_dir)
    )


@pytest.fixture
def subscription(session: Session) -> Subscription:
    return add_subscription(session)


@pytest.fixture
def user(dialog_engine: DialogEngine) -> ChatUser:
    chat = ChatUser(dialog_engine)
    chat.say("/start")
    return chat
