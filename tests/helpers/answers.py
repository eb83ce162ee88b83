"""Gateway answers built from the recorded-style bodies in tests/notifications/fixtures/, and
form decoding."""

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx

FIXTURES = Path(__file__).parents[1] / "notifications" / "fixtures"


def fixture_json(provider: str, name: str) -> Any:
    return json.loads((FIXTURES / provider / f"{name}.json").read_text(encoding="utf-8"))


def json_answer(provider: str, name: str, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=fixture_json(provider, name))


def html_answer(provider: str, name: str, status: int) -> httpx.Response:
    html = (FIXTURES / provider / f"{name}.html").read_text(encoding="utf-8")
    return httpx.Response(status, text=html, headers={"content-type": "text/html"})


def form(request: httpx.Request) -> dict[str, str]:
    """A form-encoded request body as a dict."""
    return dict(parse_qsl(request.content.decode(), keep_blank_values=True))
