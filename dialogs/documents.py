"""The document step the flows share: photos and PDFs, known by their bytes, kept in the draft."""

from typing import Any, ClassVar

from backend.constants import DocumentType
from backend.storage import detect_content_type, document_name, safe_file_name
from channels.replies import Button, Reply
from dialogs.engine import Context, Step
from dialogs.events import FileTooLarge, IncomingFile
from locales.values import Msg

DONE = "docs:done"


class DocumentsStep(Step):
    """Asks for documents of one type; "done" is offered once `required` of them have come.

    All of a draft's documents share one list (draft["documents"]) and the per-request limit.
    """

    doc_type: ClassVar[DocumentType]
    prompt_key: ClassVar[str]  # its parameters: count, max, max_mb and prompt_params'
    send_file_key: ClassVar[str] = "review.documents_send_file"
    required: ClassVar[int] = 0

    def document_type(self, ctx: Context) -> DocumentType:
        return self.doc_type

    def prompt_key_for(self, ctx: Context) -> str:
        return self.prompt_key

    def prompt_params(self, ctx: Context) -> dict[str, Any]:
        return {}

    def on_done(self, ctx: Context) -> None:
        raise NotImplementedError

    def prompt(self, ctx: Context) -> Reply:
        count = self._count(ctx)
        params = {"count": count, "max": ctx.settings.max_documents, "max_mb": _max_mb(ctx)}
        done = [[Button(Msg("review.documents_done"), DONE)]] if count >= self.required else []
        return Reply(Msg(self.prompt_key_for(ctx), params | self.prompt_params(ctx)), buttons=done)

    def on_choice(self, ctx: Context, value: str) -> None:
        if value == DONE and self._count(ctx) >= self.required:
            self.on_done(ctx)
        else:
            ctx.retry("input.button_expired")

    def on_text(self, ctx: Context, text: str) -> None:
        ctx.retry(self.send_file_key)

    def on_file(self, ctx: Context, file: IncomingFile) -> None:
        documents: list[dict[str, Any]] = ctx.draft.setdefault("documents", [])
        settings = ctx.settings
        if len(documents) >= settings.max_documents:
            ctx.retry("review.documents_full", max=settings.max_documents)
        elif file.size_bytes > settings.max_document_bytes:
            ctx.retry("review.document_too_large", name=_shown(file), max_mb=_max_mb(ctx))
        else:
            self._store(ctx, file, documents)

    def _store(self, ctx: Context, file: IncomingFile, documents: list[dict[str, Any]]) -> None:
        try:
            content: bytes | None = file.fetch()
        except FileTooLarge:
            content = None
        # The declared size is the sender's word, checked again on the bytes; the type and the
        # name's extension are the bytes' alone (a photo sent as PNG, a PDF named .bat).
        if content is None or len(content) > ctx.settings.max_document_bytes:
            ctx.retry("review.document_too_large", name=_shown(file), max_mb=_max_mb(ctx))
            return
        content_type = detect_content_type(content)
        if content_type is None:
            ctx.retry("review.document_bad_type", name=_shown(file))
            return
        name = document_name(file.name, content_type)
        stored = ctx.storage.save(content)
        if any(document["sha256"] == stored.sha256 for document in documents):
            ctx.retry("review.document_duplicate", name=name)
            return
        documents.append(
            {
                "storage_key": stored.key,
                "sha256": stored.sha256,
                "size_bytes": stored.size_bytes,
                "content_type": content_type,
                "original_name": name,
                "doc_type": self.document_type(ctx),
            }
        )
        ctx.say("review.document_received", name=name)
        ctx.go(self.name)

    def _count(self, ctx: Context) -> int:
        kind = self.document_type(ctx)
        # Drafts from before documents had a type hold evidence only.
        return sum(
            document.get("doc_type", DocumentType.EVIDENCE) == kind
            for document in ctx.draft.get("documents", [])
        )


def _shown(file: IncomingFile) -> str:
    """The name of a file not kept, as the sender gave it but safe to show."""
    return safe_file_name(file.name) or "document"


def _max_mb(ctx: Context) -> int:
    return ctx.settings.max_document_bytes // (1024 * 1024)
