"""`/report [PERIOD] [FILTER]`: how well the deadlines are kept, as a chart (PNG) and its key
figures; `/report weekly on|off`: the weekly one on Saturday mornings; `/export [PERIOD] [csv]`:
the requests, their steps, the compliance tables and the CSAT answers as a workbook;
`/export tavanir [MONTH]`: the parent company's monthly summary, a sheet and an image.

A period is a word (this week, last week, this month, last month, this year; in Persian or
English) or Jalali days `1405/08/01-1405/08/30` or a month `1405/08`; a filter a service, a
channel, a counter's code or a place. Each staff member sees only their scope
(backend.reports.scope_for).
"""

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta

from sqlmodel import Session

from backend import staff as rules
from backend.broadcast_audience import find_places, place_key
from backend.compliance import (
    COUNTER_CHANNEL,
    EVERYTHING,
    NO_FIGURES,
    Dimension,
    Figures,
    Scope,
    by_key,
    compliance,
    step_names,
)
from backend.constants import Channel, RequestKind
from backend.counters import counter_by_code
from backend.exports import MonthlySummary, build_export, monthly_summary
from backend.models import Staff
from backend.periods import (
    BadPeriod,
    Period,
    jalali_text,
    last_month,
    last_weeks,
    parse_jalali_range,
    this_month,
    this_week,
    this_year,
    week_start,
)
from backend.reports import scope_for, subscribe
from backend.services.loader import definitions
from backend.settings import Settings
from backend.staff import ROLE_SEES
from channels.charts import CONTENT_TYPE as PNG
from channels.charts import (
    BarPanel,
    ReportChart,
    Series,
    SummaryChart,
    report_chart_png,
    summary_chart_png,
)
from channels.replies import OutgoingFile, Reply
from channels.staff_buttons import REPORT_PREFIX
from channels.workbooks import (
    XLSX_TYPE,
    ZIP_TYPE,
    channel_label,
    csv_zip_bytes,
    export_sheets,
    step_label,
    summary_sheet,
    xlsx_bytes,
)
from dialogs import states
from dialogs.engine import Context, Step
from dialogs.staff.lines import stacked_lines
from locales.catalogs import LOCALES, translate
from locales.values import Msg, Number

PERIOD_WORDS: dict[str, Callable[[datetime], Period]] = {
    "این هفته": this_week,
    "this week": this_week,
    "هفته گذشته": lambda now: last_weeks(now, 1),
    "هفته قبل": lambda now: last_weeks(now, 1),
    "last week": lambda now: last_weeks(now, 1),
    "این ماه": this_month,
    "this month": this_month,
    "ماه گذشته": last_month,
    "ماه قبل": last_month,
    "last month": last_month,
    "امسال": this_year,
    "this year": this_year,
}
# The built services' short words; every service is also known by its name and its code.
SERVICE_WORDS = {
    "اعتراض": RequestKind.BILL_REVIEW,
    "review": RequestKind.BILL_REVIEW,
    "جمع‌آوری": RequestKind.CONNECTION_REMOVAL,
    "removal": RequestKind.CONNECTION_REMOVAL,
}
CHANNEL_WORDS = {
    "تلگرام": Channel.TELEGRAM,
    "telegram": Channel.TELEGRAM,
    "بله": Channel.BALE,
    "bale": Channel.BALE,
    "پیامک": Channel.SMS,
    "sms": Channel.SMS,
    "پیشخوان": COUNTER_CHANNEL,
    "counter": COUNTER_CHANNEL,
}
CSV_WORDS = frozenset({"csv"})
TAVANIR_WORDS = frozenset({"tavanir", "توانیر"})
WEEKLY_WORDS = frozenset({"weekly", "هفتگی"})
ON_WORDS, OFF_WORDS = frozenset({"on", "روشن"}), frozenset({"off", "خاموش"})


class BadFilter(ValueError):
    pass


def _key(text: str) -> str:
    return place_key(text)


def parse_period(
    text: str, now: datetime, default: Callable[[datetime], Period]
) -> tuple[Period, str]:
    """The period the text begins with (its words, or Jalali dates), and the rest of it."""
    typed = text.strip()
    for words, period in PERIOD_WORDS.items():
        if _key(typed[: len(words)]) == _key(words):
            return period(now), typed[len(words) :].strip()
    first, _, rest = typed.partition(" ")
    found = parse_jalali_range(first) if first else None
    if found is None:
        return default(now), typed
    return found, rest.strip()


