"""The Kavenegar adapter against recorded-style answers (respx: nothing reaches the network)."""

import json
import logging
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
import respx

from channels.sms import (
    DeliveryState,
    InboundSms,
    MessageRef,
    OutgoingSms,
    SendResult,
    SmsPermanentError,
    SmsTemporaryError,
)
from channels.sms.kavenegar import KavenegarProvider
from tests.helpers.answers import form, html_answer, json_answer

API_KEY = "5A7B3C2D1E0F-6B5A4C3D-KEY"
BASE_URL = "https://kavenegar.test/v1"
SENDER = "10004346"


def answer(name: str, status: int = 200) -> httpx.Response:
    return json_answer("kavenegar", name, status)


@pytest.fixture
def gateway() -> Iterator[respx.MockRouter]:
    """Kavenegar's endpoints under the key; any request to anything else fails the test."""
    with respx.mock(
        base_url=f"{BASE_URL}/{API_KEY}", assert_all_called=True, assert_all_mocked=True
    ) as router:
        yield router


@pytest.fixture
def provider(sleeps: list[float]) -> Iterator[KavenegarProvider]:
    with KavenegarProvider(
        api_key=API_KEY, sender=SENDER, base_url=BASE_URL, sleep=sleeps.append
    ) as provider:
        yield provider


def test_send_posts_the_message_with_our_reference_as_localid(
    gateway: respx.MockRouter, provider: KavenegarProvider
) -> None:
    route = gateway.post("/sms/send.json").mock(return_value=answer("send"))

    result = provider.send("۰۹۱۲ ۱۲۳ ۴۵۶۷", "قبض برق شما صادر شد", reference="1001")

    request = route.calls.last.request
    assert request.url.host == "kavenegar.test"
    assert form(request) == {
        "receptor": "09121234567",
        "message": "قبض برق شما صادر شد",
        "sender": SENDER,
        "localid": "1001",
    }
    assert result == SendResult(
        reference="1001",
        to="+989121234567",
        state=DeliveryState.QUEUED,
        raw_code="1",
        provider_id="8792343",
    )


def test_send_many_goes_through_sendarray_and_keeps_the_order(
    gateway: respx.MockRouter, provider: KavenegarProvider
) -> None:
    route = gateway.post("/sms/sendarray.json").mock(return_value=answer("sendarray"))
    messages = [
        OutgoingSms("09121234567", "خاموشی برنامه‌ریزی‌شده: فردا ۱۰ تا ۱۲", "201"),
        OutgoingSms("not a number", "never sent", "202"),
        OutgoingSms("+98 935 111 2233", "خاموشی برنامه‌ریزی‌شده: فردا ۱۲ تا ۱۴", "203"),
    ]

    results = provider.send_many(messages)

    sent = form(route.calls.last.request)
    assert json.loads(sent["receptor"]) == ["09121234567", "09351112233"]
    assert json.loads(sent["sender"]) == [SENDER, SENDER]
    assert json.loads(sent["message"]) == [messages[0].text, messages[2].text]
    assert json.loads(sent["localmessageids"]) == [201, 203]
    assert [(r.reference, r.state, r.provider_id) for r in results] == [
        ("201", DeliveryState.QUEUED, "8792401"),
        ("202", DeliveryState.PERMANENT_FAILURE, None),
        ("203", DeliveryState.QUEUED, "8792402"),
    ]
    assert isinstance(results[1].error, SmsPermanentError)


def test_send_many_fails_each_message_of_a_refused_call(
    gateway: respx.MockRouter, provider: KavenegarProvider
) -> None:
    gateway.post("/sms/sendarray.json").mock(return_value=answer("credit_418", 418))

    results = provider.send_many(
        [OutgoingSms("09121234567", "a", "1"), OutgoingSms("09351112233", "b", "2")]
    )

    assert [(r.state, r.raw_code) for r in results] == [
        (DeliveryState.PERMANENT_FAILURE, "418"),
        (DeliveryState.PERMANENT_FAILURE, "418"),
    ]


def test_send_template_uses_verify_lookup(
    gateway: respx.MockRouter, provider: KavenegarProvider
) -> None:
    route = gateway.post("/verify/lookup.json").mock(return_value=answer("lookup"))

    result = provider.send_template("09121234567", "barq-otp", ["4821"], reference="7")

    assert form(route.calls.last.request) == {
        "receptor": "09121234567",
        "template": "barq-otp",
        "token": "4821",
    }
    assert (result.state, result.raw_code, result.provider_id) == (
        DeliveryState.SENT,
        "5",
        "8792555",
    )


def test_status_collapses_kavenegar_codes(
    gateway: respx.MockRouter, provider: KavenegarProvider
) -> None:
    route = gateway.get("/sms/statuslocalmessageid.json").mock(return_value=answer("status"))
    sent = SendResult("102", "+989121234567", DeliveryState.QUEUED, "1", "8792344")

    results = provider.status(["101", sent, "103", "104", MessageRef("105"), "106"])

    assert route.calls.last.request.url.params["localid"] == "101,102,103,104,105,106"
    assert [(r.reference, r.state, r.raw_code) for r in results] == [
        ("101", DeliveryState.DELIVERED, "10"),
        ("102", DeliveryState.SENT, "4"),
        ("103", DeliveryState.TEMPORARY_FAILURE, "11"),
        ("104", DeliveryState.PERMANENT_FAILURE, "14"),
        ("105", DeliveryState.TEMPORARY_FAILURE, "100"),
        ("106", DeliveryState.TEMPORARY_FAILURE, "100"),  # not in the answer at all
    ]
    assert results[0].provider_id == "8792343"
    assert results[4].provider_id is None


