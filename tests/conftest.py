"""Shared fixtures: a database made by the migrations, on SQLite and (where given) PostgreSQL;
the guard that keeps every test, and every process it starts, off the network; and what several
test folders work with: the dialogs, staff, the bots on the fake Bot API, notices, the SMS line.

Plain helpers (chat users, filing, the shell runner, samples) are in tests/helpers/.
"""

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import respx
import sqlalchemy as sa
from pydantic import SecretStr
from sqlmodel import Session, SQLModel

from backend.constants import StaffRole
from backend.db import make_engine, migrate
from backend.models import Subscription
from backend.settings import Settings, get_settings
from backend.staff import add_staff
from backend.storage import LocalFileStorage
from bot.app import make_channel_bots, make_dispatcher
from dialogs.app import make_dialog_engine
from dialogs.engine import DialogEngine
from tests.factories import add_subscription
from tests.fakes.bot_api import FakeBotAPI
from tests.helpers import netguard
from tests.helpers.answers import json_answer
from tests.helpers.bots import BALE_TOKEN, TELEGRAM_TOKEN, WEBHOOK_SECRET, polling
from tests.helpers.chat import ChatUser
from tests.helpers.sms_desk import MELIPAYAMAK, SECRET, Webhook
from tests.helpers.staff import Hire, StaffChat

BACKENDS = ["sqlite", "postgresql"]
_saved_environ: dict[str, str | None] = {}


def pytest_configure(config: pytest.Config) -> None:
    """The network guard, here and (by PYTHONPATH) in the processes tests start."""
    fd, log = tempfile.mkstemp(prefix="netguard-", suffix=".log")
    os.close(fd)
    path = os.environ.get("PYTHONPATH")
    site = str(netguard.SITE_DIR) + (os.pathsep + path if path else "")
    for name, value in ((netguard.LOG_ENV, log), ("PYTHONPATH", site)):
        _saved_environ[name] = os.environ.get(name)
        os.environ[name] = value
    netguard.install()


def pytest_unconfigure(config: pytest.Config) -> None:
    netguard.uninstall()
    if log := os.environ.get(netguard.LOG_ENV):
        Path(log).unlink(missing_ok=True)
    for name, value in _saved_environ.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(autouse=True)
def _no_network_beyond_loopback() -> Iterator[None]:
    """Fails the test if it, or a process it started, tried to reach beyond loopback, even
    where the code caught the NetworkBlockedError (a retry loop, a broad except)."""
    netguard.take_refusals()  # what a previous test's stragglers did is not this test's
    yield
    refused = netguard.take_refusals()
    if refused:
        pytest.fail("network access beyond loopback:\n" + "\n".join(refused), pytrace=False)


def _postgres_admin_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    if os.environ.get("CI"):
        pytest.fail("CI must give TEST_DATABASE_URL: the database tests may not be skipped there")
    return None


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh database per backend and test run, its schema made by `alembic upgrade head`."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        migrate(url)
        yield url
        return
    admin_url = _postgres_admin_url()
    if admin_url is None:
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")
    name = f"desk_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    migrate(url)
    yield url
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    """An engine on the migrated database; every table is emptied after the test."""
    engine = make_engine(database_url)
    yield engine
    with engine.begin() as connection:
        for table in reversed(SQLModel.metadata.sorted_tables):
            connection.execute(table.delete())
    engine.dispose()


