"""The delivery job: claim a delivery under its row lock, send with no session open, record.

Claiming checks the job's lease token, counts the attempt and extends the lease, all in one
commit; the send follows outside any transaction; the outcome is recorded in a new one, only if
the lease is still this job's. Temporary failures are retried with a doubling pause up to
`notice_max_attempts`, then fail for good; a messenger that fails for good hands over to SMS.

A messenger send is marked SENDING when claimed. A job that dies before recording leaves that
mark, and its delivery is not sent again: nobody can ask the Bot API whether the message got
through, so it is "in doubt" and goes by SMS instead. An SMS is sent again, under the same
reference, when the gateway uses it to send it once (Kavenegar's localid); on a gateway that
does not (Melipayamak: `dedupes_by_reference` False) an SMS is marked SENDING too, and one
whose job died, or whose answer was lost, is in doubt and not sent a second time.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from backend.actions import pending_payment_of
from backend.constants import CHAT_NOTICES, STAFF_NOTICES, Channel, DeliveryState, NoticeKind
from backend.conversations import set_reachable
from backend.db import session_scope
from backend.models import Conversation, Notice, NoticeDelivery, ServiceRequest, SmsOptOut
from backend.notice_status import shown_address
from backend.notices import opened_params
from backend.payments import payment_link
from backend.sealing import SealExpired
from backend.settings import Settings
from channels.clients import BlockingSender
from channels.metrics import NOTICE_DELIVERIES
from channels.outcome import IN_DOUBT as IN_DOUBT  # a raw code of deliveries
from channels.outcome import Outcome, OutcomeKind
from channels.registry import MESSENGERS
from channels.render import feedback_buttons, notice_message, render_for_channel
from channels.replies import Button
from channels.request_buttons import request_buttons
from channels.sms import MessageRef, SmsError, SmsSource, send_sms
from channels.staff_buttons import staff_buttons
from locales.catalogs import MissingMessage
from locales.values import Msg, Rials
from notifications.policy import sms_fallback

log = logging.getLogger(__name__)
OPTED_OUT = "opted-out"
RENDER_ERROR = "render-error"
EXPIRED = "expired"  # raw code of a one-time code that could not go out while it was valid
NO_BOT = "no-bot"  # raw code of a messenger send with no bot configured for it
SENDING = "sending"  # raw code of a send whose outcome is not recorded yet (see above)
# IN_DOUBT: the raw code of one whose job died, or whose answer was lost: perhaps sent
MAX_RETRY_PAUSE = timedelta(hours=1)
REPORTS_BATCH = 500
REPORTS_FOR = timedelta(days=3)  # an SMS with no final report by then is left as it is
AWAITING_REPORT = (DeliveryState.QUEUED, DeliveryState.SENT)


@dataclass(frozen=True)
class Claim:
    delivery_id: int
    notice_id: int
    channel: Channel
    address: str
    text: str
    lease: datetime
    locale: str
    buttons: list[list[Button]]  # a messenger's: what the subscriber can do now


class Deliverer:
    def __init__(
        self,
        *,
        db: sa.Engine,
        settings: Settings,
        sms: SmsSource,
        messenger: BlockingSender | None,
        clock: Callable[[], datetime],
    ) -> None:
        self.db = db
        self.settings = settings
        self.sms = sms
        self.messenger = messenger
        self.clock = clock
        self._sms_dedupes: bool | None = None

    def deliver(self, delivery_id: int, token: str) -> None:
        claim = self._claim(delivery_id, datetime.fromisoformat(token))
        if claim is None:
            return
        outcome = self._send(claim)
        self._record(claim, outcome)

    def _claim(self, delivery_id: int, token: datetime) -> Claim | None:
        now = self.clock()
        with session_scope(self.db) as session:
            delivery = session.get(NoticeDelivery, delivery_id, with_for_update=True)
            if delivery is None or delivery.next_attempt_at != token:
                return None  # done already, or handed to a newer job
            notice = session.get(Notice, delivery.notice_id)
            assert notice is not None
            if self._opted_out(session, delivery, notice):
                self._finish(delivery, DeliveryState.PERMANENT_FAILURE, OPTED_OUT, now)
                return None
            if delivery.raw_code == SENDING:
                self._finish(delivery, DeliveryState.PERMANENT_FAILURE, IN_DOUBT, now)
                if delivery.channel == Channel.SMS:
                    log.warning("delivery %s: its job died while sending; not again", delivery.id)
                else:
                    log.warning("delivery %s: its job died while sending; SMS instead", delivery.id)
                    sms_fallback(session, notice.id or 0, now=now)
                return None
            # A direct notice (a one-time code) has its own mobile and language, and perhaps
            # no request; nothing of a request's is added to it.
            request = None
            # A staff notice too: in its staff member's language, about no request of theirs;
            # and a chat notice, in its chat's.
            if notice.to_mobile is None and notice.kind not in STAFF_NOTICES | CHAT_NOTICES:
                request = session.get(ServiceRequest, notice.request_id)
                assert request is not None
            locale = (
                self._locale(session, request, delivery)
                if request is not None
                else notice.locale or self.settings.default_locale
            )
            try:
                text = render_for_channel(
                    # Sealed parameters are opened here only: never stored or logged in clear.
                    notice_message(
                        notice.kind,
                        opened_params(notice.params, settings=self.settings, now=now),
                        delivery.channel,
                    ),
                    delivery.channel,
                    locale,
                    self.settings.sms_max_parts,
                    self._payment_link(session, delivery, notice, request),
                )
                buttons = self._buttons(session, delivery, notice, request)
            except SealExpired:
                log.warning(
                    "notice %s (%s) expired before it could be sent", notice.id, notice.kind
                )
                self._finish(delivery, DeliveryState.PERMANENT_FAILURE, EXPIRED, now)
                return None
            except (KeyError, MissingMessage, ValueError) as error:
                log.error("notice %s (%s) cannot be rendered: %r", notice.id, notice.kind, error)
                self._finish(delivery, DeliveryState.PERMANENT_FAILURE, RENDER_ERROR, now)
                delivery.last_error = repr(error)[:500]
                return None
            delivery.attempts += 1
            sms = delivery.channel == Channel.SMS
            if delivery.channel in MESSENGERS or (sms and not self._sms_sent_once()):
                delivery.raw_code = SENDING
            delivery.next_attempt_at = now + timedelta(seconds=self.settings.notice_lease_seconds)
            delivery.updated_at = now
            session.add(delivery)
            assert delivery.id is not None and notice.id is not None
            return Claim(
                delivery.id,
                notice.id,
                delivery.channel,
                delivery.address,
                text,
                delivery.next_attempt_at,
                locale,
                buttons,
            )

    def _sms_sent_once(self) -> bool:
        """Whether the SMS gateway sends a message once however often it is sent under its
        reference (asked once: the gateway does not change while the process runs)."""
        if self._sms_dedupes is None:
            with self.sms() as provider:
                self._sms_dedupes = provider.dedupes_by_reference
        return self._sms_dedupes

    def _send(self, claim: Claim) -> Outcome:
        if claim.channel == Channel.SMS:
            # Kavenegar's localid: a send retried after a lost answer is not sent twice. On
            # another gateway a lost answer is in doubt (send_sms), never sent again.
            with self.sms() as provider:
                reference = str(claim.delivery_id)
                return send_sms(provider, claim.address, claim.text, reference=reference)
        if self.messenger is None or not self.messenger.configured(claim.channel):
            return Outcome(OutcomeKind.PERMANENT, NO_BOT, error=f"no bot for {claim.channel}")
        return self.messenger.send_text(
            claim.channel, claim.address, claim.text, buttons=claim.buttons, locale=claim.locale
        )

    def _record(self, claim: Claim, outcome: Outcome) -> None:
        now = self.clock()
        shown = shown_address(claim.channel, claim.address)
        with session_scope(self.db) as session:
            delivery = session.get(NoticeDelivery, claim.delivery_id, with_for_update=True)
            assert delivery is not None
            unsettled = delivery.next_attempt_at is not None or delivery.raw_code == IN_DOUBT
            if outcome.state is not None and unsettled:
                # Sent: recorded even if the lease ran out meanwhile (or a newer job found it
                # in doubt), so it is not sent again; only failures and their retries belong
                # to the lease holder.
                self._finish(delivery, outcome.state, outcome.raw_code, now)
                delivery.provider_message_id = outcome.provider_id
                delivery.last_error = None
                log.info("delivery %s to %s: %s", delivery.id, shown, outcome.state)
                return
            if delivery.next_attempt_at != claim.lease:
                log.warning("delivery %s: lease lost while sending", claim.delivery_id)
                return
            delivery.last_error = (outcome.error or "")[:500]
            if not outcome.permanent and delivery.attempts < self.settings.notice_max_attempts:
                self._finish(delivery, DeliveryState.TEMPORARY_FAILURE, outcome.raw_code, now)
                delivery.next_attempt_at = now + self._pause(delivery.attempts, outcome)
                log.info("delivery %s to %s: retry (%s)", delivery.id, shown, outcome.error)
                return
            self._finish(delivery, DeliveryState.PERMANENT_FAILURE, outcome.raw_code, now)
            log.warning("delivery %s to %s failed: %s", delivery.id, shown, outcome.error)
            if claim.channel in MESSENGERS:
                if outcome.unreachable:
                    set_reachable(
                        session, channel=claim.channel, user_id=claim.address, reachable=False
                    )
                sms_fallback(session, claim.notice_id, now=now)

    def poll_reports(self) -> int:
        """Asks the SMS gateway what became of sent messages; the number whose state changed."""
        now = self.clock()
        with session_scope(self.db) as session:
            awaiting = session.exec(
                select(NoticeDelivery.id, NoticeDelivery.provider_message_id)
                .where(
                    NoticeDelivery.channel == Channel.SMS,
                    col(NoticeDelivery.state).in_(AWAITING_REPORT),
                    col(NoticeDelivery.next_attempt_at).is_(None),
                    col(NoticeDelivery.provider_message_id).is_not(None),
                    col(NoticeDelivery.updated_at) >= now - REPORTS_FOR,
                )
                .order_by(col(NoticeDelivery.id))
                .limit(REPORTS_BATCH)
            ).all()
        if not awaiting:
            return 0
        try:
            with self.sms() as provider:
                results = provider.status([MessageRef(str(i), p) for i, p in awaiting])
        except SmsError as error:
            log.warning("delivery reports unavailable: %s", error)
            return 0
        changed = 0
        with session_scope(self.db) as session:
            for result in results:
                delivery = session.get(NoticeDelivery, int(result.reference), with_for_update=True)
                if (
                    delivery is not None
                    and delivery.state in AWAITING_REPORT
                    and delivery.next_attempt_at is None
                    and delivery.state != result.state
                ):
                    self._finish(delivery, result.state, result.raw_code, now)
                    changed += 1
        return changed

    def _payment_link(
        self,
        session: Session,
        delivery: NoticeDelivery,
        notice: Notice,
        request: ServiceRequest | None,
    ) -> Msg | None:
        """A money notice by SMS carries the link to pay what is due now: SMS has no buttons."""
        if delivery.channel != Channel.SMS or not notice.essential or request is None:
            return None
        payment = pending_payment_of(session, request)
        if payment is None:
            return None
        link = payment_link(self.settings, payment)
        return Msg("requests.pay_link", {"amount": Rials(payment.amount_rials), "link": link})

    @staticmethod
    def _buttons(
        session: Session, delivery: NoticeDelivery, notice: Notice, request: ServiceRequest | None
    ) -> list[list[Button]]:
        """A messenger notice's buttons: what its staff member, or the subscriber, can do now."""
        if delivery.channel not in MESSENGERS:
            return []
        if notice.kind in STAFF_NOTICES:
            return staff_buttons(session, notice.params)
        if notice.kind == NoticeKind.FEEDBACK:  # the scores, and nothing else to press there
            return feedback_buttons(notice.params["code"])
        return request_buttons(session, request, withdraw=False) if request is not None else []

    def _locale(self, session: Session, request: ServiceRequest, delivery: NoticeDelivery) -> str:
        """A messenger's notice is read in its chat's language now; an SMS in the one the
        subscriber last chose where they filed (kept with the request), not in whichever chat
        changed last. The default otherwise."""
        sms = delivery.channel == Channel.SMS
        if sms and request.locale:
            return request.locale
        # A messenger's chat is the requester's, or (filed at a counter) the subscriber's.
        channel, user_id = (
            (request.channel, request.channel_user_id)
            if sms
            else (delivery.channel, delivery.address)
        )
        locale = session.exec(
            select(Conversation.locale).where(
                Conversation.channel == channel, Conversation.user_id == user_id
            )
        ).first()
        return locale or self.settings.default_locale

    @staticmethod
    def _opted_out(session: Session, delivery: NoticeDelivery, notice: Notice) -> bool:
        """Essential notices (money, final results) go even to a number that opted out."""
        if delivery.channel != Channel.SMS or notice.essential:
            return False
        return session.get(SmsOptOut, delivery.address) is not None

    def _pause(self, attempts: int, outcome: Outcome) -> timedelta:
        """The platform's retry_after when it said one, else a doubling pause."""
        seconds = outcome.retry_after or self.settings.notice_retry_seconds * 2 ** (attempts - 1)
        return min(timedelta(seconds=seconds), MAX_RETRY_PAUSE)

    @staticmethod
    def _finish(
        delivery: NoticeDelivery, state: DeliveryState, raw_code: str, now: datetime
    ) -> None:
        """Records a state; the delivery is not sent again unless a retry is set after this."""
        NOTICE_DELIVERIES.labels(delivery.channel, state).inc()
        delivery.state = state
        delivery.raw_code = raw_code[:50]
        delivery.next_attempt_at = None
        delivery.updated_at = now
