"""The pishkhan counters as staff see them: `/counters` (those in their scope), `/counter CODE`
(a counter's profile, visits and score with its parts) and `/inspect CODE` (a visit started or
resumed; its steps are dialogs.staff.inspection's)."""

from typing import Any

from backend.counter_inspections import (
    RECENT_VISITS,
    REQUEST_WINDOW,
    REQUESTS_WEIGHT,
    VISITS_WEIGHT,
    CounterScore,
    VisitScore,
    start_visit,
    visit_items,
)
from backend.counter_views import CounterLine, VisitLine, counter_lines, counter_profile
from backend.counters import CounterError, counter_by_code, may_see_counter
from backend.models import Counter, Staff
from channels.replies import Reply
from dialogs import states
from dialogs.engine import Context
from dialogs.staff.lines import listed, stacked_lines
from locales.values import Code, Msg

VISIT_DRAFT = "inspection"  # the draft's key: the visit being filled in


def percent(share: float) -> int:
    return round(share * 100)


def share_line(share: float | None) -> Msg:
    """A share of 0..1 as a percentage; «not yet» when there is nothing to compute it from."""
    if share is None:
        return Msg("staff.counter.no_score")
    return Msg("staff.counter.percent", {"value": percent(share)})


def visit_score_line(score: VisitScore) -> Msg:
    return Msg(
        "staff.counter.visit_score",
        {
            "score": share_line(score.score),
            "passed": score.passed_weight,
            "applicable": score.applicable_weight,
        },
    )


def score_parts(score: CounterScore) -> list[Msg]:
    """The counter's score as the formula (backend.counter_inspections.counter_score) makes it:
    the formula, each part with what it comes from, the total."""
    visits = (
        listed([share_line(s) for s in score.visit_scores])
        if score.visit_scores
        else Msg("staff.counter.no_visits_scored")
    )
    return [
        Msg(
            "staff.counter.formula",
            {"visits_weight": percent(VISITS_WEIGHT), "requests_weight": percent(REQUESTS_WEIGHT)},
        ),
        Msg(
            "staff.counter.part_visits",
            {"recent": RECENT_VISITS, "scores": visits, "mean": share_line(score.visits)},
        ),
        Msg(
            "staff.counter.part_requests",
            {
                "days": REQUEST_WINDOW.days,
                "complete": score.requests_complete,
                "filed": score.requests_filed,
                "share": share_line(score.requests),
            },
        ),
        Msg("staff.counter.total", {"score": share_line(score.total)}),
    ]


def _line(ctx: Context, line: CounterLine) -> Msg:
    counter = line.counter
    if line.rechecks_overdue(ctx.now):
        rechecks = Msg(
            "staff.counters.rechecks_overdue", {"count": line.rechecks, "due": line.recheck_due}
        )
    elif line.rechecks:
        rechecks = Msg(
            "staff.counters.rechecks_due", {"count": line.rechecks, "due": line.recheck_due}
        )
    else:
        rechecks = Msg("staff.counters.rechecks_none")
    return Msg(
        "staff.counters.item",
        {
            "code": Code(counter.code),
            "name": counter.name,
            "city": counter.city,
            "status": Msg(f"counter.status.{counter.status}"),
            "score": share_line(line.score.total),
            "trend": Msg(f"staff.counters.trend_{line.trend or 'none'}"),
            "rechecks": rechecks,
        },
    )


def counters(ctx: Context, staff: Staff, argument: str) -> None:
    lines = counter_lines(ctx.session, staff, now=ctx.now)
    head = Msg("staff.counters.head", {"count": len(lines)})
    items = [_line(ctx, line) for line in lines] or [Msg("staff.counters.none")]
    ctx.replies.append(Reply(stacked_lines([head, *items])))


