"""Zarinpal's answers as its REST API v4 gives them (zarinpal.com/docs/paymentGateway): the
shape of each, its codes and its HTTP status. No test reaches Zarinpal: a MockTransport plays
these back and keeps what the adapter sent."""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

AUTHORITY = "A0000000000000000000000000000wwOGYpd"  # 36 characters, as Zarinpal gives them
OTHER_AUTHORITY = "A00000000000000000000000000217885159"
REF_ID = 201


def request_ok(authority: str = AUTHORITY) -> tuple[int, dict[str, Any]]:
    data = {
        "code": 100,
        "message": "Success",
        "authority": authority,
        "fee_type": "Merchant",
        "fee": 0,
    }
    return 200, {"data": data, "errors": []}


def verify_ok(code: int = 100) -> tuple[int, dict[str, Any]]:
    message = "Paid" if code == 100 else "Verified"
    data = {
        "code": code,
        "message": message,
        "card_hash": "1EBE3EBEBE35C7EC0F8D6EE4F2F859107A87822CA179BC9528767EA7B5489B69",
        "card_pan": "502229******5995",
        "ref_id": REF_ID,
        "fee_type": "Merchant",
        "fee": 0,
    }
    return 200, {"data": data, "errors": []}


def error(code: int, message: str, status: int = 400) -> tuple[int, dict[str, Any]]:
    return status, {"data": [], "errors": {"code": code, "message": message, "validations": []}}


AMOUNT_MISMATCH = error(-50, "Session is not valid, amounts values is not the same.")
NOT_PAID = error(-51, "Session is not valid, session is not active paid try.")
BAD_MERCHANT = error(-10, "Terminal is not valid, please check merchant_id or ip address.")


@dataclass
class RecordedZarinpal:
    """A MockTransport handler: answers each path with the next recording queued for it, and
    keeps every request's path and JSON body."""

    answers: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def queue(self, path: str, *answers: tuple[int, dict[str, Any]]) -> None:
        self.answers.setdefault(path, []).extend(answers)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.url.path, json.loads(request.content)))
        status, body = self.answers[request.url.path].pop(0)
        return httpx.Response(status, json=body)

    def bodies(self, path: str) -> list[dict[str, Any]]:
        return [body for sent_path, body in self.sent if sent_path == path]

    def transport(self) -> httpx.MockTransport:
        handler: Callable[[httpx.Request], httpx.Response] = self
        return httpx.MockTransport(handler)
