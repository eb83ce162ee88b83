"""A counter's visit filled in item by item (/inspect CODE): pass, fail or not applicable (a
re-check of last visit's failure: fixed or still failing), a note and a photo after a failure,
«توقف» to pause; the visit's score and the counter's new one at the end."""

from backend.constants import ChecklistAnswer, InspectionStatus
from backend.counter_inspections import (
    VisitItem,
    answer_item,
    answer_meaning,
    counter_score,
    finish_visit,
    pause_visit,
    visit_items,
    visit_score,
)
from backend.models import ChecklistItem, Counter, Inspection, Staff
from backend.staff import TEXT_MAX_CHARS, clean_text
from backend.storage import detect_content_type
from channels.replies import Button, Reply
from dialogs import states
from dialogs.engine import Context, Step
from dialogs.events import FileTooLarge, IncomingFile
from dialogs.menu import MenuStep
from dialogs.staff.counters import VISIT_DRAFT, score_parts, visit_score_line
from dialogs.staff.lines import stacked_lines
from dialogs.staff.steps import StaffStep
from locales.values import Code, Msg

PREFIX = "insp:"
# An answer's button is `insp:<verdict>:<item id>`: it answers the item it was shown under.
PASS, FAIL, NOT_APPLICABLE = "pass", "fail", "na"
NEXT, PAUSE, FINISH = f"{PREFIX}next", f"{PREFIX}pause", f"{PREFIX}finish"
PHOTO_TYPES = frozenset({"image/jpeg", "image/png"})


def _visit(ctx: Context, staff: Staff) -> Inspection | None:
    """The visit of the draft while it is this staff member's and in progress; else None, said
    (paused or finished meanwhile, in another chat of theirs) and back at the menu."""
    visit_id = ctx.draft.get(VISIT_DRAFT, {}).get("visit_id")
    visit = ctx.session.get(Inspection, visit_id) if visit_id is not None else None
    if visit is None or visit.inspector_id != staff.id:
        ctx.say("input.button_expired")
        ctx.reset()
        return None
    if visit.status != InspectionStatus.IN_PROGRESS:
        ctx.say("staff.inspect.not_in_progress", code=_code(ctx, visit))
        ctx.reset()
        return None
    return visit


def _code(ctx: Context, visit: Inspection) -> Code:
    counter = ctx.session.get(Counter, visit.counter_id)
    assert counter is not None
    return Code(counter.code)


def _current(ctx: Context, visit: Inspection) -> tuple[int, list[VisitItem]]:
    """The index of the first item without an answer (len when none is left), and the items."""
    entries = visit_items(ctx.session, visit)
    index = next((i for i, entry in enumerate(entries) if entry.answer is None), len(entries))
    return index, entries


def _text(ctx: Context, item: ChecklistItem) -> tuple[str, str]:
    """The item's topic and text in the reader's language (Persian where no English is kept)."""
    if ctx.locale == "fa":
        return item.topic, item.text
    return item.topic_en or item.topic, item.text_en or item.text


class InspectItemStep(StaffStep):
    """One item of the checklist: its answer by a button."""

    name = states.STAFF_INSPECT
    command = "inspect"
    back = None  # «توقف» pauses; any other command leaves it open, /inspect CODE resumes

    def ask(self, ctx: Context, staff: Staff) -> Reply:
        visit = _visit(ctx, staff)
        if visit is None:
            ctx.conversation.state = states.MENU
            return MenuStep().prompt(ctx)
        pause = [Button(Msg("staff.inspect.pause"), PAUSE)]
        index, entries = _current(ctx, visit)
        if index == len(entries):  # all answered, then paused before it was closed
            finish = [Button(Msg("staff.inspect.finish"), FINISH)]
            return Reply(Msg("staff.inspect.all_answered"), [finish, pause])
        entry = entries[index]
        topic, text = _text(ctx, entry.item)
        params = {
            "number": index + 1,
            "total": len(entries),
            "topic": topic,
            "text": text,
            "weight": entry.item.weight,
        }

        def button(label: str, verdict: str) -> Button:
            return Button(Msg(f"staff.inspect.{label}"), f"{PREFIX}{verdict}:{entry.item.id}")

        if entry.recheck_of is not None:
            return Reply(
                Msg("staff.inspect.recheck_item", params),
                [
                    [button("fixed", PASS)],
                    [button("still_failing", FAIL)],
                    [button("not_applicable", NOT_APPLICABLE)],
                    pause,
                ],
            )
        return Reply(
            Msg("staff.inspect.item", params),
            [
                [
                    button("pass", PASS),
                    button("fail", FAIL),
                    button("not_applicable", NOT_APPLICABLE),
                ],
                pause,
            ],
        )

    def choose(self, ctx: Context, staff: Staff, value: str) -> None:
        visit = _visit(ctx, staff)
        if visit is None:
            return
        if value == PAUSE:
            pause(ctx, visit)
            return
        if value == FINISH:
            finish(ctx, visit)
            return
        verdict, _, item_id = value.removeprefix(PREFIX).partition(":")
        entry = next(
            (e for e in visit_items(ctx.session, visit) if str(e.item.id) == item_id), None
        )
        if entry is None or entry.answer is not None:  # answered meanwhile, in another chat
            ctx.retry("input.button_expired")
            return
        if verdict == NOT_APPLICABLE:
            answer = ChecklistAnswer.NOT_APPLICABLE
        else:
            answer = answer_meaning(entry.item, passes=verdict == PASS)
        answer_item(ctx.session, visit, entry.item, answer, now=ctx.now)
        if verdict == FAIL:  # a failure is worth a note and a photo
            ctx.draft[VISIT_DRAFT]["item_id"] = entry.item.id
            ctx.go(states.STAFF_INSPECT_EXTRA)
        else:
            next_item(ctx, visit)


