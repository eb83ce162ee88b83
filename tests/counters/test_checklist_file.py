"""The checklist file: both languages for every text, checked at load with a clear error."""

import json
from pathlib import Path

import pytest
from sqlmodel import Session

from backend.counter_inspections import (
    DEFAULT_CHECKLIST,
    ChecklistError,
    install_checklist,
    items_of,
    read_checklist_file,
)


def written(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "checklist.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_the_default_checklist_is_stored_in_persian_and_english(session: Session) -> None:
    checklist = install_checklist(session)
    assert checklist.title.startswith("چک‌لیست") and checklist.title_en.startswith("Supervision")
    first = items_of(session, checklist)[0]
    assert (first.topic, first.topic_en) == ("تجهیزات دفتر", "The office's equipment")
    assert first.text.startswith("خط اینترنت") and first.text_en.startswith("A fast internet")


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda d: d["topics"][0]["items"][0].pop("text_en"), r"text_en\s+Field required"),
        (lambda d: d["topics"][1].update(topic_en=""), r"topic_en\s+String should have at least"),
        (lambda d: d["topics"][0]["items"][1].update(expected="na"), r"expected\s+Input should be"),
        (lambda d: d["topics"][0]["items"][1].update(weight=0), r"weight\s+Input should be"),
        (lambda d: d["topics"][2]["items"][0].update(key="internet"), "an item key repeats"),
        (lambda d: d.update(colour="blue"), r"colour\s+Extra inputs are not permitted"),
    ],
)
def test_a_file_off_the_schema_is_refused_saying_where(
    tmp_path: Path, change: object, error: str
) -> None:
    data = json.loads(DEFAULT_CHECKLIST.read_text(encoding="utf-8"))
    change(data)  # type: ignore[operator]
    with pytest.raises(ChecklistError, match=error):
        read_checklist_file(written(tmp_path, data))


def test_a_file_that_is_not_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "checklist.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ChecklistError, match=r"(?s)checklist.json: .*Invalid JSON"):
        read_checklist_file(path)
