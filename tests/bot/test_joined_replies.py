"""A bare reply goes out as the first paragraph of the next one, when both fit one message."""

from dataclasses import replace

from backend.constants import Channel
from bot.messenger import PARAGRAPH, messages
from channels.registry import MESSENGERS
from channels.replies import Button, OutgoingFile, Reply
from dialogs.engine import Answer
from locales.values import Msg, render

TELEGRAM = MESSENGERS[Channel.TELEGRAM]
GREETING, MENU, REFUSAL = Msg("start.welcome"), Msg("menu.prompt"), Msg("input.button_expired")
BUTTONS = [[Button(Msg("menu.track"), "menu:track")]]


def texts(answer: Answer, limit: int = TELEGRAM.max_text) -> list[str]:
    return [text for _, text in messages(answer, replace(TELEGRAM, max_text=limit))]


def fa(message: Msg) -> str:
    return render(message, "fa", TELEGRAM.markup)


def test_a_greeting_and_the_menu_are_one_message_with_the_menus_buttons() -> None:
    answer = Answer("fa", [Reply(GREETING), Reply(MENU, buttons=BUTTONS)])
    sent = list(messages(answer, TELEGRAM))
    assert [text for _, text in sent] == [fa(GREETING) + PARAGRAPH + fa(MENU)]
    assert sent[0][0].buttons == BUTTONS


def test_bare_replies_in_a_row_all_join_the_next_one() -> None:
    answer = Answer("fa", [Reply(REFUSAL), Reply(GREETING), Reply(MENU, buttons=BUTTONS)])
    assert texts(answer) == [PARAGRAPH.join([fa(REFUSAL), fa(GREETING), fa(MENU)])]


def test_replies_that_would_not_fit_one_message_go_apart() -> None:
    answer = Answer("fa", [Reply(GREETING), Reply(MENU, buttons=BUTTONS)])
    limit = len(fa(GREETING)) + len(PARAGRAPH) + len(fa(MENU)) - 1
    assert texts(answer, limit) == [fa(GREETING), fa(MENU)]


def test_a_reply_with_files_or_buttons_keeps_its_own_message() -> None:
    document = OutgoingFile("files/bill.pdf", "bill.pdf", "application/pdf")
    answer = Answer("fa", [Reply(GREETING, files=[document]), Reply(MENU, buttons=BUTTONS)])
    assert texts(answer) == [fa(GREETING), fa(MENU)]
    answer = Answer("fa", [Reply(GREETING, request_contact=True), Reply(MENU, buttons=BUTTONS)])
    assert texts(answer) == [fa(GREETING), fa(MENU)]
    answer = Answer("fa", [Reply(MENU, buttons=BUTTONS), Reply(GREETING)])
    assert texts(answer) == [fa(MENU), fa(GREETING)]
