"""A subscriber's own requests: each one's status, and buttons for what they can do about it now."""

from typing import Any

from backend.actions import answer_terms, pending_payment_of, subscriber_actor, withdraw
from backend.constants import (
    Channel,
    DocumentType,
    EventAction,
    RequestStatus,
)
from backend.models import ServiceRequest
from backend.outcomes import CorrectedBill, clearance_of, review_outcome
from backend.payments import payment_link
from backend.service_requests import (
    DOCUMENT_TYPES,
    DraftDocument,
    attach_documents,
    document_count,
    find_request,
    takes_documents,
)
from backend.services.documents import issued_paper
from backend.workflows import FEE_PAID_STATUSES, Refused, allowed_actions
from channels.replies import Button, Reply
from channels.request_buttons import PAPER as SERVICE_PAPER
from channels.request_buttons import PREFIX, button_value, request_buttons
from dialogs import states
from dialogs.documents import DocumentsStep
from dialogs.engine import Context, Step
from dialogs.events import IncomingFile
from dialogs.outcomes import (
    by_sms,
    clearance_file,
    corrected_bill_file,
    review_result,
    service_paper_file,
    their_requests,
)
from locales.values import Code, Digits, Msg, Rials, tehran_date

LISTED = 10  # the newest requests shown in "my requests"
CONFIRMED = ("withdraw", "decline")  # actions that ask "are you sure?" first
ADD_DOCUMENTS = "docs"  # offered on the detail view only, not on notices
CORRECTED_BILL = "bill"  # the corrected bill's PDF, again (request_buttons offers it)
PAPER = "paper:"  # which paper a removal is sent, before its files
REQUESTS_OF = "requests_of"  # the subscription whose requests are listed (from its bill ID)


def _theirs(ctx: Context, code: str | None = None) -> list[ServiceRequest]:
    """The sender's requests (or the one with `code`, if it is theirs), newest first."""
    return their_requests(ctx, code, limit=LISTED)


def _summary(request: ServiceRequest) -> dict[str, object]:
    return {
        "code": Code(request.tracking_code),
        "kind": Msg(f"kind.{request.kind}"),
        "status": Msg(f"status.{request.status}"),
    }


class MyRequestsStep(Step):
    name = states.MY_REQUESTS
    back = states.MENU
    help = "help.my_requests"

    def prompt(self, ctx: Context) -> Reply:
        requests = _theirs(ctx)
        subscription_id = ctx.conversation.data.get(REQUESTS_OF)
        if subscription_id is not None:  # asked for with a bill ID at the menu
            requests = [r for r in requests if r.subscription_id == subscription_id]
        if not requests:
            return Reply(Msg("requests.none"))
        buttons = [
            [Button(Msg("requests.item", _summary(request)), button_value("show", request))]
            for request in requests
        ]
        return Reply(Msg("requests.list"), buttons=buttons)


