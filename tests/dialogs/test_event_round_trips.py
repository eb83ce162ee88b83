"""What one event costs the database (issue 17): on PostgreSQL the lock, the claim and the
sender's identity in one statement, the saved state and the kept answer in another, the
answer's going out in a third; and the guarantees that stay: one event handled once, even
when two deliveries of it arrive at once, and a sender who writes again is reachable again."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlmodel import Session, select

from backend.constants import Channel
from backend.conversations import set_reachable
from backend.db import session_scope
from backend.models import ChannelIdentity, ProcessedEvent
from dialogs.engine import Answer, DialogEngine
from dialogs.events import Event, EventKind

# Statements a /help of a known user runs, by database: PostgreSQL does each part in one.
STATEMENTS = {
    "postgresql": ["WITH", "WITH", "UPDATE"],
    # BEGIN IMMEDIATE takes the write lock (backend.db), for each of the two transactions.
    "sqlite": [
        "BEGIN",
        "INSERT",
        "SELECT",
        "INSERT",
        "INSERT",
        "UPDATE",
        "UPDATE",
        "UPDATE",
        "BEGIN",
        "UPDATE",
    ],
}


def help_event(user_id: str, event_id: str) -> Event:
    return Event(Channel.TELEGRAM, user_id, EventKind.TEXT, text="/help", event_id=event_id)


def handle_and_send(dialog_engine: DialogEngine, event: Event) -> Answer:
    answer = dialog_engine.handle(event)
    dialog_engine.answered(event)
    return answer


@contextmanager
def recorded(engine: sa.Engine) -> Iterator[list[str]]:
    """The first word of each statement run on `engine` meanwhile."""
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]).split()[0])

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def test_an_event_of_a_known_user_costs_one_statement_per_part(
    dialog_engine: DialogEngine, engine: sa.Engine
) -> None:
    handle_and_send(dialog_engine, help_event("4001", "700"))  # the user and identity are new

    with recorded(engine) as statements:
        answer = handle_and_send(dialog_engine, help_event("4001", "701"))

    assert answer.replies[0].text.key == "help.menu"
    # On PostgreSQL nothing is written for a sender already known and reachable.
    assert statements == STATEMENTS[engine.dialect.name]


def test_a_sender_marked_unreachable_is_reachable_again_when_they_write(
    dialog_engine: DialogEngine, engine: sa.Engine, session: Session
) -> None:
    handle_and_send(dialog_engine, help_event("4002", "710"))
    with session_scope(engine) as blocked:  # a notice got a 403 meanwhile
        set_reachable(blocked, channel=Channel.TELEGRAM, user_id="4002", reachable=False)

    handle_and_send(dialog_engine, help_event("4002", "711"))

    identities = session.exec(select(ChannelIdentity)).all()
    assert [(i.external_user_id, i.reachable) for i in identities] == [("4002", True)]


def test_two_deliveries_of_one_event_at_once_are_handled_once(
    dialog_engine: DialogEngine, session: Session
) -> None:
    """As two web processes would get them: one handles it, the other waits for the user's
    lock and then finds it handled, with the answer kept for it."""
    handle_and_send(dialog_engine, help_event("4003", "720"))
    event = help_event("4003", "721")
    start = threading.Barrier(2)
    answers: list[Answer] = []
    failures: list[BaseException] = []

    def deliver() -> None:
        start.wait()
        try:
            answers.append(dialog_engine.handle(event))
        except BaseException as error:  # a deadlock would be raised here
            failures.append(error)

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert failures == []
    assert len(answers) == 2 and answers[0] == answers[1]  # the second is the one kept
    assert answers[0].replies[0].text.key == "help.menu"
    handled = session.exec(select(ProcessedEvent).where(ProcessedEvent.event_id == "721")).all()
    assert len(handled) == 1 and handled[0].answered_at is None  # not sent yet: kept