def parse_filter(ctx: Context, text: str) -> Scope:
    """A service, a channel, a counter's code or a place; nothing: everything."""
    typed = text.strip()
    if not typed:
        return Scope()
    words = {_key(word): value for word, value in _service_words().items()}
    if _key(typed) in words:
        return Scope(kind=words[_key(typed)])
    channels = {_key(word): value for word, value in CHANNEL_WORDS.items()}
    if _key(typed) in channels:
        return Scope(channel=channels[_key(typed)])
    if typed.isdigit():
        try:
            return Scope(counter_id=counter_by_code(ctx.session, typed).id)
        except ValueError as error:
            raise BadFilter(typed) from error
    places = find_places(ctx.session, typed)
    if len(places) != 1:
        raise BadFilter(typed)
    return Scope(city=places[0].city, area=places[0].area)


def _service_words() -> dict[str, str]:
    """Each service by its code and its name in every locale (the catalog's `kind.<code>`)."""
    named = {
        word: code
        for code in definitions()
        for word in (code, *(translate(f"kind.{code}", locale) for locale in LOCALES))
    }
    return {**named, **SERVICE_WORDS}


def _figures_line(label: Msg | str, figures: Figures) -> Msg:
    share = figures.on_time_share
    return Msg(
        "report.line",
        {
            "label": label,
            "requests": figures.requests,
            "share": Msg("report.percent", {"percent": round(100 * share)})
            if share is not None
            else Msg("report.none"),
            "median": _days(figures.median_days),
            "p90": _days(figures.p90_days),
            "overdue": figures.overdue,
            "csat": Msg(
                "report.csat_value",
                {"score": Number(figures.csat_average), "count": figures.csat_count},
            )
            if figures.csat_average is not None
            else Msg("report.csat_none"),
        },
    )


def _days(value: float | None) -> Msg:
    return Msg("report.days", {"days": Number(value)}) if value is not None else Msg("report.none")


