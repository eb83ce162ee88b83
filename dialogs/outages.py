"""«خاموشی‌های برنامه‌ریزی‌شده»: the coming planned outages of my followed bill IDs, or of a city
or area typed, with a button to be reminded an hour before each."""

from typing import Any

from backend import preferences
from backend.broadcast_audience import Place, find_places
from backend.constants import SubscriptionStatus
from backend.identifiers import normalize_text
from backend.models import PlannedOutage, Subscription
from backend.outage_schedule import (
    Coming,
    ask_reminder,
    coming_for,
    coming_in,
    place_text,
)
from backend.settings import local_zone
from channels.replies import Button, Reply
from dialogs import states
from dialogs.engine import Context, Step
from dialogs.follow import followed_name
from dialogs.staff import stacked_lines
from locales.values import Msg, localize_digits, tehran_date

PLACE = "outages_place"  # the draft's place typed: [city, area or None]
PLACES = "outages_places"  # the places a name typed may mean, offered as buttons
SHOWN = "outages_shown"  # outage id -> [subscription id or None, place]: what a reminder is for
REMIND_PREFIX = "out:remind:"
PLACE_PREFIX = "out:pl:"
PLACES_OFFERED = 6


def followed_bill_buttons(ctx: Context, key: str, prefix: str) -> list[list[Button]]:
    """A button per bill ID the chat follows (not removed ones): `key` names it, pressed it
    is `<prefix><subscription id>`."""
    mine = preferences.followed(ctx.session, channel=ctx.event.channel, user_id=ctx.event.user_id)
    return [
        [
            Button(
                Msg(key, {"name": followed_name(f.subscription.bill_id, f.label)}),
                f"{prefix}{f.subscription.id}",
            )
        ]
        for f in mine
        if f.subscription.status != SubscriptionStatus.REMOVED
    ]


def outage_reason(outage: PlannedOutage) -> Msg | str:
    return Msg(f"broadcast.reason.{outage.reason}") if outage.reason else outage.reason_text


def outage_hours(ctx: Context, outage: PlannedOutage) -> dict[str, Any]:
    """The day (Jalali, where the desk is) and the hours, in the reader's digits."""
    zone = local_zone()
    start, end = outage.starts_at.astimezone(zone), outage.ends_at.astimezone(zone)
    return {
        "day": tehran_date(outage.starts_at),
        "start": localize_digits(start.strftime("%H:%M"), ctx.locale),
        "end": localize_digits(end.strftime("%H:%M"), ctx.locale),
    }


def place_label(place: Place) -> Msg:
    if place.area is None:
        return Msg("broadcast.place_city", {"city": place.city})
    return Msg("broadcast.place_area", {"city": place.city, "area": place.area})


# One outage as listed: the outage, where it is said to be (a bill ID's name, a place's), and
# the place its reminder names.
_Listed = tuple[Coming, Msg | object, str]


class OutagesStep(Step):
    """The coming outages, and what can be typed: a city or an area («قم»، «قم/صفاییه»)."""

    name = states.OUTAGES
    back = states.MENU
    help = "help.outages"

    def prompt(self, ctx: Context) -> Reply:
        if PLACES in ctx.draft:
            return self._choose_place(ctx)
        typed = ctx.draft.get(PLACE)
        if typed is not None:
            place = Place(typed[0], typed[1])
            label = place_label(place)
            shown = place_text(place.city, place.area)
            found: list[_Listed] = [
                (c, label, shown) for c in coming_in(ctx.session, place, now=ctx.now)
            ]
            if not found:
                return Reply(Msg("outages.none_in_place", {"place": label}))
            return self._listed(ctx, "outages.in_place", {"place": label}, found)
        mine = preferences.followed(
            ctx.session, channel=ctx.event.channel, user_id=ctx.event.user_id
        )
        if not mine:
            return Reply(Msg("outages.no_bill_ids"))
        names = {f.subscription.id: followed_name(f.subscription.bill_id, f.label) for f in mine}
        found = [
            (c, names[c.subscription.id], place_text(c.subscription.city, c.subscription.area))
            for c in coming_for(ctx.session, [f.subscription for f in mine], now=ctx.now)
            if c.subscription is not None
        ]
        if not found:
            return Reply(Msg("outages.none_mine"))
        return self._listed(ctx, "outages.mine", {}, found)

    @staticmethod
    def _listed(ctx: Context, key: str, params: dict[str, object], found: list[_Listed]) -> Reply:
        """The lines, a reminder button under each that has not started; what each button is
        for is kept in the draft."""
        shown: dict[str, list[object]] = {}
        lines, buttons = [], []
        for coming, where, place in found:
            outage, subscription = coming.outage, coming.subscription
            hours = outage_hours(ctx, outage)
            reason = outage_reason(outage)
            lines.append(Msg("outages.line", {"where": where, "reason": reason, **hours}))
            if outage.starts_at > ctx.now:
                shown[str(outage.id)] = [subscription.id if subscription else None, place]
                label = Msg("outages.remind_button", hours)
                buttons.append([Button(label, f"{REMIND_PREFIX}{outage.id}")])
        ctx.draft[SHOWN] = shown
        return Reply(Msg(key, {**params, "lines": stacked_lines(lines)}), buttons)

    def _choose_place(self, ctx: Context) -> Reply:
        places = [Place(city, area) for city, area in ctx.draft[PLACES]]
        buttons = [
            [Button(place_label(place), f"{PLACE_PREFIX}{index}")]
            for index, place in enumerate(places)
        ]
        return Reply(Msg("outages.choose_place"), buttons)

    def on_text(self, ctx: Context, text: str) -> None:
        places = find_places(ctx.session, text)
        ctx.draft.pop(PLACES, None)
        if not places:
            ctx.retry("outages.place_unknown", place=normalize_text(text))
        elif len(places) == 1:
            ctx.draft[PLACE] = [places[0].city, places[0].area]
            ctx.go(self.name)
        else:
            ctx.draft[PLACES] = [[p.city, p.area] for p in places[:PLACES_OFFERED]]
            ctx.go(self.name)

    def on_choice(self, ctx: Context, value: str) -> None:
        if value.startswith(PLACE_PREFIX):
            city, area = ctx.draft.pop(PLACES)[int(value.removeprefix(PLACE_PREFIX))]
            ctx.draft[PLACE] = [city, area]
            ctx.go(self.name)
            return
        outage_id = value.removeprefix(REMIND_PREFIX)
        subscription_id, place = ctx.draft.get(SHOWN, {}).get(outage_id, [None, None])
        outage = ctx.session.get(PlannedOutage, int(outage_id)) if place is not None else None
        if outage is None or outage.starts_at <= ctx.now:
            ctx.retry("input.button_expired")
            return
        subscription = ctx.session.get(Subscription, subscription_id) if subscription_id else None
        asked = ask_reminder(
            ctx.session,
            outage,
            channel=ctx.event.channel,
            user_id=ctx.event.user_id,
            subscription=subscription,
            place=place,
            now=ctx.now,
        )
        key = "outages.reminder_set" if asked else "outages.reminder_already"
        ctx.say(key, **outage_hours(ctx, outage))
        ctx.go(self.name)


STEPS: list[Step] = [OutagesStep()]
