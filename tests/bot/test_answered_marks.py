"""Answers recorded as sent: those that go out together are written in one statement, and a
redelivery of any of them is then answered with nothing."""

import asyncio

import pytest
import sqlalchemy as sa

from backend.constants import Channel
from bot.messenger import AnsweredMarks
from dialogs.engine import DialogEngine
from dialogs.events import Event, EventKind


def test_answers_sent_at_once_are_recorded_in_one_statement(
    dialog_engine: DialogEngine, engine: sa.Engine
) -> None:
    events = [
        Event(Channel.TELEGRAM, str(5000 + n), EventKind.TEXT, text="/help", event_id=f"8{n}")
        for n in range(3)
    ]
    for event in events:
        assert dialog_engine.handle(event).replies  # handled, its answer not yet sent
    updates: list[str] = []

    def record(*args: object) -> None:
        if str(args[2]).startswith("UPDATE processed_event"):
            updates.append(str(args[2]))

    async def send_all() -> None:
        marks = AnsweredMarks(dialog_engine)
        await asyncio.gather(*(marks.mark(event) for event in events))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        asyncio.run(send_all())
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)

    assert len(updates) == 1
    assert [dialog_engine.handle(event).replies for event in events] == [[], [], []]


def test_a_failed_write_is_raised_to_every_caller_and_the_answers_stay_kept(
    dialog_engine: DialogEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = Event(Channel.TELEGRAM, "5100", EventKind.TEXT, text="/help", event_id="900")
    first = dialog_engine.handle(event)
    marks = AnsweredMarks(dialog_engine)

    def unreachable(*events: Event) -> None:
        raise sa.exc.OperationalError("UPDATE", {}, ConnectionError("server closed"))

    async def send() -> list[BaseException | None]:
        return await asyncio.gather(marks.mark(event), marks.mark(event), return_exceptions=True)

    with monkeypatch.context() as patched:
        patched.setattr(dialog_engine, "answered", unreachable)
        outcomes = asyncio.run(send())

    assert all(isinstance(outcome, sa.exc.OperationalError) for outcome in outcomes)
    assert dialog_engine.handle(event) == first  # still kept: the redelivery sends it again
