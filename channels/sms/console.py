"""The development provider: appends each SMS to a JSON-lines file, and prints it in full only
when asked (the terminal chat); otherwise it logs the number masked."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from backend.identifiers import mask_mobile
from channels.sms.base import (
    DeliveryState,
    SendResult,
    SmsProvider,
    StatusResult,
    Tracked,
    as_tracked,
    recipient,
)
from channels.sms.text import parts_needed

log = logging.getLogger(__name__)
_DELIVERED = "delivered"


class ConsoleProvider(SmsProvider):
    """Sends nothing: every message is recorded, and reads as delivered.

    `echo` prints each message in full, number and text, one-time codes included: the
    terminal chat is read by the person testing it. Without it (the web app, the workers) only
    a log line with the number masked and the reference tells that a message was recorded, so
    nobody's number or code goes into a process log.

    Recipients are validated as the real gateways do, so bad numbers fail in development too.
    Nothing arrives: `receive()` returns [].
    """

    name = "console"
    dedupes_by_reference = True  # it records each send, and nothing reaches a phone

    def __init__(self, *, path: str | Path, echo: bool = False) -> None:
        self._path = Path(path)
        self._echo = echo

    def send(self, to: str, text: str, *, reference: str) -> SendResult:
        e164 = recipient(to, provider=self.name)
        self._record({"to": e164, "reference": reference, "text": text}, text)
        return self._delivered(reference, e164)

    def send_template(
        self, to: str, template: str, tokens: Sequence[str], *, reference: str
    ) -> SendResult:
        e164 = recipient(to, provider=self.name)
        record = {"to": e164, "reference": reference, "template": template, "tokens": list(tokens)}
        self._record(record, f"[{template}] {' '.join(tokens)}")
        return self._delivered(reference, e164)

    def status(self, messages: Sequence[str | Tracked]) -> list[StatusResult]:
        return [
            StatusResult(m.reference, DeliveryState.DELIVERED, _DELIVERED, m.provider_id)
            for m in map(as_tracked, messages)
        ]

    def _record(self, record: dict[str, Any], shown: str) -> None:
        if self._echo:
            print(f"SMS to {record['to']} (reference {record['reference']}):\n{shown}\n")
        else:
            log.info(
                "console SMS to %s (reference %s) recorded in %s",
                mask_mobile(record["to"]),
                record["reference"],
                self._path,
            )
        line = {"at": datetime.now(UTC).isoformat(timespec="seconds"), **record}
        if "text" in record:
            line["parts"] = parts_needed(record["text"])
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with self._path.open("a", encoding="utf-8") as file:
            file.write(json.dumps(line, ensure_ascii=False) + "\n")

    def _delivered(self, reference: str, e164: str) -> SendResult:
        return SendResult(reference, e164, DeliveryState.DELIVERED, _DELIVERED, reference)
