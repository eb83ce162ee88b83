"""One-time codes: sent after commit, kept as a hash, one live code per chat, per-mobile limits."""

import logging
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from backend import otp
from backend.constants import Channel
from backend.db import session_scope
from backend.models import OtpChallenge, utcnow
from backend.settings import Settings
from tests.removal.conftest import MOBILE

NOW = utcnow()


def issue(
    engine: sa.Engine, settings: Settings, sent: list[str], *, user: str = "u1", delta: float = 0
) -> otp.Issued:
    with session_scope(engine) as session:
        return otp.issue_code(
            session,
            channel=Channel.SHELL,
            user_id=user,
            mobile=MOBILE,
            deliver=sent.append,
            now=NOW + timedelta(seconds=delta),
            settings=settings,
        )


def check(
    engine: sa.Engine, settings: Settings, code: str, *, user: str = "u1", delta: float = 0
) -> otp.Checked:
    with session_scope(engine) as session:
        return otp.check_code(
            session,
            channel=Channel.SHELL,
            user_id=user,
            mobile=MOBILE,
            code=code,
            now=NOW + timedelta(seconds=delta),
            settings=settings,
        )


def test_the_code_is_delivered_after_commit_and_only_its_hash_is_kept(
    engine: sa.Engine, settings: Settings, session: Session
) -> None:
    sent: list[str] = []
    with pytest.raises(RuntimeError), session_scope(engine) as rolled_back:
        otp.issue_code(
            rolled_back,
            channel=Channel.SHELL,
            user_id="u1",
            mobile=MOBILE,
            deliver=sent.append,
            now=NOW,
            settings=settings,
        )
        assert sent == []  # not before the commit...
        raise RuntimeError("the handling failed")
    assert sent == []  # ...and never for a code that was not stored
    assert issue(engine, settings, sent).outcome == otp.IssueOutcome.SENT
    (code,) = sent
    (challenge,) = session.exec(select(OtpChallenge)).all()
    assert code not in challenge.code_hash
    assert challenge.expires_at == NOW + timedelta(minutes=5)


def test_a_new_code_voids_the_one_before(
    engine: sa.Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    codes = iter([111111, 222222])
    monkeypatch.setattr(otp.secrets, "randbelow", lambda _: next(codes))
    sent: list[str] = []
    issue(engine, settings, sent)
    issue(engine, settings, sent, delta=settings.otp_resend_seconds)
    assert sent == ["111111", "222222"]
    assert check(engine, settings, "111111", delta=61).outcome == otp.CheckOutcome.WRONG
    assert check(engine, settings, "222222", delta=62).outcome == otp.CheckOutcome.VERIFIED
    again = check(engine, settings, "222222", delta=63)
    assert again.outcome == otp.CheckOutcome.NO_CODE  # a used code is not used twice


def test_limits_are_per_mobile_across_chats(engine: sa.Engine, settings: Settings) -> None:
    sent: list[str] = []
    issue(engine, settings, sent, user="u1")
    too_soon = issue(engine, settings, sent, user="u2", delta=10)
    assert too_soon == otp.Issued(otp.IssueOutcome.TOO_SOON, NOW + timedelta(seconds=60))
    assert len(sent) == 1
    assert check(engine, settings, sent[0], user="u2", delta=11).outcome == otp.CheckOutcome.NO_CODE


def test_a_lost_sms_is_logged_masked_and_does_not_undo_the_handling(
    engine: sa.Engine, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    def fail(_: str) -> None:
        raise ConnectionError("gateway down")

    with caplog.at_level(logging.ERROR), session_scope(engine) as session:
        otp.issue_code(
            session,
            channel=Channel.SHELL,
            user_id="u1",
            mobile=MOBILE,
            deliver=fail,
            now=NOW,
            settings=settings,
        )
    assert "+98912***4567" in caplog.text and MOBILE not in caplog.text


def test_the_configured_sender_prints_through_the_console_provider(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "sms.jsonl"
    console = settings.model_copy(update={"sms_provider": "console", "sms_console_path": path})
    otp.configured_sms_sender(console)(MOBILE, "کد تأیید: 123456")
    assert "123456" in capsys.readouterr().out
    assert "123456" in path.read_text(encoding="utf-8")
