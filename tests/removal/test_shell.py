"""`python -m bot shell` files a removal, proved by the code the console SMS provider prints."""

import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from backend.tracking import find_tracking_code
from tests.removal.conftest import JPEG

DEMO_BILL_ID = "6843834777427"
SMS_CODE = re.compile(r"SMS to \+98\d+ .*\n.*?([0-9]{6})")


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


def test_a_removal_filed_in_the_terminal_chat_with_the_printed_code(tmp_path: Path) -> None:
    id_card = tmp_path / "id-card.jpg"
    id_card.write_bytes(JPEG)
    shell = Shell(tmp_path)
    try:
        shell.wait_for(re.compile("Demo data loaded"))
        shell.send("3")  # menu: permanent removal of a connection
        shell.send(DEMO_BILL_ID)
        code = shell.wait_for(SMS_CODE).group(1)
        shell.wait_for(re.compile("پیامک شد"))  # the prompt for the code
        for line in (
            code,
            "1",  # reason: the building is demolished
            f"/file {id_card}",
            "1",  # done sending the ID card
            "3",  # neither deed nor lease
            "1",  # I have read and accept that nothing is refunded after paying
            "1",  # file the request
        ):
            shell.send(line)
        shell.wait_for(re.compile("درخواست جمع‌آوری دائم انشعاب شما ثبت شد"))
    finally:
        out = shell.close()
    assert shell.process.returncode == 0, out
    tracking = find_tracking_code(out.split("کد رهگیری:")[-1])
    assert tracking is not None

    db = sa.create_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    with db.connect() as connection:
        request = connection.execute(
            sa.text(
                "SELECT r.kind, r.status, r.reason, r.no_refund_acknowledged, s.bill_id"
                " FROM service_request r JOIN subscription s ON s.id = r.subscription_id"
                " WHERE r.tracking_code = :code"
            ),
            {"code": tracking},
        ).one()
        document = connection.execute(sa.text("SELECT doc_type FROM request_document")).one()
        challenge = connection.execute(
            sa.text("SELECT code_hash, verified_at FROM otp_challenge")
        ).one()
    db.dispose()
    assert tuple(request) == ("connection_removal", "submitted", "demolition", True, DEMO_BILL_ID)
    assert document.doc_type == "id_card"
    assert challenge.verified_at is not None and code not in challenge.code_hash
