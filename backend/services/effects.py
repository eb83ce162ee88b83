"""What a defined service's action changes beyond the request itself, named in its definition
(`effect`): the few changes to the subscriber's records that the desk knows how to make."""

from collections.abc import Callable, Mapping
from typing import Literal

from sqlmodel import Session, select

from backend.models import Customer, ServiceRequest, Subscription
from backend.workflows import Refused

Effect = Literal["set_holder", "set_registered_mobile"]


def _records(session: Session, request: ServiceRequest) -> tuple[Subscription, Customer]:
    subscription = session.get(Subscription, request.subscription_id, with_for_update=True)
    assert subscription is not None
    customer = session.get(Customer, subscription.customer_id, with_for_update=True)
    assert customer is not None
    return subscription, customer


def set_holder(session: Session, request: ServiceRequest) -> None:
    """Change of name: the subscription passes to the new holder (a customer already known by
    that national ID, or a new one; their mobile is registered by its own request)."""
    answers = request.answers or {}
    national_id, name = answers["new_holder_national_id"], answers["new_holder_name"]
    subscription, _ = _records(session, request)
    holder = session.exec(select(Customer).where(Customer.national_id == national_id)).first()
    if holder is None:
        holder = Customer(full_name=name, national_id=national_id, created_at=request.updated_at)
        session.add(holder)
        session.flush()
    assert holder.id is not None
    subscription.customer_id = holder.id
    session.add(subscription)


def set_registered_mobile(session: Session, request: ServiceRequest) -> None:
    """Change of the registered mobile, for the holder whose national ID the request gave."""
    answers = request.answers or {}
    _, customer = _records(session, request)
    if customer.national_id is not None and customer.national_id != answers["national_id"]:
        raise Refused("service_national_id_mismatch")
    customer.mobile = answers["new_mobile"]
    session.add(customer)


# The answers each effect reads, by question key and type: the loader checks a definition asks them.
NEEDS: Mapping[str, Mapping[str, str]] = {
    "set_holder": {"new_holder_national_id": "national_id", "new_holder_name": "text"},
    "set_registered_mobile": {"national_id": "national_id", "new_mobile": "mobile"},
}
EFFECTS: Mapping[str, Callable[[Session, ServiceRequest], None]] = {
    "set_holder": set_holder,
    "set_registered_mobile": set_registered_mobile,
}