def _counter(ctx: Context, staff: Staff, argument: str, command: str) -> Counter | None:
    """The counter the argument's code names, if the staff member may see it; else None, said."""
    code = argument.strip()
    if not code:
        ctx.say("staff.usage", usage=Msg(f"staff.help.{command}"))
        return None
    try:
        counter = counter_by_code(ctx.session, code)
    except CounterError:
        ctx.say("staff.counter.unknown", code=Code(code))
        return None
    if not may_see_counter(ctx.session, staff, counter):
        ctx.say("staff.counter.not_in_scope", code=Code(counter.code))
        return None
    return counter


def _visit_line(visit: VisitLine) -> Msg:
    return Msg(
        "staff.counter.visit",
        {
            "when": visit.visit.finished_at,
            "kind": Msg(f"staff.inspect.kind.{visit.visit.kind}"),
            "inspector": visit.inspector,
            "score": visit_score_line(visit.score),
            "rechecked": visit.rechecked,
        },
    )


def counter(ctx: Context, staff: Staff, argument: str) -> None:
    found = _counter(ctx, staff, argument, "counter")
    if found is None:
        return
    profile = counter_profile(ctx.session, found, now=ctx.now)
    lines = [
        Msg(
            "staff.counter.head",
            {
                "code": Code(found.code),
                "name": found.name,
                "status": Msg(f"counter.status.{found.status}"),
            },
        ),
        Msg(
            "staff.counter.place",
            {"city": found.city, "area": found.area, "address": found.address},
        ),
        Msg("staff.counter.contact", {"phone": Code(found.phone), "manager": found.manager_name}),
        Msg(
            "staff.counter.operators",
            {
                "names": listed(
                    [Msg("staff.counter.operator", {"name": n}) for n in profile.operators]
                )
                if profile.operators
                else Msg("staff.counter.nobody")
            },
        ),
        Msg(
            "staff.counter.services",
            {
                "services": listed([Msg(f"kind.{kind}") for kind in profile.services])
                if profile.services
                else Msg("staff.counter.no_services")
            },
        ),
    ]
    if found.step_deadline is not None:
        lines.append(Msg("staff.counter.step_deadline", {"deadline": found.step_deadline}))
    filed = [
        Msg("staff.counter.filed_kind", {"kind": Msg(f"kind.{kind}"), "count": count})
        for kind, count in profile.filed_this_month.items()
    ]
    lines.append(
        Msg(
            "staff.counter.filed_this_month",
            {"filed": listed(filed) if filed else Msg("staff.counter.filed_none")},
        )
    )
    lines.append(Msg("staff.counter.visits_head", {"count": len(profile.visits)}))
    lines += [_visit_line(visit) for visit in profile.visits]
    if profile.open_visit is not None:
        lines.append(Msg("staff.counter.visit_open", {"since": profile.open_visit.started_at}))
    if profile.line.rechecks:
        key = (
            "staff.counters.rechecks_overdue"
            if profile.line.rechecks_overdue(ctx.now)
            else "staff.counters.rechecks_due"
        )
        lines.append(Msg(key, {"count": profile.line.rechecks, "due": profile.line.recheck_due}))
    lines += score_parts(profile.line.score)
    ctx.replies.append(Reply(stacked_lines(lines)))


def inspect(ctx: Context, staff: Staff, argument: str) -> None:
    """Starts a visit of the counter, or resumes the one this staff member has open there."""
    found = _counter(ctx, staff, argument, "inspect")
    if found is None:
        return
    visit = start_visit(ctx.session, found, staff, now=ctx.now)
    entries = visit_items(ctx.session, visit)
    answered = sum(1 for entry in entries if entry.answer is not None)
    rechecks = sum(1 for entry in entries if entry.recheck_of is not None)
    params: dict[str, Any] = {
        "code": Code(found.code),
        "name": found.name,
        "kind": Msg(f"staff.inspect.kind.{visit.kind}"),
        "total": len(entries),
    }
    if answered:
        ctx.say("staff.inspect.resumed", answered=answered, **params)
    else:
        ctx.say("staff.inspect.started", rechecks=rechecks, **params)
    ctx.conversation.data.pop("draft", None)
    ctx.draft[VISIT_DRAFT] = {"visit_id": visit.id}
    ctx.go(states.STAFF_INSPECT)
