"""The Melipayamak adapter against recorded-style answers (respx: nothing reaches the network)."""

import logging
import traceback
from collections.abc import Iterator

import httpx
import pytest
import respx

from channels.sms import (
    DeliveryState,
    InboundSms,
    InvalidPushError,
    MessageRef,
    SendResult,
    SmsPermanentError,
    SmsTemporaryError,
)
from channels.sms.melipayamak import MelipayamakProvider
from tests.helpers.answers import form, html_answer, json_answer

BASE_URL = "https://melipayamak.test/api/SendSMS"
USERNAME, PASSWORD = "barq-qom", "Pa55-w0rd-Secret"
SENDER = "50004000123456"
REC_ID = "5084273640112846720"


def answer(name: str, status: int = 200) -> httpx.Response:
    return json_answer("melipayamak", name, status)


@pytest.fixture
def gateway() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=True, assert_all_mocked=True) as router:
        yield router


@pytest.fixture
def provider(sleeps: list[float]) -> Iterator[MelipayamakProvider]:
    with MelipayamakProvider(
        username=USERNAME,
        password=PASSWORD,
        sender=SENDER,
        base_url=BASE_URL,
        sleep=sleeps.append,
    ) as provider:
        yield provider


def test_send_posts_credentials_and_text_and_keeps_the_rec_id(
    gateway: respx.MockRouter, provider: MelipayamakProvider
) -> None:
    route = gateway.post("/SendSMS").mock(return_value=answer("send"))

    result = provider.send("+98 912 123 4567", "درخواست شما ثبت شد", reference="r-1")

    assert form(route.calls.last.request) == {
        "username": USERNAME,
        "password": PASSWORD,
        "to": "09121234567",
        "from": SENDER,
        "text": "درخواست شما ثبت شد",
        "isFlash": "false",
    }
    assert result == SendResult(
        reference="r-1",
        to="+989121234567",
        state=DeliveryState.QUEUED,
        raw_code="1",
        provider_id=REC_ID,
    )


def test_a_short_value_is_an_error_code(
    gateway: respx.MockRouter, provider: MelipayamakProvider, sleeps: list[float]
) -> None:
    gateway.post("/SendSMS").mock(return_value=answer("send_credit_error"))

    with pytest.raises(SmsPermanentError, match="not enough credit") as raised:
        provider.send("09121234567", "x", reference="r-1")

    assert raised.value.code == "2"
    assert sleeps == []


def test_a_temporary_error_code_is_retried(
    gateway: respx.MockRouter, provider: MelipayamakProvider, sleeps: list[float]
) -> None:
    route = gateway.post("/SendSMS").mock(side_effect=[answer("send_updating"), answer("send")])

    assert provider.send("09121234567", "x", reference="r-1").provider_id == REC_ID
    assert route.call_count == 2
    assert sleeps == [0.5]


def test_a_send_that_may_have_gone_out_is_not_repeated(
    gateway: respx.MockRouter, provider: MelipayamakProvider, sleeps: list[float]
) -> None:
    route = gateway.post("/SendSMS").mock(
        return_value=html_answer("melipayamak", "bad_gateway_502", 502)
    )

    with pytest.raises(SmsTemporaryError) as raised:
        provider.send("09121234567", "x", reference="r-1")

    assert raised.value.may_have_been_sent
    assert raised.value.code == "502"
    assert route.call_count == 1
    assert sleeps == []


def test_a_read_timeout_on_send_is_not_repeated(
    gateway: respx.MockRouter, provider: MelipayamakProvider
) -> None:
    route = gateway.post("/SendSMS").mock(side_effect=httpx.ReadTimeout("timed out"))

    with pytest.raises(SmsTemporaryError) as raised:
        provider.send("09121234567", "x", reference="r-1")

    assert raised.value.may_have_been_sent
    assert route.call_count == 1


def test_a_send_that_never_connected_is_retried(
    gateway: respx.MockRouter, provider: MelipayamakProvider, sleeps: list[float]
) -> None:
    gateway.post("/SendSMS").mock(side_effect=[httpx.ConnectError("refused"), answer("send")])

    assert provider.send("09121234567", "x", reference="r-1").provider_id == REC_ID
    assert sleeps == [0.5]


def test_status_asks_get_deliveries2_per_rec_id(
    gateway: respx.MockRouter, provider: MelipayamakProvider
) -> None:
    route = gateway.post("/GetDeliveries2").mock(
        side_effect=[
            answer("delivery_delivered"),
            answer("delivery_blacklisted"),
            answer("delivery_at_operator"),
        ]
    )
    sent = SendResult("r-2", "+989121234567", DeliveryState.QUEUED, "1", "222")

    results = provider.status([MessageRef("r-1", "111"), sent, MessageRef("r-3", "333")])

    assert [form(call.request)["recId"] for call in route.calls] == ["111", "222", "333"]
    assert form(route.calls[0].request)["username"] == USERNAME
    assert [(r.reference, r.state, r.raw_code, r.provider_id) for r in results] == [
        ("r-1", DeliveryState.DELIVERED, "1", "111"),
        ("r-2", DeliveryState.PERMANENT_FAILURE, "35", "222"),
        ("r-3", DeliveryState.SENT, "8", "333"),
    ]


def test_status_500_then_success(
    gateway: respx.MockRouter, provider: MelipayamakProvider, sleeps: list[float]
) -> None:
    gateway.post("/GetDeliveries2").mock(
        side_effect=[
            html_answer("melipayamak", "server_error_500", 500),
            answer("delivery_delivered"),
        ]
    )

    [result] = provider.status([MessageRef("r-1", "111")])

    assert result.state == DeliveryState.DELIVERED
    assert sleeps == [0.5]


def test_status_needs_the_rec_id(gateway: respx.MockRouter, provider: MelipayamakProvider) -> None:
    with pytest.raises(ValueError, match="recId"):
        provider.status([MessageRef("r-1", "111"), "r-2"])
    assert not gateway.calls


def test_inbound_push_is_parsed_and_answered_with_ok(provider: MelipayamakProvider) -> None:
    pushed = {"to": "30004000123", "body": "لغو ۱۱", "from": "۰۹۱۲۱۲۳۴۵۶۷"}

    assert provider.parse_push(pushed) == InboundSms(
        sender="+989121234567", receiver="30004000123", text="لغو ۱۱"
    )
    assert provider.push_ack == "OK"
    assert provider.receive() == []


def test_a_push_without_sender_or_body_is_refused(provider: MelipayamakProvider) -> None:
    with pytest.raises(InvalidPushError):
        provider.parse_push({"to": "30004000123", "body": "سلام"})
    with pytest.raises(InvalidPushError):
        provider.parse_push({"to": "30004000123", "from": "09121234567"})


def test_password_never_reaches_logs_or_errors(
    gateway: respx.MockRouter, provider: MelipayamakProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    gateway.post("/SendSMS").mock(
        side_effect=httpx.ConnectError(f"refused: username={USERNAME}&password={PASSWORD}")
    )

    with pytest.raises(SmsTemporaryError) as raised:
        provider.send("09121234567", "x", reference="r-1")

    shown = caplog.text + str(raised.value) + "".join(traceback.format_exception(raised.value))
    assert PASSWORD not in shown
    assert "password=***" in str(raised.value)
