"""Filing a service defined as data in the dialogs, and reading back what it left."""

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from backend.constants import Channel, NoticeKind
from backend.models import Notice, ServiceRequest, Subscription, utcnow
from backend.service_requests import DraftDocument
from backend.services.engine import defined_service, file_service
from backend.settings import Settings
from dialogs.service_flow import CONFIRM, PICK
from tests.helpers.chat import ChatUser


def file(user: ChatUser, service: str, *answers: str | tuple[str, ...]) -> str:
    """From the menu: the service, each answer typed (or, a tuple, the button pressed), the
    summary confirmed; its tracking code."""
    user.press("menu:services")
    assert f"{PICK}{service}" in user.buttons, user.buttons
    user.press(f"{PICK}{service}")
    for answer in answers:
        if isinstance(answer, tuple):
            for value in answer:
                user.press(value)
        else:
            user.say(answer)
    assert user.last.key == "service.summary", user.keys
    user.press(CONFIRM)
    return filed_code(user)


def filed_code(user: ChatUser) -> str:
    """The tracking code the filing just answered with."""
    filed = next(r.text for r in user.answer.replies if r.text.key == "service.filed")  # type: ignore[union-attr]
    code: str = filed.params["code"].value
    return code


def request_by(session: Session, code: str) -> ServiceRequest:
    session.expire_all()
    return session.exec(select(ServiceRequest).where(ServiceRequest.tracking_code == code)).one()


def service_notices(session: Session, request: ServiceRequest) -> list[dict[str, Any]]:
    """The request's step notices' parameters, in order."""
    query = select(Notice).where(
        Notice.request_id == request.id, Notice.kind == NoticeKind.SERVICE_STEP
    )
    return [notice.params for notice in session.exec(query.order_by(col(Notice.id)))]


def filed_directly(
    session: Session,
    settings: Settings,
    subscription: Subscription,
    service: str,
    answers: dict[str, Any],
    *,
    filer: str = "registered_mobile",
    documents: tuple[DraftDocument, ...] = (),
    now: datetime | None = None,
) -> ServiceRequest:
    """A request of a defined service filed at the backend from user 1001's Telegram chat (by
    the registered mobile's holder, proven, unless `filer` says otherwise), committed."""
    definition = defined_service(service)
    assert definition is not None and subscription.id is not None
    proven = {"mobile_proven": True} if filer == "registered_mobile" else {}
    request = file_service(
        session,
        definition=definition,
        subscription_id=subscription.id,
        filer=filer,
        answers={"bill_id": subscription.bill_id, **proven, **answers},
        documents=list(documents),
        channel=Channel.TELEGRAM,
        user_id="1001",
        locale="fa",
        now=now or utcnow(),
        settings=settings,
    )
    session.commit()
    return request