@pytest.fixture
def session(engine: sa.Engine, database_url: str) -> Iterator[Session]:
    """The test's own view of the database.

    It uses a plain engine: the app's SQLite engine takes the write lock at every BEGIN, and a
    test that only looks must not block the code it is looking at.
    """
    plain = sa.create_engine(database_url)
    with Session(plain, expire_on_commit=False) as session:
        yield session
    plain.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a test: files go to a temporary folder."""
    get_settings.cache_clear()
    return Settings(files_dir=tmp_path / "files")


# ---- the dialogs, and staff in them -------------------------------------------------------


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


@pytest.fixture
def hire(dialog_engine: DialogEngine, session: Session) -> Hire:
    """Adds a staff member (what `python -m backend staff add` does) and binds their chat."""
    hired: list[StaffChat] = []

    def hire(role: StaffRole, name: str = "", *, bind: bool = True) -> StaffChat:
        number = len(hired) + 1
        phone = f"+98935000{number:04d}"
        staff = add_staff(session, full_name=name or f"کارمند {number}", phone=phone, role=role)
        session.commit()
        chat = StaffChat(dialog_engine, user_id=f"90{number:02d}", staff_id=staff.id, phone=phone)
        chat.say("/start")
        if bind:
            chat.bind()
        hired.append(chat)
        return chat

    return hire


# ---- the bots, against the fake Bot API ---------------------------------------------------


@pytest.fixture
def fake_api() -> Iterator[FakeBotAPI]:
    with FakeBotAPI.running_in_thread() as api:
        api.register_bot(BALE_TOKEN, username="barq_bale_bot", shape="bale")
        yield api


@pytest.fixture
def bot_settings(settings: Settings, fake_api: FakeBotAPI) -> Settings:
    return settings.model_copy(
        update={
            "telegram_bot_token": SecretStr(TELEGRAM_TOKEN),
            "telegram_api_base": fake_api.base_url,
            "bale_bot_token": SecretStr(BALE_TOKEN),
            "bale_api_base": fake_api.base_url,
            "webhook_secret": SecretStr(WEBHOOK_SECRET),
            "bot_api_attempts": 3,
        }
    )


@pytest.fixture
def polling_bots(bot_settings: Settings, engine: sa.Engine, fake_api: FakeBotAPI) -> Iterator[None]:
    """Both bots polling the fake API in this process, on a loop of their own."""
    bots = make_channel_bots(bot_settings, engine)
    with polling(make_dispatcher(bots), [channel_bot.bot for channel_bot in bots], fake_api):
        yield


# ---- notices, and the SMS line ------------------------------------------------------------


@pytest.fixture
def notice_settings(settings: Settings, tmp_path: Path) -> Settings:
    """Settings for the notice machinery: console SMS into a temporary file, in-process jobs."""
    return settings.model_copy(
        update={"sms_console_path": tmp_path / "sms.jsonl", "bot_api_attempts": 1}
    )


@pytest.fixture
def telegram_settings(notice_settings: Settings, fake_api: FakeBotAPI) -> Settings:
    """Notices go out by the real aiogram bot to the fake Bot API, as Telegram (TELEGRAM_TOKEN)."""
    return notice_settings.model_copy(
        update={
            "telegram_bot_token": SecretStr(TELEGRAM_TOKEN),
            "telegram_api_base": fake_api.base_url,
        }
    )


@pytest.fixture
def redis_url() -> str:
    """The test Redis (TEST_REDIS_URL; CI always gives one): a database tests may write to."""
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI must give TEST_REDIS_URL")
        pytest.skip("Redis tests need TEST_REDIS_URL")
    return url


@pytest.fixture
def sms_settings(notice_settings: Settings) -> Settings:
    """The SMS line on Melipayamak, its webhook behind a secret."""
    return notice_settings.model_copy(
        update={
            "sms_provider": "melipayamak",
            "melipayamak_username": "desk",
            "melipayamak_password": SecretStr("melipayamak-password"),
            "sms_sender": "30004000123",
            "sms_webhook_secret": SecretStr(SECRET),
        }
    )


@pytest.fixture
def gateway() -> Iterator[respx.MockRouter]:
    """Melipayamak's SendSMS; every SMS the desk sends is one call to it."""
    with respx.mock(base_url=MELIPAYAMAK, assert_all_mocked=True) as router:
        router.post("/SendSMS").mock(return_value=json_answer("melipayamak", "send"))
        yield router


@pytest.fixture
def webhook(sms_settings: Settings, engine: sa.Engine) -> Iterator[Webhook]:
    """The SMS webhook of the web app, served on 127.0.0.1."""
    served = Webhook(sms_settings, engine)
    yield served
    served.close()
