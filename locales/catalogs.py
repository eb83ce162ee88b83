"""Loads the gettext catalogs: the .po files are compiled by Babel in memory when first used."""

import gettext
import io
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).parent
DOMAIN = "messages"
LOCALES = ("fa", "en")
DEFAULT_LOCALE = "fa"
# A plural entry's msgid_plural is its key and the placeholder that counts, e.g.
# `msgid "otp.wrong"` / `msgid_plural "otp.wrong {left}"`: the entry says what chooses its form.
_PLURAL_ID = re.compile(r"(?P<key>[\w.]+) \{(?P<count>\w+)\}")


class MissingMessage(KeyError):
    pass


class _Translations(gettext.GNUTranslations):
    # Set by GNUTranslations when it parses the catalog; typeshed leaves the attribute out.
    _catalog: dict[str | tuple[str, int], str]


@dataclass(frozen=True)
class Catalog:
    translations: _Translations
    counts: dict[str, str]  # a plural entry's key → the parameter that chooses its form


@cache
def catalog(locale: str) -> Catalog:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as po:
        entries = read_po(po, locale=locale)
    counts = {}
    for entry in entries:
        if isinstance(entry.id, tuple):
            plural = _PLURAL_ID.fullmatch(entry.id[1])
            if plural is None or plural["key"] != entry.id[0]:
                raise ValueError(f"{entry.id!r}: msgid_plural must be 'KEY {{count}}'")
            counts[entry.id[0]] = plural["count"]
    compiled = io.BytesIO()
    write_mo(compiled, entries)
    compiled.seek(0)
    return Catalog(_Translations(compiled), counts)


def message_ids(locale: str) -> set[str]:
    return {
        key if isinstance(key, str) else key[0]
        for key in catalog(locale).translations._catalog
        if key
    }


def plural_count(key: str) -> str | None:
    """The parameter whose number chooses the key's plural form; None for a plain entry."""
    return catalog(DEFAULT_LOCALE).counts.get(key)


def translate(key: str, locale: str, count: int | None = None) -> str:
    """The text of a message key (for a plural entry, the form for `count`); a key missing from
    the catalog is a bug, so it raises."""
    found = catalog(locale if locale in LOCALES else DEFAULT_LOCALE)
    if key in found.counts:
        if count is None:
            raise TypeError(f"{key!r} is a plural entry: it needs a count")
        text = found.translations.ngettext(key, key, count)
    else:
        text = found.translations.gettext(key)
    if text == key:
        raise MissingMessage(f"{key!r} is not in the {locale} catalog")
    return text
