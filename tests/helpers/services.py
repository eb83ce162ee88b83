"""Filing a service defined as data in the dialogs, and reading back what it left."""

from typing import Any

from sqlmodel import Session, col, select

from backend.constants import NoticeKind
from backend.models import Notice, ServiceRequest
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
