"""Where documents live: a storage interface and the local-folder implementation."""

import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

# The documents accepted: the content type, what its bytes start with, the name's extension.
DOCUMENT_TYPES = {
    "image/jpeg": (b"\xff\xd8\xff", ".jpg"),
    "image/png": (b"\x89PNG\r\n\x1a\n", ".png"),
    "application/pdf": (b"%PDF-", ".pdf"),
}
NAME_MAX_CHARS = 100  # of a stored name's stem (the column takes 255)
_ZWNJ = "\u200c"  # part of Persian words, so kept in names
# Characters a file name of another system may not hold; path separators end the path anyway.
_UNSAFE_IN_NAMES = re.compile(r'[<>:"|?*]')


def detect_content_type(content: bytes) -> str | None:
    """The type of a document from its first bytes (JPEG, PNG or PDF), whatever the sender
    declared or named it; None for anything else."""
    for content_type, (magic, _) in DOCUMENT_TYPES.items():
        if content.startswith(magic):
            return content_type
    return None


def safe_file_name(name: str) -> str:
    """A name as the sender gave it, safe to store and show: its last path part only, with no
    control characters, no bidi or other invisible formatting marks (ZWNJ is kept), no
    characters other systems refuse in names, and no dots or spaces at its ends."""
    base = re.split(r"[/\\]", name)[-1]
    kept = "".join(
        c for c in base if c == _ZWNJ or unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp")
    )
    return _UNSAFE_IN_NAMES.sub("_", unicodedata.normalize("NFC", kept)).strip(" .")


def document_name(name: str, content_type: str) -> str:
    """The name a document is kept under: the sender's, made safe, its stem cut to
    NAME_MAX_CHARS, with the extension of the type its bytes are ("document" if nothing is left)."""
    stem = safe_file_name(name)
    if "." in stem:
        stem = stem.rsplit(".", 1)[0].rstrip(" .")
    return (stem[:NAME_MAX_CHARS].rstrip(" .") or "document") + DOCUMENT_TYPES[content_type][1]


@dataclass(frozen=True)
class StoredFile:
    key: str
    sha256: str
    size_bytes: int


class FileStorage(Protocol):
    def save(self, content: bytes) -> StoredFile: ...

    def read(self, key: str) -> bytes: ...


class LocalFileStorage:
    """Content-addressed files under a folder: the same bytes sent twice are stored once."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, content: bytes) -> StoredFile:
        digest = hashlib.sha256(content).hexdigest()
        key = f"{digest[:2]}/{digest}"
        path = self.root / key
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write then rename, so a reader never sees half a file; both on disk before the
            # caller's transaction names the file (a power cut must not leave it empty).
            fd, tmp = tempfile.mkstemp(dir=path.parent)
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
            _sync_folder(path.parent)
        return StoredFile(key=key, sha256=digest, size_bytes=len(content))

    def read(self, key: str) -> bytes:
        return (self.root / key).read_bytes()


def _sync_folder(folder: Path) -> None:
    """Makes a rename within `folder` durable (POSIX: the folder's own entry list is synced)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
