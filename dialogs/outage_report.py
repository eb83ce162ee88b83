"""«گزارش قطعی برق» (as 121 takes it): which bill ID, or a location shared from the phone with
the bill ID or area it is at; what is wrong; the dangerous ones answered first with the safety
advice; a tracking code, and what is known already (a planned outage, others' reports).

A location alone names no feeder (that needs the company's GIS), so it is kept with the report
and the bill ID or area is asked for too: the report still reaches the right incident."""

from datetime import timedelta

from backend import preferences
from backend.broadcast_audience import Place, find_places
from backend.constants import DANGEROUS_PROBLEMS, OutageProblem, SubscriptionStatus
from backend.identifiers import InvalidIdentifier, normalize_text, parse_electricity_bill_id
from backend.models import Subscription
from backend.outage_reports import Filed, Where, file_report
from backend.service_requests import find_subscription
from channels.replies import Button, Reply
from dialogs import states
from dialogs.bill_review import subscription_for_bill_id
from dialogs.engine import Context, Step
from dialogs.outages import followed_bill_buttons, outage_hours, place_label
from locales.values import Code, Msg

DRAFT = "outage_report"  # subscription_id, or city and area; location
BILL_PREFIX = "rep:sub:"
PLACE_PREFIX = "rep:pl:"
PROBLEM_PREFIX = "rep:problem:"
PLACES_OFFERED = 6


def _followed_buttons(ctx: Context) -> list[list[Button]]:
    return followed_bill_buttons(ctx, "report.bill_button", BILL_PREFIX)


def _followed_pressed(ctx: Context, value: str) -> Subscription | None:
    """The followed subscription a button names (re-checked: the value may come from anywhere)."""
    typed = value.removeprefix(BILL_PREFIX)
    one = preferences.followed_one(
        ctx.session,
        channel=ctx.event.channel,
        user_id=ctx.event.user_id,
        subscription_id=int(typed) if typed.isdigit() else 0,
    )
    return one.subscription if one is not None else None


def _bill_chosen(ctx: Context, subscription: Subscription) -> None:
    ctx.draft.setdefault(DRAFT, {})["subscription_id"] = subscription.id
    ctx.go(states.REPORT_PROBLEM)


class WhereStep(Step):
    name = states.REPORT_WHERE
    back = states.MENU
    help = "help.report"

    def prompt(self, ctx: Context) -> Reply:
        ctx.draft.setdefault(DRAFT, {})
        return Reply(Msg("report.where_prompt"), _followed_buttons(ctx))

    def on_text(self, ctx: Context, text: str) -> None:
        subscription = subscription_for_bill_id(ctx, text)
        if subscription is not None:
            _bill_chosen(ctx, subscription)

    def on_choice(self, ctx: Context, value: str) -> None:
        subscription = _followed_pressed(ctx, value)
        if subscription is None:
            ctx.retry("input.button_expired")
        else:
            _bill_chosen(ctx, subscription)

    def on_location(self, ctx: Context, latitude: float, longitude: float) -> None:
        ctx.draft.setdefault(DRAFT, {})["location"] = [latitude, longitude]
        ctx.say("report.location_kept")
        ctx.go(states.REPORT_PLACE)


class PlaceStep(Step):
    """After a location: the bill ID it is at, or the city or area (a feeder is known only from
    a bill ID)."""

    name = states.REPORT_PLACE
    back = states.REPORT_WHERE
    help = "help.report"

    def prompt(self, ctx: Context) -> Reply:
        places = ctx.draft[DRAFT].get("places")
        if places:
            buttons = [
                [Button(place_label(Place(city, area)), f"{PLACE_PREFIX}{i}")]
                for i, (city, area) in enumerate(places)
            ]
            return Reply(Msg("report.choose_place"), buttons)
        return Reply(Msg("report.place_prompt"), _followed_buttons(ctx))

    def on_text(self, ctx: Context, text: str) -> None:
        draft = ctx.draft[DRAFT]
        draft.pop("places", None)
        try:
            bill_id = parse_electricity_bill_id(text)
        except InvalidIdentifier:
            bill_id = None
        subscription = find_subscription(ctx.session, bill_id=bill_id) if bill_id else None
        if bill_id is not None:
            if subscription is None or subscription.status == SubscriptionStatus.REMOVED:
                ctx.retry("review.bill_id_unknown", bill_id=Code(bill_id))
            else:
                _bill_chosen(ctx, subscription)
            return
        places = find_places(ctx.session, text)
        if not places:
            ctx.retry("report.place_unknown", place=normalize_text(text))
        elif len(places) == 1:
            self._place_chosen(ctx, places[0])
        else:
            draft["places"] = [[p.city, p.area] for p in places[:PLACES_OFFERED]]
            ctx.go(self.name)

    def on_choice(self, ctx: Context, value: str) -> None:
        if value.startswith(PLACE_PREFIX):
            city, area = ctx.draft[DRAFT].pop("places")[int(value.removeprefix(PLACE_PREFIX))]
            self._place_chosen(ctx, Place(city, area))
            return
        subscription = _followed_pressed(ctx, value)
        if subscription is None:
            ctx.retry("input.button_expired")
        else:
            _bill_chosen(ctx, subscription)

    @staticmethod
    def _place_chosen(ctx: Context, place: Place) -> None:
        ctx.draft[DRAFT].update(city=place.city, area=place.area)
        ctx.go(states.REPORT_PROBLEM)


class ProblemStep(Step):
    name = states.REPORT_PROBLEM
    back = states.REPORT_WHERE
    help = "help.report"

    def prompt(self, ctx: Context) -> Reply:
        buttons = [
            [Button(Msg(f"report.problem.{problem}"), f"{PROBLEM_PREFIX}{problem}")]
            for problem in OutageProblem
        ]
        return Reply(Msg("report.problem_prompt"), buttons)

    def on_choice(self, ctx: Context, value: str) -> None:
        problem = OutageProblem(value.removeprefix(PROBLEM_PREFIX))
        draft = ctx.draft.get(DRAFT, {})
        where = _where(ctx, draft)
        if where is None:  # the bill ID went away meanwhile: start again
            ctx.reset(states.REPORT_WHERE)
            return
        if problem in DANGEROUS_PROBLEMS:  # before anything else is said
            ctx.say("report.danger")
        location = draft.get("location")
        filed = file_report(
            ctx.session,
            where=where,
            problem=problem,
            channel=ctx.event.channel,
            user_id=ctx.event.user_id,
            location=(location[0], location[1]) if location else None,
            window=timedelta(minutes=ctx.settings.outage_incident_window_minutes),
            now=ctx.now,
        )
        _say_filed(ctx, filed)
        ctx.reset()


def _where(ctx: Context, draft: dict[str, object]) -> Where | None:
    subscription_id = draft.get("subscription_id")
    if isinstance(subscription_id, int):
        subscription = ctx.session.get(Subscription, subscription_id)
        return Where.of(subscription) if subscription is not None else None
    city, area = draft.get("city"), draft.get("area")
    if not isinstance(city, str):
        return None
    return Where(city, area if isinstance(area, str) else None)


def _say_filed(ctx: Context, filed: Filed) -> None:
    code = Code(filed.report.tracking_code)
    if filed.planned is not None:
        ctx.say("report.filed_planned", code=code, **outage_hours(ctx, filed.planned))
    elif filed.joined:
        ctx.say("report.filed_known", code=code, count=filed.reports)
    else:
        ctx.say("report.filed", code=code)


STEPS: list[Step] = [WhereStep(), PlaceStep(), ProblemStep()]