def _weeks(period: Period) -> list[date]:
    first, last = week_start(period.first), week_start(period.last)
    return [first + timedelta(weeks=n) for n in range((last - first).days // 7 + 1)]


def report_figures(
    session: Session, *, period: Period, scope: Scope, now: datetime, settings: Settings
) -> tuple[ReportChart, Msg]:
    """The chart's figures, and the key figures as text: of all, then each service."""

    def figures(*dimensions: Dimension) -> dict[tuple[object, ...], Figures]:
        rows = compliance(
            session, period=period, dimensions=dimensions, scope=scope, now=now, settings=settings
        )
        return by_key(rows)

    weeks = _weeks(period)
    weekly = figures(Dimension.WEEK, Dimension.SERVICE)
    by_week = figures(Dimension.WEEK)
    by_step = figures(Dimension.STEP)
    services = figures(Dimension.SERVICE)
    # The service asked for; else each with a step in the period, in the definitions' order.
    kinds = (
        [scope.kind] if scope.kind is not None else [k for k in definitions() if (k,) in services]
    )
    empty = NO_FIGURES
    chart = ReportChart(
        title=Msg("report.title", {"first": period.first, "last": period.last}),
        weeks=weeks,
        on_time=[
            Series(
                Msg(f"kind.{kind}"),
                [weekly.get((week, kind), empty).on_time_share for week in weeks],
            )
            for kind in kinds
        ],
        overdue=[
            (step_label(step), by_step.get((step,), empty).overdue) for step in step_names(kinds)
        ],
        csat=[by_week.get((week,), empty).csat_average for week in weeks],
    )
    total = figures()[()]
    lines = [
        Msg("report.head", {"first": period.first, "last": period.last}),
        _figures_line(Msg("report.all"), total),
        *(_figures_line(Msg(f"kind.{k}"), services.get((k,), empty)) for k in kinds),
    ]
    return chart, stacked_lines(lines)


def _file(ctx: Context, content: bytes, name: str, content_type: str) -> OutgoingFile:
    return OutgoingFile(ctx.storage.save(content).key, name, content_type)


def _span(period: Period) -> str:
    return f"{jalali_text(period.first)}-{jalali_text(period.last)}".replace("/", "")


def send_report(ctx: Context, staff: Staff, period: Period, wanted: Scope) -> None:
    chart, text = report_figures(
        ctx.session,
        period=period,
        scope=scope_for(staff, wanted),
        now=ctx.now,
        settings=ctx.settings,
    )
    png = report_chart_png(chart, ctx.locale)
    name = f"report-{_span(period)}.png"
    ctx.replies.append(Reply(text, files=[_file(ctx, png, name, PNG)]))


def report(ctx: Context, staff: Staff, argument: str) -> None:
    first, _, rest = argument.strip().partition(" ")
    if _key(first) in WEEKLY_WORDS:
        setting = _key(rest)
        if setting not in ON_WORDS | OFF_WORDS:
            ctx.say("staff.usage", usage=Msg("staff.help.report"))
            return
        subscribe(ctx.session, staff, on=setting in ON_WORDS, now=ctx.now)
        ctx.say("report.weekly_on" if setting in ON_WORDS else "report.weekly_off")
        return
    chosen = _chosen(ctx, argument, this_month)
    if chosen is not None:
        send_report(ctx, staff, *chosen)


def _chosen(
    ctx: Context, argument: str, default: Callable[[datetime], Period]
) -> tuple[Period, Scope] | None:
    """The period and filter typed; None when either could not be read (said so)."""
    try:
        period, rest = parse_period(argument, ctx.now, default)
    except BadPeriod:
        ctx.say("report.bad_period", text=argument.strip())
        return None
    try:
        return period, parse_filter(ctx, rest)
    except BadFilter:
        ctx.say("report.bad_filter", text=rest)
        return None


def export(ctx: Context, staff: Staff, argument: str) -> None:
    first, _, rest = argument.strip().partition(" ")
    if _key(first) in TAVANIR_WORDS:
        _tavanir(ctx, staff, rest)
        return
    words = argument.split()
    as_csv = bool(words) and _key(words[-1]) in CSV_WORDS
    chosen = _chosen(ctx, " ".join(words[:-1] if as_csv else words), this_month)
    if chosen is None:
        return
    period, wanted = chosen
    contents = build_export(
        ctx.session,
        period=period,
        scope=scope_for(staff, wanted),
        sees=ROLE_SEES[staff.role],
        now=ctx.now,
        settings=ctx.settings,
    )
    sheets = export_sheets(contents, ctx.locale)
    name = f"export-{_span(period)}"
    file = (
        _file(ctx, csv_zip_bytes(sheets, ctx.locale), f"{name}.zip", ZIP_TYPE)
        if as_csv
        else _file(ctx, xlsx_bytes(sheets, ctx.locale), f"{name}.xlsx", XLSX_TYPE)
    )
    text = Msg(
        "export.sent",
        {"first": period.first, "last": period.last, "requests": len(contents.requests)},
    )
    ctx.replies.append(Reply(text, files=[file]))


def _tavanir(ctx: Context, staff: Staff, month: str) -> None:
    try:
        period = parse_jalali_range(month) if month.strip() else last_month(ctx.now)
    except BadPeriod:
        period = None
    if period is None:
        ctx.say("report.bad_period", text=month.strip())
        return
    summary = monthly_summary(
        ctx.session, period=period, scope=scope_for(staff), now=ctx.now, settings=ctx.settings
    )
    name = f"tavanir-{_span(period)}"
    sheet = xlsx_bytes([summary_sheet(summary, ctx.locale)], ctx.locale)
    image = summary_chart_png(summary_chart(summary), ctx.locale)
    files = [
        _file(ctx, sheet, f"{name}.xlsx", XLSX_TYPE),
        _file(ctx, image, f"{name}.png", PNG),
    ]
    text = Msg("tavanir.sent", {"first": period.first, "last": period.last})
    ctx.replies.append(Reply(text, files=files))


def summary_chart(summary: MonthlySummary) -> SummaryChart:
    """Tavanir's summary as bars: requests by service, channel and outcome; each step's mean."""
    return SummaryChart(
        title=Msg("tavanir.title", {"first": summary.period.first, "last": summary.period.last}),
        panels=[
            BarPanel(
                Msg("tavanir.section.service"),
                [(Msg(f"kind.{k}"), n) for k, n in sorted(summary.by_service.items())],
            ),
            BarPanel(
                Msg("tavanir.section.channel"),
                [(channel_label(c), n) for c, n in sorted(summary.by_channel.items())],
            ),
            BarPanel(
                Msg("tavanir.section.outcome"),
                [(Msg(f"tavanir.outcome.{o}"), n) for o, n in sorted(summary.by_outcome.items())],
            ),
            BarPanel(
                Msg("tavanir.section.steps"),
                [(step_label(row.key[0]), row.figures.mean_days or 0) for row in summary.steps],
            ),
        ],
    )


class ReportChartStep(Step):
    """The weekly report's «نمودار» button, wherever it is pressed: the report of its period,
    as /report would give it (the same permission check); a step never entered."""

    name = states.STAFF_REPORT
    standing_prefix = REPORT_PREFIX

    def on_choice(self, ctx: Context, value: str) -> None:
        _, first, last = [*value.split(":"), "", ""][:3]
        try:
            period = Period(date.fromisoformat(first), date.fromisoformat(last))
        except ValueError:
            ctx.retry("input.button_expired")
            return
        staff = rules.authorize(
            ctx.session, channel=ctx.event.channel, user_id=ctx.event.user_id, command="report"
        )
        if staff is None:
            ctx.retry("input.button_expired")
            return
        send_report(ctx, staff, period, EVERYTHING)


STEPS: Sequence[Step] = [ReportChartStep()]