def test_receive_polls_unread_messages(
    gateway: respx.MockRouter, provider: KavenegarProvider
) -> None:
    route = gateway.get("/sms/receive.json").mock(return_value=answer("receive"))

    inbound = provider.receive()

    params = route.calls.last.request.url.params
    assert (params["linenumber"], params["isread"]) == (SENDER, "0")
    assert inbound == [
        InboundSms(
            sender="+989121234567",
            receiver="30002225",
            text="لغو۱۱",
            provider_id="56102937",
            received_at=datetime(2024, 12, 26, 9, 0, tzinfo=UTC),
        ),
        InboundSms(
            sender="+989351112233",
            receiver="30002225",
            text="برق کوچه ما از ساعت ۸ قطع است",
            provider_id="56102941",
            received_at=datetime(2024, 12, 26, 9, 2, tzinfo=UTC),
        ),
    ]


def test_busy_409_is_retried_after_a_pause(
    gateway: respx.MockRouter, provider: KavenegarProvider, sleeps: list[float]
) -> None:
    route = gateway.post("/sms/send.json").mock(
        side_effect=[answer("busy_409", 409), answer("send")]
    )

    result = provider.send("09121234567", "قبض برق شما صادر شد", reference="1001")

    assert result.provider_id == "8792343"
    assert route.call_count == 2
    assert sleeps == [0.5]


def test_500_then_success(
    gateway: respx.MockRouter, provider: KavenegarProvider, sleeps: list[float]
) -> None:
    gateway.post("/sms/send.json").mock(
        side_effect=[html_answer("kavenegar", "server_error_500", 500), answer("send")]
    )

    assert provider.send("09121234567", "x", reference="1").state == DeliveryState.QUEUED
    assert sleeps == [0.5]


def test_network_error_then_success(
    gateway: respx.MockRouter, provider: KavenegarProvider, sleeps: list[float]
) -> None:
    gateway.get("/sms/receive.json").mock(
        side_effect=[httpx.ReadTimeout("timed out"), answer("receive")]
    )

    assert len(provider.receive()) == 2
    assert sleeps == [0.5]


def test_html_502_is_retried_then_raised_as_temporary(
    gateway: respx.MockRouter, provider: KavenegarProvider, sleeps: list[float]
) -> None:
    route = gateway.post("/sms/send.json").mock(
        return_value=html_answer("kavenegar", "bad_gateway_502", 502)
    )

    with pytest.raises(SmsTemporaryError) as raised:
        provider.send("09121234567", "x", reference="1")

    assert raised.value.code == "502"
    assert raised.value.may_have_been_sent
    assert route.call_count == 3
    assert sleeps == [0.5, 1.0]


def test_credit_error_418_is_permanent_and_not_retried(
    gateway: respx.MockRouter, provider: KavenegarProvider, sleeps: list[float]
) -> None:
    route = gateway.post("/sms/send.json").mock(return_value=answer("credit_418", 418))

    with pytest.raises(SmsPermanentError) as raised:
        provider.send("09121234567", "x", reference="1")

    assert raised.value.code == "418"
    assert "اعتبار حساب شما کافی نیست" in str(raised.value)
    assert route.call_count == 1
    assert sleeps == []


def test_invalid_numbers_and_references_are_refused_before_any_request(
    gateway: respx.MockRouter, provider: KavenegarProvider
) -> None:
    with pytest.raises(SmsPermanentError):
        provider.send("0212345678", "x", reference="1")
    with pytest.raises(ValueError, match="numbers"):
        provider.send("09121234567", "x", reference="order-1")
    assert not gateway.calls


def test_api_key_never_reaches_logs_or_errors(
    gateway: respx.MockRouter, provider: KavenegarProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")  # a process's entry point quiets it
    gateway.post("/sms/send.json").mock(
        side_effect=[
            answer("auth_403", 403),
            html_answer("kavenegar", "bad_gateway_502", 502),
            html_answer("kavenegar", "bad_gateway_502", 502),
            html_answer("kavenegar", "bad_gateway_502", 502),
        ]
    )
    # A network error whose own text holds the URL, key included.
    gateway.get("/sms/receive.json").mock(
        side_effect=httpx.ConnectError(f"cannot reach {BASE_URL}/{API_KEY}/sms/receive.json")
    )

    errors = []
    for call in (
        lambda: provider.send("09121234567", "x", reference="1"),
        lambda: provider.send("09121234567", "x", reference="1"),
        provider.receive,
    ):
        with pytest.raises((SmsTemporaryError, SmsPermanentError)) as raised:
            call()
        errors.append(raised.value)

    shown = caplog.text + "".join(
        str(e) + repr(e) + "".join(traceback.format_exception(e)) for e in errors
    )
    assert API_KEY not in shown
    assert f"{BASE_URL}/***/sms/send.json" in caplog.text  # httpx's own request log line
    assert [e.code for e in errors] == ["403", "502", None]
    # The key did go where it belongs: the path of the request on the wire.
    assert all(f"/v1/{API_KEY}/sms/" in str(call.request.url) for call in gateway.calls)
