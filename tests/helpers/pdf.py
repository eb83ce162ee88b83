"""Reading back the PDFs the desk makes: their text, as a reader would copy it."""

import io
import re
from pathlib import Path

from pypdf import PdfReader

from backend.settings import Settings
from channels.replies import OutgoingFile

# pypdf puts the glyphs of a right-to-left run back in logical order, but it counts Persian
# digits as right-to-left letters: a number drawn left to right, as it must be, comes back
# reversed (۵۸۵٬۰۰۰ as ۰۰۰٬۵۸۵). Reversing each such run again gives the number as written
# exactly when the page shows its digits in the right order.
_PERSIAN_NUMBER = re.compile("[۰-۹](?:[۰-۹٬/]*[۰-۹])?")


def pdf_text(content: bytes) -> str:
    """The text of every page, numbers in Persian digits in the order they are read."""
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return _PERSIAN_NUMBER.sub(lambda match: match.group()[::-1], text)


def pages(content: bytes) -> int:
    return len(PdfReader(io.BytesIO(content)).pages)


def stored(settings: Settings, file: OutgoingFile) -> bytes:
    """The bytes of a file a reply carries, from the local file storage."""
    return (Path(settings.files_dir) / file.storage_key).read_bytes()
