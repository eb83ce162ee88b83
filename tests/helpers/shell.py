"""The terminal chat (`python -m bot shell`) as a real process: piped a script, or read live."""

import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

DEMO_BILL_ID = "6843834777427"


def run_shell(tmp_path: Path, script: str) -> str:
    """The terminal chat on the SQLite database in `tmp_path`, piped `script`; what it printed."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'desk.db'}",
        "FILES_DIR": str(tmp_path / "files"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "shell"],
        input=script,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    return result.stdout


def after(out: str, typed: str) -> str:
    """What the terminal chat printed in answer to the line `typed` (its first time)."""
    return out.split(f"> {typed}\n", 1)[1].split("\n> ", 1)[0]


class Shell:
    """The terminal chat as a real process, read as it writes."""

    def __init__(self, tmp_path: Path) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'desk.db'}",
            "FILES_DIR": str(tmp_path / "files"),
            "SMS_CONSOLE_PATH": str(tmp_path / "sms.jsonl"),
            "PYTHONUNBUFFERED": "1",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "shell"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        self.output = ""
        self._lines: queue.Queue[str] = queue.Queue()
        assert self.process.stdout is not None
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True).start()

    def _read(self, stdout: object) -> None:
        for line in stdout:  # type: ignore[attr-defined]
            self._lines.put(line)

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def wait_for(self, pattern: re.Pattern[str], timeout: float = 60) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while (found := pattern.search(self.output)) is None:
            ended = self.process.poll() is not None and self._lines.empty()
            assert not ended and time.monotonic() < deadline, (
                f"no {pattern.pattern!r}:\n{self.output}"
            )
            try:
                self.output += self._lines.get(timeout=0.5)
            except queue.Empty:
                continue
        return found

    def close(self) -> str:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)
        while not self._lines.empty():
            self.output += self._lines.get()
        return self.output
