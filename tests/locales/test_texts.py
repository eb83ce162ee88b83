"""The product's voice, checked over the whole catalogs: plurals, isolated commands, one name per
service, no calques that were fixed coming back, readings and mobiles as they are read."""

import re

import pytest

from backend.identifiers import display_mobile
from locales.catalogs import catalog, message_ids, plural_count, translate
from locales.values import COMMAND, HTML, LRI, PDI, PLAIN, Msg, render
from tests.fakes.bot_api import FakeBotAPI
from tests.helpers.bots import BALE_TOKEN, TELEGRAM_TOKEN
from tests.helpers.messenger_user import MessengerUser

PLACEHOLDER = re.compile(r"\{(\w+)\}")
# A placeholder followed by a counted English noun: "{count} ID card files", "{left} more times".
COUNTED = re.compile(
    r"\{(\w+)\}(?: (?:more|earlier|national|ID|card|bill|working|invalid|unknown|new))*"
    r" (?:files|documents|minutes|times|characters|letters|events|requests|photos|lines"
    r"|subscribers|messages|IDs|days)\b"
)
PLURAL_KEYS = sorted(catalog("fa").counts)


def forms(key: str, locale: str) -> list[str]:
    if plural_count(key) is None:
        return [translate(key, locale)]
    return [translate(key, locale, count) for count in (1, 2)]


def sample(key: str, count: int) -> Msg:
    """The message with every placeholder filled: the count with `count`, the rest with 7."""
    params: dict[str, object] = {
        name: 7 for form in forms(key, "fa") for name in PLACEHOLDER.findall(form)
    }
    counted = plural_count(key)
    if counted is not None:
        params[counted] = count
    return Msg(key, params)


def test_both_catalogs_have_the_same_plural_entries_counted_by_the_same_parameter() -> None:
    assert catalog("en").counts == catalog("fa").counts
    assert len(PLURAL_KEYS) >= 25


@pytest.mark.parametrize("key", PLURAL_KEYS)
def test_every_plural_entry_reads_right_for_one_and_for_two(key: str) -> None:
    one, two = render(sample(key, 1), "en"), render(sample(key, 2), "en")
    assert one != two
    assert not COUNTED.search(translate(key, "en", 1))  # no "1 files"
    # Persian has one form, used for every number.
    assert translate(key, "fa", 1) == translate(key, "fa", 2)
    assert render(sample(key, 1), "fa") != render(sample(key, 2), "fa")  # ۱ and ۲


def test_every_count_bearing_english_text_is_a_plural_entry_counted_by_that_number() -> None:
    plain = {key: translate(key, "en") for key in message_ids("en") if plural_count(key) is None}
    counted = {key: COUNTED.findall(text) for key, text in plain.items()}
    assert {key: names for key, names in counted.items() if names} == {}
    for key in PLURAL_KEYS:
        for text in forms(key, "en"):
            assert set(COUNTED.findall(text)) <= {plural_count(key)}, key


def by_sms(key: str) -> bool:
    return key.startswith(("notice.", "sms.")) or key.endswith("_sms")


def test_english_has_no_half_plurals_and_quotes_one_way() -> None:
    for key in message_ids("en"):
        for text in forms(key, "en"):
            assert "(s)" not in text, key  # "1 paper(s)": a plural entry says it right
            # “…” on screens; a text that goes by SMS quotes in ASCII, which keeps it GSM-7.
            assert not set("«»" + ("“”" if by_sms(key) else '"')) & set(text), key


def test_the_removal_id_card_prompt_counts_in_english() -> None:
    params = {"max": 5, "max_mb": 20}
    one = render(Msg("removal.ask_id_card", params | {"count": 1}), "en")
    two = render(Msg("removal.ask_id_card", params | {"count": 2}), "en")
    assert "1 national ID card file received" in one
    assert "2 national ID card files received" in two


def test_a_plural_entry_needs_its_count() -> None:
    with pytest.raises(TypeError):
        translate("otp.wrong", "en")
    with pytest.raises(TypeError):
        render(Msg("otp.wrong", {"left": "2"}), "en")


def persian_commands(text: str) -> list[str]:
    """The /commands of a Persian text that stand outside a LRI…PDI isolate."""
    return COMMAND.findall(re.sub(f"{LRI}[^{PDI}]*{PDI}", "", text))


def test_no_command_in_a_persian_text_is_left_unisolated() -> None:
    with_commands = [key for key in message_ids("fa") if any("/" in f for f in forms(key, "fa"))]
    found = 0
    for key in with_commands:
        for count in (1, 2):
            message = sample(key, count)
            plain = render(message, "fa", PLAIN)
            assert persian_commands(plain) == [], key
            found += plain.count(f"{LRI}/")
            assert persian_commands(render(message, "fa", HTML)) == [], key
    assert found > 30  # the staff help, /help, /notices… are all there


