"""The SMS desk's threads record their answers as sent together: the marks that come while one
write is under way are written by the next in one call, and each caller returns only once its
own is written (or raises what the write raised)."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from backend.constants import Channel
from bot.sms_desk import AnsweredMarks
from dialogs.events import Event, EventKind


class SlowWrites:
    """DialogEngine.answered as a slow database sees it: each call takes a while."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[list[str]] = []
        self.written: set[str] = set()
        self.fail = fail
        self._lock = threading.Lock()

    def answered(self, *events: Event) -> None:
        time.sleep(0.05)
        if self.fail:
            raise ConnectionError("the database went away")
        with self._lock:
            self.calls.append([e.event_id or "" for e in events])
            self.written.update(e.event_id or "" for e in events)


def _event(number: int) -> Event:
    return Event(Channel.SMS, f"+98912000{number:04d}", EventKind.TEXT, event_id=f"sms:{number}")


def _marks(writes: SlowWrites) -> AnsweredMarks:
    return AnsweredMarks(writes)  # type: ignore[arg-type]  # what the marks call of the engine


def test_marks_that_wait_are_written_together_and_each_caller_waits_for_its_own() -> None:
    writes = SlowWrites()
    marks = _marks(writes)

    def mark(number: int) -> bool:
        marks.mark(_event(number))
        return f"sms:{number}" in writes.written  # written before the call returned

    with ThreadPoolExecutor(16) as pool:
        returned_after_written = list(pool.map(mark, range(48)))
    assert all(returned_after_written)
    assert sorted(e for call in writes.calls for e in call) == sorted(f"sms:{n}" for n in range(48))
    assert len(writes.calls) < 48 / 2  # batched: far fewer writes than marks


def test_a_failed_write_is_raised_to_every_caller_of_its_batch() -> None:
    marks = _marks(SlowWrites(fail=True))
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(marks.mark, _event(n)) for n in range(8)]
    for future in futures:
        with pytest.raises(ConnectionError):
            future.result()
