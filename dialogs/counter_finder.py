"""«دفاتر پیشخوان» for subscribers: the counters at work in a city, with their address, phone and
the services each may file; and the counters named where a reply sends them to file in person."""

from backend.counters import active_cities, active_counters_in, services_of
from backend.models import Counter
from channels.replies import Button, Reply
from dialogs import states
from dialogs.engine import Context, Step
from dialogs.lines import listed, stacked_lines
from locales.values import Code, Msg

CITY_PREFIX = "ccity:"  # a city's button: its place in the list shown (names are long in bytes)
CITIES = "counter_cities"  # the cities the buttons were shown for, in the conversation's data


def counters_named(ctx: Context, city: str) -> Msg | Code | None:
    """The city's counters at work as one list of names with addresses; None when none is."""
    counters = active_counters_in(ctx.session, city)
    if not counters:
        return None
    return listed(
        [Msg("counters.name_address", {"name": c.name, "address": c.address}) for c in counters]
    )


def _services(ctx: Context, counter: Counter) -> Msg | Code:
    kinds = services_of(ctx.session, counter)
    if not kinds:
        return Msg("counters.no_services")
    return listed([Msg(f"kind.{kind}") for kind in kinds])


class CountersCityStep(Step):
    """Asks the city: a button per city with a counter at work, or its name typed."""

    name = states.COUNTERS_CITY
    back = states.MENU
    help = "help.counters"

    def prompt(self, ctx: Context) -> Reply:
        cities = active_cities(ctx.session)
        ctx.conversation.data[CITIES] = cities
        if not cities:
            return Reply(Msg("counters.none_anywhere"))
        buttons = [
            [Button(Msg("counters.city_button", {"city": city}), f"{CITY_PREFIX}{i}")]
            for i, city in enumerate(cities)
        ]
        return Reply(Msg("counters.ask_city"), buttons)

    def on_choice(self, ctx: Context, value: str) -> None:
        cities = ctx.conversation.data.get(CITIES, [])
        number = value.removeprefix(CITY_PREFIX)
        if not number.isdigit() or int(number) >= len(cities):
            ctx.retry("input.button_expired")
            return
        self._show(ctx, cities[int(number)])

    def on_text(self, ctx: Context, text: str) -> None:
        self._show(ctx, text)

    def _show(self, ctx: Context, city: str) -> None:
        counters = active_counters_in(ctx.session, city)
        if not counters:
            ctx.retry("counters.city_unknown", city=city.strip())
            return
        head = Msg("counters.list_head", {"city": counters[0].city, "count": len(counters)})
        items = [
            Msg(
                "counters.item",
                {
                    "name": counter.name,
                    "address": counter.address,
                    "phone": Code(counter.phone),
                    "services": _services(ctx, counter),
                },
            )
            for counter in counters
        ]
        ctx.replies.append(Reply(stacked_lines([head, *items])))
        ctx.conversation.data.pop(CITIES, None)
        ctx.go(states.MENU)


STEPS: list[Step] = [CountersCityStep()]