def test_a_command_and_its_latin_arguments_are_one_isolated_run() -> None:
    text = render(Msg("help.notices"), "fa")
    assert f"{LRI}/notices off{PDI}" in text and f"{LRI}/notices off outage{PDI}" in text
    history = render(Msg("staff.help.history"), "fa")
    assert history.startswith(f"{LRI}/history CODE [PAGE]{PDI} — ")
    paid = render(Msg("staff.help.paid"), "fa")
    assert paid.startswith(f"{LRI}/paid CODE REF{PDI} [")  # the Persian choices stay outside
    # A slash that is no command (a city and its area, a date) is left alone.
    assert LRI not in render(Msg("broadcast.area_prompt"), "fa")
    # English reads left to right already: nothing is added.
    assert LRI not in render(Msg("help.notices"), "en")


@pytest.mark.parametrize(("token", "shape"), [(TELEGRAM_TOKEN, "telegram"), (BALE_TOKEN, "bale")])
def test_a_persian_text_with_a_command_arrives_with_the_command_isolated(
    fake_api: FakeBotAPI, polling_bots: None, token: str, shape: str
) -> None:
    user = MessengerUser(fake_api, token, 7301, shape=shape)
    user.say("/start")
    user.say("/nosuchcommand")
    assert f"{LRI}/help{PDI}" in user.text
    assert persian_commands(user.text) == []


# Wordings the issue named, each with what replaced it, and the second name of the bill review.
GONE = {
    "مورد انتظار": "say when the next step is due",
    "گام": "offices say مرحله",
    "خاموش کردن": "a pun next to خاموشی: فعال/غیرفعال",
    "روشن کردن": "فعال کردن",
    "سپرده": "ارجاع‌شده",
    "سپردن": "ارجاع",
    "برداشتن": "ارجاع به من",  # «برداشتن برای خودم» too, on a staff notice's button
    "انحصاری": "تنها استفاده‌کننده از انشعاب",
    "بررسی صورت‌حساب": "the service is «اعتراض به صورت‌حساب» everywhere",
    "درخواست بررسی": "the service is «اعتراض به صورت‌حساب» everywhere",
    "نویسه": "حرف",
    "گفتگو": "گفت‌وگو",
}


def test_fixed_calques_and_the_second_service_name_do_not_come_back() -> None:
    for key in message_ids("fa"):
        for text in forms(key, "fa"):
            for phrase, instead in GONE.items():
                # A whole word: گام is not هنگام.
                assert not re.search(rf"(?<!\w){phrase}", text), (key, phrase, instead)


def test_each_service_has_one_name_on_every_screen() -> None:
    for locale in ("fa", "en"):
        assert translate("kind.bill_review", locale) == translate("menu.bill_review", locale)
        assert translate("kind.connection_removal", locale) == translate("menu.removal", locale)
    english = [text for key in message_ids("en") for text in forms(key, "en")]
    for other in ("removal of the connection", "Final clearance", "Dispute a bill", "Filed:"):
        assert not any(other in text for text in english), other


def test_help_at_the_menu_names_every_service_and_followed_bill_ids() -> None:
    for locale in ("fa", "en"):
        text = translate("help.menu", locale)
        for item in ("menu.removal", "menu.my_requests", "menu.follow", "menu.track"):
            assert translate(item, locale) in text, (locale, item)


def test_meter_readings_are_never_grouped() -> None:
    for locale, digits in (("fa", "۱۲۳۴۵۶۷"), ("en", "1234567")):
        tested = render(
            Msg("staff.meter_tested", {"code": 1, "result": "x", "reading": 1234567}), locale
        )
        assert digits in tested
        bill = {
            "start": 1,
            "end": 1,
            "previous": 1234567,
            "current": 1234567,
            "kwh": 1,
            "amount": 1,
        }
        assert render(Msg("staff.show.bill", bill), locale).count(digits) == 2
        bound = render(Msg("refused.reading_out_of_range", {"max_reading": 1234567}), locale)
        assert digits in bound
    # An amount still is grouped.
    assert "1,234,567" in render(Msg("staff.show.fee", {"amount": 1234567}), "en")


def test_a_mobile_is_shown_as_iranians_write_it() -> None:
    assert display_mobile("+989361238866") == "0936***8866"
    shown = render(Msg("removal.owner_proven", {"phone": display_mobile("+989361238866")}), "fa")
    assert "0936***8866" in shown and "+98" not in shown


def test_a_prompt_shown_before_the_done_button_exists_says_when_it_comes() -> None:
    # These steps need a file before «پایان ارسال مدارک» is offered (dialogs.documents).
    before_the_button = (
        "requests.ask_documents",
        "requests.ask_papers",
        "removal.ask_id_card",
        "help.add_documents",
        "help.add_papers",
    )
    for locale, comes in (("fa", "پس از نخستین فایل"), ("en", "After the first file")):
        done = translate("review.documents_done", locale)
        for key in before_the_button:
            for text in forms(key, locale):
                assert done not in text or comes.lower() in text.lower(), (locale, key)
