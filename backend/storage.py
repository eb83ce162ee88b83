"""Where documents live: a storage interface and the local-folder implementation."""

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


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
            # Write then rename, so a reader never sees half a file.
            fd, tmp = tempfile.mkstemp(dir=path.parent)
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
            os.replace(tmp, path)
        return StoredFile(key=key, sha256=digest, size_bytes=len(content))

    def read(self, key: str) -> bytes:
        return (self.root / key).read_bytes()