class RequestStep(Step):
    """One request, and every "req:<action>:<code>" button, wherever it was pressed."""

    name = states.MY_REQUEST
    back = states.MY_REQUESTS
    help = "help.my_requests"
    standing_prefix = PREFIX

    def prompt(self, ctx: Context) -> Reply:
        found = _theirs(ctx, ctx.conversation.data.get("request", ""))
        if not found:
            return Reply(Msg("requests.not_found"))
        request = found[0]
        params = _summary(request) | {"filed": tehran_date(request.created_at)}
        buttons = request_buttons(ctx.session, request)
        result = review_result(ctx, request)
        files = []
        if result is not None:
            # The result in words; the corrected bill comes with it, so not its button again.
            message = Msg("requests.detail_result", params | {"result": result.message})
            files = result.files
            again = button_value(CORRECTED_BILL, request)
            buttons = [row for row in buttons if all(b.value != again for b in row)]
        elif request.status == RequestStatus.TERMS_ANNOUNCED:
            message = Msg("requests.detail_terms", params | {"terms": request.terms or ""})
        else:
            message = Msg("requests.detail", params)
        if takes_documents(request):
            label = Msg("requests.add_documents")
            buttons.append([Button(label, button_value(ADD_DOCUMENTS, request))])
        return Reply(message, buttons=buttons, files=files)

    def on_choice(self, ctx: Context, value: str) -> None:
        action, _, code = value.removeprefix(f"{PREFIX}:").partition(":")
        found = _theirs(ctx, code)
        if not found:
            ctx.retry("requests.not_found")
            return
        request = found[0]
        # Locked and read afresh: staff may be moving the same request right now.
        ctx.session.refresh(request, with_for_update=True)
        ctx.conversation.data["request"] = code
        try:
            self._act(ctx, request, action)
        except Refused:
            ctx.say("requests.not_now", status=Msg(f"status.{request.status}"))
            ctx.go(states.MY_REQUEST)

    def _act(self, ctx: Context, request: ServiceRequest, action: str) -> None:
        if action in CONFIRMED:
            self._ask(ctx, request, action)
            return
        if action == "confirm":
            self._confirmed(ctx, request)
            return
        if action == "pay":
            payment = pending_payment_of(ctx.session, request)
            if payment is None:
                raise Refused("nothing_to_pay")
            link = payment_link(ctx.settings, payment)
            ctx.say("requests.pay_link", amount=Rials(payment.amount_rials), link=link)
        elif action == "accept":
            actor = subscriber_actor(ctx.event.channel)
            answer_terms(
                ctx.session, request, accept=True, actor=actor, now=ctx.now, settings=ctx.settings
            )
            ctx.say("requests.terms_accepted", code=Code(request.tracking_code))
        elif action == "clearance":
            self._clearance(ctx, request)
        elif action == CORRECTED_BILL:
            self._corrected_bill(ctx, request)
        elif action == SERVICE_PAPER:
            self._service_paper(ctx, request)
        elif action == ADD_DOCUMENTS:
            self._add_documents(ctx, request)
            return
        elif action != "show":
            raise Refused("unknown_action")
        ctx.go(states.MY_REQUEST)

    @staticmethod
    def _ask(ctx: Context, request: ServiceRequest, action: str) -> None:
        wanted = EventAction.WITHDRAW if action == "withdraw" else EventAction.DECLINE_TERMS
        if wanted not in allowed_actions(request):
            raise Refused("wrong_status")
        ctx.conversation.data["pending"] = {
            "action": action,
            "code": request.tracking_code,
            # Once the fee is paid, the question says that nothing is refunded (seed 001 §4).
            "no_refund": request.status in FEE_PAID_STATUSES,
        }
        ctx.go(states.MY_REQUEST_CONFIRM)

    def _confirmed(self, ctx: Context, request: ServiceRequest) -> None:
        """Does what the confirmation asked about, if it is the one on screen."""
        pending = ctx.conversation.data.get("pending")
        on_screen = ctx.conversation.state == states.MY_REQUEST_CONFIRM
        if pending is None or not on_screen or pending["code"] != request.tracking_code:
            ctx.retry("input.button_expired")
            return
        del ctx.conversation.data["pending"]
        actor = subscriber_actor(ctx.event.channel)
        code = Code(request.tracking_code)
        if pending["action"] == "decline":
            answer_terms(
                ctx.session, request, accept=False, actor=actor, now=ctx.now, settings=ctx.settings
            )
            ctx.say("requests.archived", code=code)
        else:
            try:
                withdraw(
                    ctx.session,
                    request,
                    actor=actor,
                    no_refund_acknowledged=pending["no_refund"],
                    now=ctx.now,
                    settings=ctx.settings,
                )
            except Refused as refused:
                if refused.code != "no_refund_not_acknowledged":
                    raise
                # The fee was paid after the question was put: it is put again, with the notice.
                self._ask(ctx, request, "withdraw")
                return
            ctx.say("requests.withdrawn", code=code)
        ctx.go(states.MY_REQUEST)

    @staticmethod
    def _add_documents(ctx: Context, request: ServiceRequest) -> None:
        """Opens the documents step for the request, where files can be sent; for a removal,
        which takes papers of several types, the question of which paper comes first."""
        if not takes_documents(request):
            raise Refused("wrong_status")
        limit = ctx.settings.max_documents
        if ctx.event.channel == Channel.SMS:  # no files by SMS: where they can be added instead
            ctx.say("review.documents_later")
        elif document_count(ctx.session, request) >= limit:
            ctx.say("requests.documents_full", code=Code(request.tracking_code), max=limit)
        else:
            types = DOCUMENT_TYPES[request.kind]
            # A fresh draft: another flow's documents must not be attached to this request.
            ctx.reset(states.MY_REQUEST_DOCUMENTS if len(types) == 1 else states.MY_REQUEST_PAPER)
            ctx.draft.update(tracking_code=request.tracking_code, doc_types=list(types))
            if len(types) == 1:
                ctx.draft["doc_type"] = types[0]
            return
        ctx.go(states.MY_REQUEST)

    @staticmethod
    def _clearance(ctx: Context, request: ServiceRequest) -> None:
        """The final clearance (مفاصاحساب) of a removal carried out and settled: in words, and
        the certificate as a PDF with its verification code (not by SMS, which has no files)."""
        clearance = clearance_of(ctx.session, request, ctx.settings)
        if clearance is None:
            raise Refused("not_closed")
        statement = clearance.statement_rials
        params = {
            "code": Code(clearance.tracking_code),
            "bill_id": Code(clearance.bill_id),
            "address": clearance.address,
            "reading": Digits(clearance.final_reading),
            "debt": Rials(max(statement, 0)),
            "credit": Rials(max(-statement, 0)),
            "closed": clearance.closed_on,
            "seal": Code(clearance.seal),
        }
        files = [] if by_sms(ctx) else [clearance_file(ctx, clearance)]
        ctx.replies.append(Reply(Msg("requests.clearance", params), files=files))

    @staticmethod
    def _corrected_bill(ctx: Context, request: ServiceRequest) -> None:
        """The corrected bill of an upheld review, as a PDF; by SMS, where it can be had."""
        outcome = review_outcome(ctx.session, request)
        if not isinstance(outcome, CorrectedBill):
            raise Refused("no_corrected_bill")
        code = Code(request.tracking_code)
        if by_sms(ctx):
            ctx.say("requests.corrected_bill_in_messenger", code=code)
            return
        file = corrected_bill_file(ctx, outcome)
        ctx.replies.append(Reply(Msg("requests.corrected_bill", {"code": code}), files=[file]))

    @staticmethod
    def _service_paper(ctx: Context, request: ServiceRequest) -> None:
        """The paper a defined service issued (a clearance certificate), as a PDF; by SMS,
        where it can be had."""
        paper = issued_paper(ctx.session, request)
        if paper is None:
            raise Refused("no_paper")
        code = Code(request.tracking_code)
        if by_sms(ctx):
            ctx.say(f"requests.{paper.paper}_in_messenger", code=code)
            return
        file = service_paper_file(ctx, paper)
        ctx.replies.append(Reply(Msg(f"requests.{paper.paper}", {"code": code}), files=[file]))


