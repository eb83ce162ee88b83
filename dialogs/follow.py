"""The bill IDs a subscriber follows for notices, and `/notices off|on` for each kind of notice."""

from backend import preferences
from backend.constants import BroadcastTopic
from backend.identifiers import normalize_text
from backend.preferences import FollowRefused
from channels.replies import Button, Reply
from dialogs import states
from dialogs.bill_review import subscription_for_bill_id
from dialogs.engine import Context, Step
from locales.values import Code, Msg

# What `/notices off|on [kind]` accepts, typed in either language.
SWITCHES = {"off": False, "on": True, "خاموش": False, "روشن": True}
TOPIC_WORDS = {
    "outage": BroadcastTopic.OUTAGE,
    "outages": BroadcastTopic.OUTAGE,
    "خاموشی": BroadcastTopic.OUTAGE,
    "قطعی": BroadcastTopic.OUTAGE,
    "general": BroadcastTopic.GENERAL,
    "عمومی": BroadcastTopic.GENERAL,
}


class FollowListStep(Step):
    name = states.FOLLOW_LIST
    back = states.MENU
    help = "help.follow"

    def prompt(self, ctx: Context) -> Reply:
        event = ctx.event
        mine = preferences.followed(ctx.session, channel=event.channel, user_id=event.user_id)
        buttons = [
            [Button(Msg("follow.remove_button", {"bill_id": Code(s.bill_id)}), f"fol:rm:{s.id}")]
            for s in mine
        ]
        buttons.append([Button(Msg("follow.add_button"), "fol:add")])
        buttons.append([Button(Msg("follow.notices_button"), "fol:notices")])
        return Reply(Msg("follow.list" if mine else "follow.none", {"count": len(mine)}), buttons)

    def on_choice(self, ctx: Context, value: str) -> None:
        if value == "fol:add":
            ctx.go(states.FOLLOW_ADD)
        elif value == "fol:notices":
            ctx.go(states.NOTICES)
        elif value.startswith("fol:rm:"):
            preferences.unfollow(
                ctx.session,
                channel=ctx.event.channel,
                user_id=ctx.event.user_id,
                subscription_id=int(value.removeprefix("fol:rm:")),
            )
            ctx.say("follow.removed")
            ctx.go(self.name)


class FollowAddStep(Step):
    name = states.FOLLOW_ADD
    back = states.FOLLOW_LIST
    help = "help.follow"

    def prompt(self, ctx: Context) -> Reply:
        return Reply(Msg("follow.add_prompt"))

    def on_text(self, ctx: Context, text: str) -> None:
        subscription = subscription_for_bill_id(ctx, text)
        if subscription is None or subscription.id is None:
            return
        try:
            preferences.follow(
                ctx.session,
                channel=ctx.event.channel,
                user_id=ctx.event.user_id,
                subscription_id=subscription.id,
                now=ctx.now,
            )
        except FollowRefused as refused:
            ctx.say(f"follow.refused_{refused.reason}", max=preferences.MAX_FOLLOWED)
        else:
            ctx.say("follow.added", bill_id=Code(subscription.bill_id))
        ctx.go(states.FOLLOW_LIST)


class NoticesStep(Step):
    """Each kind of notice on or off, with a button to switch it."""

    name = states.NOTICES
    back = states.FOLLOW_LIST
    help = "help.notices"

    def prompt(self, ctx: Context) -> Reply:
        off = preferences.topics_off(
            ctx.session, channel=ctx.event.channel, user_id=ctx.event.user_id
        )
        shown, buttons = {}, []
        for topic in BroadcastTopic:
            now_on, switch = ("off", "on") if topic in off else ("on", "off")
            shown[topic.value] = Msg(f"notices.{now_on}")
            buttons.append([Button(Msg(f"notices.turn_{switch}_{topic}"), f"ntc:{topic}:{switch}")])
        return Reply(Msg("notices.prompt", shown), buttons)

    def on_choice(self, ctx: Context, value: str) -> None:
        _, topic, switch = value.split(":")
        _switch(ctx, [BroadcastTopic(topic)], on=switch == "on")
        ctx.go(self.name)


def _switch(ctx: Context, topics: list[BroadcastTopic], *, on: bool) -> None:
    for topic in topics:
        preferences.set_topic(
            ctx.session,
            channel=ctx.event.channel,
            user_id=ctx.event.user_id,
            topic=topic,
            on=on,
            now=ctx.now,
        )
    ctx.say("notices.switched_on" if on else "notices.switched_off")


def run_notices_command(ctx: Context, name: str, argument: str) -> bool:
    """`/notices`, `/notices off|on` and `/notices off|on outage|general`; False for others
    (staff's `/notices CODE` is theirs)."""
    if name != "notices":
        return False
    words = normalize_text(argument).lower().split()
    if not words:
        ctx.go(states.NOTICES)
        return True
    if words[0] not in SWITCHES or len(words) > 2:
        return False
    if len(words) == 2 and words[1] not in TOPIC_WORDS:
        ctx.retry("notices.usage")
        return True
    topics = [TOPIC_WORDS[words[1]]] if len(words) == 2 else list(BroadcastTopic)
    _switch(ctx, topics, on=SWITCHES[words[0]])
    ctx.go(ctx.conversation.state)
    return True


STEPS = [FollowListStep(), FollowAddStep(), NoticesStep()]
