"""Received files: stored by content, and on disk before the caller's transaction names them."""

import os
from pathlib import Path

import pytest

from backend.storage import LocalFileStorage

PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8


def test_a_file_is_stored_once_by_its_content(tmp_path: Path) -> None:
    storage = LocalFileStorage(tmp_path)
    first, again = storage.save(PHOTO), storage.save(PHOTO)
    assert first == again and first.size_bytes == len(PHOTO)
    assert storage.read(first.key) == PHOTO
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [first.sha256]


def test_the_file_and_its_folder_are_synced_before_save_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[tuple[Path, bytes | None]] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        path = Path(os.readlink(f"/proc/self/fd/{fd}"))
        synced.append((path, path.read_bytes() if path.is_file() else None))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    stored = LocalFileStorage(tmp_path).save(PHOTO)
    final = tmp_path / stored.key
    # The content under its temporary name first, then the folder that holds the new name.
    assert len(synced) == 2
    (written, content), (folder, _) = synced
    assert written.parent == final.parent and written != final and content == PHOTO
    assert folder == final.parent