class ConfirmStep(Step):
    """Asks before withdrawing or declining; after the fee, it says that nothing is refunded."""

    name = states.MY_REQUEST_CONFIRM
    back = states.MY_REQUEST
    help = "help.my_requests"

    def prompt(self, ctx: Context) -> Reply:
        pending = ctx.conversation.data["pending"]
        action, code = pending["action"], pending["code"]
        key = f"requests.confirm_{action}" + ("_no_refund" if pending["no_refund"] else "")
        button = Button(Msg(f"requests.yes_{action}"), f"{PREFIX}:confirm:{code}")
        return Reply(Msg(key, {"code": Code(code)}), buttons=[[button]])


class PaperStep(Step):
    """Which paper a removal is sent after filing: each is stored as what it is (an identity
    paper, seen by admins and supervisors only), never as evidence."""

    name = states.MY_REQUEST_PAPER
    back = states.MY_REQUEST
    help = "help.add_papers"

    def prompt(self, ctx: Context) -> Reply:
        buttons = [
            [Button(Msg(f"requests.paper_{kind}"), f"{PAPER}{kind}")]
            for kind in ctx.draft.get("doc_types", [])
        ]
        code = Code(ctx.draft.get("tracking_code", ""))
        return Reply(Msg("requests.ask_paper", {"code": code}), buttons=buttons)

    def on_choice(self, ctx: Context, value: str) -> None:
        kind = value.removeprefix(PAPER)
        if kind not in ctx.draft.get("doc_types", []):
            ctx.retry("input.button_expired")
            return
        ctx.draft["doc_type"] = kind
        # Files sent as another paper (before going back) are not that paper: they are dropped.
        ctx.draft["documents"] = [
            document
            for document in ctx.draft.get("documents", [])
            if document.get("doc_type") == kind
        ]
        ctx.go(states.MY_REQUEST_DOCUMENTS)


