"""Binding a messenger account to a staff member: their own contact, then the code texted to the
staff phone; admins are told of every binding. A forged contact binds nothing."""

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from backend import otp
from backend.constants import Channel, NoticeKind, OtpPurpose, StaffRole
from backend.conversations import ensure_identity, verify_phone
from backend.models import ChannelIdentity, Notice, StaffBinding, utcnow
from backend.settings import Settings
from backend.staff import staff_for
from dialogs.engine import DialogEngine
from locales.values import Msg
from notifications.runtime import Notifier
from tests.helpers.staff import Hire, StaffChat
from tests.helpers.subscribers import console_sms


def stranger(dialog_engine: DialogEngine, user_id: str = "7777") -> StaffChat:
    """Someone in Bale whose updates claim any contact they like (a forged update can)."""
    chat = StaffChat(dialog_engine, user_id=user_id, channel=Channel.BALE)
    chat.say("/start")
    return chat


def bound_notices(session: Session) -> list[Notice]:
    session.expire_all()
    query = select(Notice).where(Notice.kind == NoticeKind.STAFF_BOUND).order_by(col(Notice.id))
    return list(session.exec(query))


def test_a_forged_contact_of_a_supervisors_phone_binds_nothing(
    hire: Hire, dialog_engine: DialogEngine, session: Session
) -> None:
    supervisor = hire(StaffRole.SUPERVISOR, bind=False)
    forger = stranger(dialog_engine)
    forger.press("menu:phone")
    forger.share_contact(supervisor.phone)  # "its own", says the forged update
    assert forger.keys == ["phone.staff_code_prompt"]

    assert forger.run("/queue")[0] == "input.unknown_command"
    forger.press("menu:phone")
    forger.share_contact(supervisor.phone)  # the code went moments ago: asked for all the same
    wrong = f"{(int(supervisor.texted_code()) + 1) % 1_000_000:06d}"
    forger.say(wrong)
    assert forger.keys == ["otp.wrong", "phone.staff_code_prompt"]
    assert forger.run("/queue")[0] == "input.unknown_command"

    session.expire_all()
    assert staff_for(session, channel=Channel.BALE, user_id="7777") is None
    assert session.exec(select(StaffBinding)).all() == []
    identity = session.exec(
        select(ChannelIdentity).where(ChannelIdentity.external_user_id == "7777")
    ).one()
    assert identity.phone is None and not identity.phone_verified  # nothing recorded of it
    assert bound_notices(session) == []


def test_the_code_texted_to_the_staff_phone_binds_the_account_as_that_member(
    hire: Hire, session: Session
) -> None:
    reviewer = hire(StaffRole.BILLING_REVIEWER, "مینا رضایی", bind=False)
    reviewer.press("menu:phone")
    reviewer.share_contact(reviewer.phone)
    reviewer.say(reviewer.texted_code())
    [bound, _menu] = reviewer.answer.replies if reviewer.answer else []
    assert bound.text == Msg(
        "phone.staff_bound", {"name": "مینا رضایی", "role": Msg("staff.role.billing_reviewer")}
    )
    assert "کارشناس رسیدگی به صورت‌حساب" in reviewer.text()
    assert reviewer.run("/queue")[0] != "input.unknown_command"

    session.expire_all()
    member = staff_for(session, channel=Channel.TELEGRAM, user_id=reviewer.user_id)
    assert member is not None and member.id == reviewer.staff_id
    reviewer.say("/menu")
    reviewer.press("menu:phone")
    reviewer.share_contact(reviewer.phone)  # bound already: no second code, no second notice
    assert reviewer.keys == ["phone.verified_unknown", "menu.prompt"]


