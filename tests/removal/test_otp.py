"""One-time codes: a keyed hash only, one live code per chat, limits per mobile across codes."""

import hashlib
import hmac
from datetime import timedelta

import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from sqlmodel import Session, col, select

from backend import otp
from backend.constants import Channel
from backend.db import session_scope
from backend.models import Notice, OtpChallenge, utcnow
from backend.notices import opened_params
from backend.settings import Settings
from tests.removal.conftest import MOBILE, Subscriber

NOW = utcnow()


def issue(
    engine: sa.Engine, settings: Settings, *, user: str = "u1", delta: float = 0
) -> otp.Issued:
    with session_scope(engine) as session:
        return otp.issue_code(
            session,
            channel=Channel.SHELL,
            user_id=user,
            mobile=MOBILE,
            locale="fa",
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


def codes_sent(session: Session, settings: Settings) -> list[str]:
    """The codes the outbox holds, opened as the delivery job opens them (the server's key)."""
    session.expire_all()
    notices = session.exec(select(Notice).order_by(col(Notice.id))).all()
    return [opened_params(n.params, settings=settings, now=NOW)["code"] for n in notices]


def wrong_for(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_a_new_code_voids_the_one_before(
    engine: sa.Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch, session: Session
) -> None:
    codes = iter([111111, 222222])
    monkeypatch.setattr(otp.secrets, "randbelow", lambda _: next(codes))
    issue(engine, settings)
    issue(engine, settings, delta=settings.otp_resend_seconds)
    assert codes_sent(session, settings) == ["111111", "222222"]
    assert check(engine, settings, "111111", delta=61) == otp.Checked(
        otp.CheckOutcome.WRONG, tries_left=4
    )
    verified = check(engine, settings, "222222", delta=62)
    assert verified.outcome == otp.CheckOutcome.VERIFIED
    assert verified.notice_id == session.exec(select(Notice.id).order_by(col(Notice.id))).all()[1]
    again = check(engine, settings, "222222", delta=63)
    assert again.outcome == otp.CheckOutcome.NO_CODE  # a used code is not used twice


def test_limits_are_per_mobile_across_chats(
    engine: sa.Engine, settings: Settings, session: Session
) -> None:
    issue(engine, settings, user="u1")
    too_soon = issue(engine, settings, user="u2", delta=10)
    assert too_soon == otp.Issued(otp.IssueOutcome.TOO_SOON, NOW + timedelta(seconds=60))
    [code] = codes_sent(session, settings)
    assert check(engine, settings, code, user="u2", delta=11).outcome == otp.CheckOutcome.NO_CODE


def test_asking_for_new_codes_does_not_start_the_wrong_tries_afresh(
    engine: sa.Engine, settings: Settings, session: Session
) -> None:
    """The finding: four wrong codes, wait for the resend interval, ask for a new code, repeat —
    12 wrong guesses in 126 s, never locked. Now the mobile's fifth wrong try locks it."""
    t = 0.0
    checked: list[otp.CheckOutcome] = []
    issued: list[otp.IssueOutcome] = []
    for _ in range(3):
        issued.append(issue(engine, settings, delta=t).outcome)
        code = codes_sent(session, settings)[-1]
        for _ in range(4):
            t += 1
            checked.append(check(engine, settings, wrong_for(code), delta=t).outcome)
        t += settings.otp_resend_seconds - 4 + 1  # the resend interval has passed: a new code
    assert t == 183 and issued[0] == otp.IssueOutcome.SENT
    # Five guesses were checked (the fifth locks); the other seven were not checked at all.
    assert checked[:4] == [otp.CheckOutcome.WRONG] * 4
    assert checked[4:] == [otp.CheckOutcome.LOCKED] * 8
    assert issued[1:] == [otp.IssueOutcome.SENT, otp.IssueOutcome.COOLING_DOWN]
    wrong_tries = sum(c.attempts for c in session.exec(select(OtpChallenge)).all())
    assert wrong_tries == 5

    # Locked means no check at all: not even the right code gets through.
    right = codes_sent(session, settings)[-1]
    assert check(engine, settings, right, delta=t).outcome == otp.CheckOutcome.LOCKED
    # Until the first code has left the cool-down window: then one wrong try stands.
    cooled = issue(engine, settings, delta=t)
    assert cooled == otp.Issued(
        otp.IssueOutcome.COOLING_DOWN, NOW + timedelta(minutes=settings.otp_cooldown_minutes)
    )
    t = settings.otp_cooldown_minutes * 60.0
    assert issue(engine, settings, delta=t).outcome == otp.IssueOutcome.SENT
    fresh = codes_sent(session, settings)[-1]
    assert check(engine, settings, wrong_for(fresh), delta=t + 1) == otp.Checked(
        otp.CheckOutcome.WRONG,
        tries_left=3,  # the second code's wrong try is still counted
    )
    assert check(engine, settings, fresh, delta=t + 2).outcome == otp.CheckOutcome.VERIFIED


def test_five_wrong_tries_on_one_code_still_lock_it_and_the_lock_ends(
    engine: sa.Engine, settings: Settings, session: Session
) -> None:
    issue(engine, settings)
    [code] = codes_sent(session, settings)
    for left in (4, 3, 2, 1):
        assert check(engine, settings, wrong_for(code), delta=5 - left).tries_left == left
    locked = check(engine, settings, wrong_for(code), delta=5)
    until = NOW + timedelta(minutes=settings.otp_cooldown_minutes)
    assert locked == otp.Checked(otp.CheckOutcome.LOCKED, until=until)
    assert issue(engine, settings, user="u2", delta=600) == otp.Issued(
        otp.IssueOutcome.COOLING_DOWN, until
    )
    assert issue(engine, settings, user="u2", delta=1800).outcome == otp.IssueOutcome.SENT


def test_a_code_proved_right_forgives_its_own_wrong_tries(
    engine: sa.Engine, settings: Settings, session: Session
) -> None:
    issue(engine, settings)
    [code] = codes_sent(session, settings)
    for second in (1, 2, 3):
        check(engine, settings, wrong_for(code), delta=second)
    assert check(engine, settings, code, delta=4).outcome == otp.CheckOutcome.VERIFIED
    issue(engine, settings, delta=120)  # the same person, for another request
    second_code = codes_sent(session, settings)[-1]
    wrong = check(engine, settings, wrong_for(second_code), delta=121)
    assert wrong == otp.Checked(otp.CheckOutcome.WRONG, tries_left=4)


def test_an_answer_that_is_not_six_digits_uses_no_try(
    engine: sa.Engine, settings: Settings, session: Session
) -> None:
    issue(engine, settings)
    [code] = codes_sent(session, settings)
    for typed in ("abc", "کد را ندارم", "12345", "1234567", "", "۱۲۳٬۴۵"):
        assert check(engine, settings, typed, delta=1).outcome == otp.CheckOutcome.NOT_A_CODE
    assert session.exec(select(OtpChallenge.attempts)).one() == 0
    spaced = f"{code[:3]} {code[3:]}".translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert check(engine, settings, spaced, delta=2).outcome == otp.CheckOutcome.VERIFIED


def test_the_hash_cannot_be_computed_from_the_row_alone(
    engine: sa.Engine, settings: Settings, session: Session
) -> None:
    """The finding: the hash was keyed by the mobile stored in the same row. Now by a key
    derived from SECRET_KEY, which the database does not hold."""
    issue(engine, settings)
    [code] = codes_sent(session, settings)
    challenge = session.exec(select(OtpChallenge)).one()
    from_the_row = [
        hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()
        for key in (challenge.mobile, challenge.user_id, "")
        for message in (code, f"{challenge.mobile}:{code}", f"{challenge.mobile}{code}")
    ] + [hashlib.sha256(f"{challenge.mobile}{code}".encode()).hexdigest()]
    assert len(challenge.code_hash) == 64 and challenge.code_hash not in from_the_row
    # Another server secret makes another hash: the right code is then wrong.
    other = settings.model_copy(update={"secret_key": SecretStr("another server " * 4)})
    assert check(engine, other, code, delta=1).outcome == otp.CheckOutcome.WRONG
    assert check(engine, settings, code, delta=2).outcome == otp.CheckOutcome.VERIFIED


def test_in_the_dialog_letters_are_asked_again_without_using_a_try(
    shell_user: Subscriber, subscription: object, session: Session
) -> None:
    shell_user.press("menu:removal")
    shell_user.say(subscription.bill_id)  # type: ignore[attr-defined]
    assert shell_user.last.key == "otp.prompt"
    shell_user.say("کد نیامده")
    assert shell_user.keys == ["otp.not_a_code", "otp.prompt"]
    shell_user.sticker()
    assert shell_user.keys == ["input.unsupported", "otp.prompt"]
    assert session.exec(select(OtpChallenge.attempts)).one() == 0