class AddDocumentsStep(DocumentsStep):
    """Documents for a request already filed, of the type chosen (a review's: evidence); "done"
    attaches them, if the request is still the sender's and takes them, and shows it again."""

    name = states.MY_REQUEST_DOCUMENTS
    back = states.MY_REQUEST
    help = "help.add_documents"
    doc_type = DocumentType.EVIDENCE
    prompt_key = "requests.ask_documents"
    required = 1

    def document_type(self, ctx: Context) -> DocumentType:
        # Set when the step was opened; evidence (a review's) is what it asks for by default.
        return DocumentType(ctx.draft.get("doc_type", self.doc_type))

    def prompt_key_for(self, ctx: Context) -> str:
        return self.prompt_key if self._evidence(ctx) else "requests.ask_papers"

    def prompt_params(self, ctx: Context) -> dict[str, Any]:
        params = {"code": Code(ctx.draft.get("tracking_code", "")), "attached": self._attached(ctx)}
        if not self._evidence(ctx):
            params["document"] = Msg(f"requests.paper_{self.document_type(ctx)}")
        return params

    def back_to(self, ctx: Context) -> str | None:
        # Back to the choice of paper, when there was one.
        return states.MY_REQUEST_PAPER if len(ctx.draft.get("doc_types", [])) > 1 else self.back

    def _evidence(self, ctx: Context) -> bool:
        return self.document_type(ctx) == DocumentType.EVIDENCE

    def on_file(self, ctx: Context, file: IncomingFile) -> None:
        # The limit counts the documents the request already has.
        limit = ctx.settings.max_documents
        if self._attached(ctx) + len(ctx.draft.get("documents", [])) >= limit:
            ctx.retry("review.documents_full", max=limit)
        else:
            super().on_file(ctx, file)

    def on_done(self, ctx: Context) -> None:
        code = ctx.draft.get("tracking_code", "")
        documents = [DraftDocument(**document) for document in ctx.draft.get("documents", [])]
        ctx.conversation.data["request"] = code
        found = _theirs(ctx, code)  # checked again: the chat's verified mobile may have changed
        if not found:
            ctx.say("requests.not_found")
            ctx.reset(states.MY_REQUESTS)
            return
        request = found[0]
        limit = ctx.settings.max_documents
        try:
            added = attach_documents(
                ctx.session,
                request,
                channel=ctx.event.channel,
                documents=documents,
                now=ctx.now,
                max_documents=limit,
            )
        except Refused as refused:
            if refused.code == "too_many_documents":
                attached = refused.params["attached"]
                ctx.say("requests.documents_too_many", attached=attached, max=limit)
            else:
                ctx.say("requests.not_now", status=Msg(f"status.{request.status}"))
            ctx.reset(states.MY_REQUEST)
            return
        ctx.say("requests.documents_added", count=len(added), code=Code(code))
        ctx.reset(states.MY_REQUEST)

    @staticmethod
    def _attached(ctx: Context) -> int:
        request = find_request(ctx.session, tracking_code=ctx.draft.get("tracking_code", ""))
        return 0 if request is None else document_count(ctx.session, request)


STEPS: list[Step] = [
    MyRequestsStep(),
    RequestStep(),
    ConfirmStep(),
    PaperStep(),
    AddDocumentsStep(),
]