def next_item(ctx: Context, visit: Inspection) -> None:
    """The next item without an answer; the visit finished when none is left."""
    index, entries = _current(ctx, visit)
    if index == len(entries):
        finish(ctx, visit)
    else:
        ctx.go(states.STAFF_INSPECT)


def pause(ctx: Context, visit: Inspection) -> None:
    pause_visit(ctx.session, visit, now=ctx.now)
    index, entries = _current(ctx, visit)
    ctx.say("staff.inspect.paused", code=_code(ctx, visit), answered=index, total=len(entries))
    ctx.reset()


def finish(ctx: Context, visit: Inspection) -> None:
    """Closes the visit: its score, and the counter's new score with its parts."""
    finish_visit(ctx.session, visit, now=ctx.now)
    counter = ctx.session.get(Counter, visit.counter_id)
    assert counter is not None
    head = Msg(
        "staff.inspect.finished",
        {"code": Code(counter.code), "score": visit_score_line(visit_score(ctx.session, visit))},
    )
    parts = score_parts(counter_score(ctx.session, counter, now=ctx.now))
    ctx.replies.append(Reply(stacked_lines([head, *parts])))
    ctx.reset()


class InspectExtraStep(StaffStep):
    """After a failure: a note typed, a photo sent (each optional), then the next item."""

    name = states.STAFF_INSPECT_EXTRA
    command = "inspect"
    back = None

    def ask(self, ctx: Context, staff: Staff) -> Reply:
        return Reply(
            Msg("staff.inspect.ask_extra", {"max": TEXT_MAX_CHARS}),
            [
                [Button(Msg("staff.inspect.next"), NEXT)],
                [Button(Msg("staff.inspect.pause"), PAUSE)],
            ],
        )

    def choose(self, ctx: Context, staff: Staff, value: str) -> None:
        visit = _visit(ctx, staff)
        if visit is None:
            return
        if value == PAUSE:
            pause(ctx, visit)
        else:
            next_item(ctx, visit)

    @staticmethod
    def _amend(
        ctx: Context, staff: Staff, *, note: str | None = None, photo_key: str | None = None
    ) -> None:
        """Adds the note or the photo to the failed item's answer, keeping the other."""
        visit = _visit(ctx, staff)
        if visit is None:
            return
        item_id = ctx.draft[VISIT_DRAFT].get("item_id")
        entry = next((e for e in visit_items(ctx.session, visit) if e.item.id == item_id), None)
        if entry is None or entry.answer is None:
            ctx.retry("input.button_expired")
            return
        answer = entry.answer
        answer_item(
            ctx.session,
            visit,
            entry.item,
            answer.answer,
            now=ctx.now,
            note=answer.note if note is None else note,
            photo_key=answer.photo_key if photo_key is None else photo_key,
        )
        ctx.retry("staff.inspect.noted" if note is not None else "staff.inspect.photo_kept")

    def typed(self, ctx: Context, staff: Staff, text: str) -> None:
        self._amend(ctx, staff, note=clean_text(text))

    def on_file(self, ctx: Context, file: IncomingFile) -> None:
        self._guard(ctx, self.command, lambda staff: self.photo(ctx, staff, file))

    def photo(self, ctx: Context, staff: Staff, file: IncomingFile) -> None:
        max_bytes = ctx.settings.max_document_bytes
        try:
            content = file.fetch() if file.size_bytes <= max_bytes else None
        except FileTooLarge:
            content = None
        if content is None or len(content) > max_bytes:
            ctx.retry("staff.inspect.photo_too_large", max_mb=max_bytes // (1024 * 1024))
        elif detect_photo(content) is None:
            ctx.retry("staff.inspect.photo_not_image")
        else:
            self._amend(ctx, staff, photo_key=ctx.storage.save(content).key)


def detect_photo(content: bytes) -> str | None:
    """The photo's type by its bytes (JPEG or PNG); None for anything else."""
    content_type = detect_content_type(content)
    return content_type if content_type in PHOTO_TYPES else None


STEPS: list[Step] = [InspectItemStep(), InspectExtraStep()]
