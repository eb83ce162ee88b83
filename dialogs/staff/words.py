"""The words staff type for a command's choices: the code (`ok`, `bank`, `rejected`), the label
the bots show for it (in any of their languages), or a short Persian word (سالم، بانک، رد)."""

import re
from collections.abc import Mapping

from backend.constants import MeterTestResult, PaymentMethod, RejectionReason
from backend.identifiers import normalize_text
from locales.catalogs import LOCALES, translate

UPHELD, REJECTED = "upheld", "rejected"

# Short words besides the codes and the labels, each a choice of one kind only.
VERDICT_WORDS: Mapping[str, tuple[str, ...]] = {
    UPHELD: ("پذیرش", "پذیرفته", "وارد"),
    REJECTED: ("رد", "نپذیرفته"),
}
METER_WORDS: Mapping[str, tuple[str, ...]] = {
    MeterTestResult.OK: ("سالم",),
    MeterTestResult.FAULTY: ("معیوب", "خراب"),
}
METHOD_WORDS: Mapping[str, tuple[str, ...]] = {
    PaymentMethod.IN_PERSON: ("حضوری", "نقدی"),
    PaymentMethod.BANK: ("بانک", "بانکی", "واریز"),
    PaymentMethod.ONLINE: ("اینترنتی", "درگاه"),
}
REASON_WORDS: Mapping[str, tuple[str, ...]] = {
    RejectionReason.READING_CORRECT: ("قرائت",),
    RejectionReason.CONSUMPTION_NORMAL: ("مصرف",),
    RejectionReason.TARIFF_CORRECT: ("تعرفه",),
    RejectionReason.METER_SOUND: ("کنتور",),
    RejectionReason.NO_EVIDENCE: ("مدرک",),
    RejectionReason.OTHER: ("سایر",),
}


def _words(text: str) -> list[str]:
    """The words, as compared: normalized, without ZWNJ (نمی‌کند, نمیکند), in lower case."""
    return normalize_text(text).replace("\u200c", "").lower().split()


def _phrases(words: Mapping[str, tuple[str, ...]], label_key: str) -> list[tuple[list[str], str]]:
    """Each choice's ways of saying it, as words; the longest first."""
    found = []
    for code, short in words.items():
        labels = [translate(f"{label_key}.{code}", locale) for locale in LOCALES]
        found += [(_words(said), code) for said in (code, *short, *labels) if _words(said)]
    return sorted(found, key=lambda phrase: -len(phrase[0]))


def _choice(typed: str, words: Mapping[str, tuple[str, ...]], label_key: str) -> str | None:
    wanted = _words(typed)
    return next((code for said, code in _phrases(words, label_key) if said == wanted), None)


def verdict(typed: str) -> str | None:
    """UPHELD, REJECTED or None."""
    return _choice(typed, VERDICT_WORDS, "staff.decide")  # the buttons' labels too


def meter_result(typed: str) -> MeterTestResult | None:
    found = _choice(typed, METER_WORDS, "staff.meter")
    return MeterTestResult(found) if found else None


def payment_method(typed: str) -> PaymentMethod | None:
    found = _choice(typed, METHOD_WORDS, "staff.method")
    return PaymentMethod(found) if found else None


def reason_and_text(typed: str) -> tuple[RejectionReason, str] | None:
    """A rejection's reason, said at the start of `typed` (its code, label or short word), and
    what follows it: the explanation, as typed."""
    typed_words = _words(typed)
    for said, code in _phrases(REASON_WORDS, "staff.rejection"):
        if typed_words[: len(said)] == said:
            parts = re.split(r"\s+", typed.strip(), maxsplit=len(said))
            return RejectionReason(code), parts[len(said)] if len(parts) > len(said) else ""
    return None