def test_every_active_admin_is_told_of_each_binding_by_sms(
    hire: Hire, session: Session, engine: sa.Engine, notice_settings: Settings
) -> None:
    first = hire(StaffRole.ADMIN)  # told of their own binding too
    second = hire(StaffRole.ADMIN, bind=False)
    retired = hire(StaffRole.ADMIN, bind=False)
    session.execute(
        sa.text("UPDATE staff SET active = false WHERE id = :id"), {"id": retired.staff_id}
    )
    session.commit()
    assert [n.to_mobile for n in bound_notices(session)] == [first.phone]

    technician = hire(StaffRole.FIELD_TECHNICIAN, "رضا کاظمی")
    notices = bound_notices(session)[1:]
    assert sorted(n.to_mobile or "" for n in notices) == sorted([first.phone, second.phone])
    assert all(n.essential and n.request_id is None for n in notices)
    assert notices[0].params["name"] == "رضا کاظمی"
    assert (notices[0].params["role"], notices[0].params["channel"]) == (
        "field_technician",
        "telegram",
    )

    Notifier(notice_settings, engine).run_pending()
    told = [
        sms for sms in console_sms(notice_settings.sms_console_path) if "رضا کاظمی" in sms["text"]
    ]
    assert sorted(sms["to"] for sms in told) == sorted([first.phone, second.phone])
    assert all("مأمور فنی" in sms["text"] and "تلگرام" in sms["text"] for sms in told)
    assert technician.phone not in {sms["to"] for sms in told}


def test_wrong_expired_and_locked_codes_are_handled_as_a_removals(
    hire: Hire, dialog_engine: DialogEngine, settings: Settings
) -> None:
    finance = hire(StaffRole.FINANCE, bind=False)
    finance.press("menu:phone")
    finance.share_contact(finance.phone)
    code = finance.texted_code()
    finance.say("12")
    assert finance.keys == ["otp.not_a_code", "phone.staff_code_prompt"]
    now = dialog_engine.clock()
    dialog_engine.clock = lambda: now + timedelta(minutes=settings.otp_valid_minutes)
    finance.say(code)
    assert finance.keys == ["otp.expired", "phone.staff_code_prompt"]
    finance.press("otp:resend")
    assert finance.keys == ["otp.sent_again", "phone.staff_code_prompt"]
    wrong = f"{(int(finance.texted_code()) + 1) % 1_000_000:06d}"
    for _ in range(settings.otp_max_attempts - 1):
        finance.say(wrong)
        assert finance.keys == ["otp.wrong", "phone.staff_code_prompt"]
    finance.say(wrong)
    assert finance.keys == ["otp.locked", "menu.prompt"]
    assert finance.run("/queue")[0] == "input.unknown_command"


def test_a_code_that_proves_a_subscription_mobile_binds_no_staff_account(
    hire: Hire, engine: sa.Engine, settings: Settings
) -> None:
    supervisor = hire(StaffRole.SUPERVISOR, bind=False)
    supervisor.press("menu:phone")
    supervisor.share_contact(supervisor.phone)
    staff_code = supervisor.texted_code()
    with Session(engine) as session, session.begin():
        checked = otp.check_code(
            session,
            channel=Channel.TELEGRAM,
            user_id=supervisor.user_id,
            mobile=supervisor.phone,
            code=staff_code,
            now=supervisor.engine.clock(),
            settings=settings,
            purpose=OtpPurpose.MOBILE,
        )
    assert checked.outcome == otp.CheckOutcome.NO_CODE  # the staff code proves no removal
    supervisor.say(staff_code)
    assert supervisor.keys[0] == "phone.staff_bound"


def test_a_verified_phone_alone_is_no_binding_on_any_channel(
    hire: Hire, dialog_engine: DialogEngine, session: Session
) -> None:
    supervisor = hire(StaffRole.SUPERVISOR, bind=False)
    # An SMS from the staff phone (the operator vouches for the sender), or a phone verified
    # on the way through a removal: the phone is the staff member's, the account is not yet.
    by_sms = StaffChat(dialog_engine, user_id=supervisor.phone, channel=Channel.SMS)
    by_sms.say("/queue")
    with session.begin():
        for channel, user_id in ((Channel.SMS, supervisor.phone), (Channel.BALE, "7778")):
            ensure_identity(session, channel=channel, user_id=user_id, now=utcnow())
            verify_phone(session, channel=channel, user_id=user_id, phone=supervisor.phone)
    for channel, user_id in ((Channel.SMS, supervisor.phone), (Channel.BALE, "7778")):
        assert staff_for(session, channel=channel, user_id=user_id) is None
    assert by_sms.run("/queue")[0] == "input.unknown_command"
