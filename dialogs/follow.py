"""The bill IDs a subscriber follows for notices, and `/notices off|on` for each kind of notice."""

from backend import preferences
from backend.constants import BroadcastTopic
from backend.identifiers import normalize_text, strip_invisible
from backend.models import Subscription
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


UNFOLLOW = "unfollow"  # the conversation's bill ID asked about before it is no longer followed
NO_LABEL = "fol:nolabel"
YES_REMOVE = "fol:yes"


def followed_name(bill_id: str, label: str | None) -> Msg | Code:
    """A followed bill ID as its follower knows it: with the name they gave it, if any."""
    if label:
        return Msg("follow.named", {"label": label, "bill_id": Code(bill_id)})
    return Code(bill_id)


def _follow(ctx: Context, subscription_id: int) -> None:
    """This chat follows the subscription (FollowRefused when it may not)."""
    preferences.follow(
        ctx.session,
        channel=ctx.event.channel,
        user_id=ctx.event.user_id,
        subscription_id=subscription_id,
        now=ctx.now,
    )


def follow_proven(ctx: Context, subscription: Subscription) -> None:
    """A bill ID whose registered mobile this chat has just proved by a code is followed from
    here, and said so once, with how to stop (nothing is said if it is followed already or the
    chat follows as many as it may)."""
    assert subscription.id is not None  # a stored subscription
    try:
        _follow(ctx, subscription.id)
    except FollowRefused:
        return
    ctx.say("follow.auto_added", bill_id=Code(subscription.bill_id))


def _one(ctx: Context, subscription_id: object) -> preferences.Followed | None:
    if not isinstance(subscription_id, int):
        return None
    event = ctx.event
    return preferences.followed_one(
        ctx.session, channel=event.channel, user_id=event.user_id, subscription_id=subscription_id
    )


class FollowListStep(Step):
    name = states.FOLLOW_LIST
    back = states.MENU
    help = "help.follow"

    def prompt(self, ctx: Context) -> Reply:
        event = ctx.event
        mine = preferences.followed(ctx.session, channel=event.channel, user_id=event.user_id)
        buttons = []
        for one in mine:
            shown = {"name": followed_name(one.subscription.bill_id, one.label)}
            buttons.append(
                [
                    Button(Msg("follow.label_button", shown), f"fol:label:{one.subscription.id}"),
                    Button(Msg("follow.remove_button", shown), f"fol:rm:{one.subscription.id}"),
                ]
            )
        buttons.append([Button(Msg("follow.add_button"), "fol:add")])
        buttons.append([Button(Msg("follow.notices_button"), "fol:notices")])
        return Reply(Msg("follow.list" if mine else "follow.none", {"count": len(mine)}), buttons)

    def on_choice(self, ctx: Context, value: str) -> None:
        if value == "fol:add":
            ctx.go(states.FOLLOW_ADD)
        elif value == "fol:notices":
            ctx.go(states.NOTICES)
        elif value.startswith("fol:rm:"):
            ctx.conversation.data[UNFOLLOW] = int(value.removeprefix("fol:rm:"))
            ctx.go(states.FOLLOW_REMOVE)
        elif value.startswith("fol:label:"):
            ctx.draft["label_for"] = int(value.removeprefix("fol:label:"))
            ctx.go(states.FOLLOW_LABEL)


class FollowRemoveStep(Step):
    """Asks once before a followed bill ID is dropped, naming it as its follower knows it."""

    name = states.FOLLOW_REMOVE
    back = states.FOLLOW_LIST
    help = "help.follow"

    def prompt(self, ctx: Context) -> Reply:
        one = _one(ctx, ctx.conversation.data.get(UNFOLLOW))
        if one is None:  # no longer followed (removed from another process meanwhile)
            return Reply(Msg("follow.not_followed"))
        name = followed_name(one.subscription.bill_id, one.label)
        button = Button(Msg("follow.yes_remove"), YES_REMOVE)
        return Reply(Msg("follow.confirm_remove", {"name": name}), buttons=[[button]])

    def on_choice(self, ctx: Context, value: str) -> None:
        one = _one(ctx, ctx.conversation.data.pop(UNFOLLOW, None))
        if value == YES_REMOVE and one is not None:
            assert one.subscription.id is not None
            preferences.unfollow(
                ctx.session,
                channel=ctx.event.channel,
                user_id=ctx.event.user_id,
                subscription_id=one.subscription.id,
            )
            ctx.say("follow.removed", name=followed_name(one.subscription.bill_id, one.label))
        ctx.go(states.FOLLOW_LIST)


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
            _follow(ctx, subscription.id)
        except FollowRefused as refused:
            ctx.say(f"follow.refused_{refused.reason}", max=preferences.MAX_FOLLOWED)
            ctx.go(states.FOLLOW_LIST)
            return
        ctx.say("follow.added", bill_id=Code(subscription.bill_id))
        ctx.draft["label_for"] = subscription.id  # a name for it, if they like
        ctx.go(states.FOLLOW_LABEL)


class FollowLabelStep(Step):
    """A name for a followed bill ID («خانه», «مغازه»), set after following it or changed later."""

    name = states.FOLLOW_LABEL
    back = states.FOLLOW_LIST
    help = "help.follow_label"

    def prompt(self, ctx: Context) -> Reply:
        one = _one(ctx, ctx.draft.get("label_for"))
        if one is None:
            return Reply(Msg("follow.not_followed"))
        params = {"bill_id": Code(one.subscription.bill_id), "max": preferences.LABEL_MAX_CHARS}
        buttons = [[Button(Msg("follow.no_label"), NO_LABEL)]]
        return Reply(Msg("follow.ask_label", params), buttons=buttons)

    def on_text(self, ctx: Context, text: str) -> None:
        label = " ".join(strip_invisible(normalize_text(text)).split())
        if not label:
            ctx.retry("follow.label_empty")
        elif len(label) > preferences.LABEL_MAX_CHARS:
            ctx.retry("follow.label_too_long", max=preferences.LABEL_MAX_CHARS, length=len(label))
        else:
            self._set(ctx, label)

    def on_choice(self, ctx: Context, value: str) -> None:
        self._set(ctx, None)

    @staticmethod
    def _set(ctx: Context, label: str | None) -> None:
        one = _one(ctx, ctx.draft.pop("label_for", None))
        if one is not None:
            assert one.subscription.id is not None
            preferences.set_label(
                ctx.session,
                channel=ctx.event.channel,
                user_id=ctx.event.user_id,
                subscription_id=one.subscription.id,
                label=label,
            )
            if label is not None:
                ctx.say("follow.label_set", name=followed_name(one.subscription.bill_id, label))
        ctx.reset(states.FOLLOW_LIST)


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
    # One kind switched is named: "notices off" for general ones alone would mislead.
    kind = f"_{topics[0]}" if len(topics) == 1 else ""
    ctx.say(f"notices.switched_{'on' if on else 'off'}{kind}")


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


STEPS = [FollowListStep(), FollowRemoveStep(), FollowAddStep(), FollowLabelStep(), NoticesStep()]
