"""Loads the gettext catalogs: the .po files are compiled by Babel in memory when first used."""

import gettext
import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).parent
DOMAIN = "messages"
LOCALES = ("fa", "en")
DEFAULT_LOCALE = "fa"


class MissingMessage(KeyError):
    pass


class _Translations(gettext.GNUTranslations):
    # Set by GNUTranslations when it parses the catalog; typeshed leaves the attribute out.
    _catalog: dict[str | tuple[str, int], str]


@cache
def translations(locale: str) -> _Translations:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as po:
        catalog = read_po(po, locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return _Translations(compiled)


def message_ids(locale: str) -> set[str]:
    return {key for key in translations(locale)._catalog if isinstance(key, str) and key}


def translate(key: str, locale: str) -> str:
    """The text of a message key; a key missing from the catalog is a bug, so it raises."""
    text = translations(locale if locale in LOCALES else DEFAULT_LOCALE).gettext(key)
    if text == key:
        raise MissingMessage(f"{key!r} is not in the {locale} catalog")
    return text
