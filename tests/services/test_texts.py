"""Every text a definition calls for is in both catalogs: a sixth service is data plus texts,
and a text it forgot fails here, not in front of a subscriber."""

import pytest

from backend.services import ServiceDefinition
from backend.services.engine import data_services
from backend.services.filers import documents_for
from locales.catalogs import LOCALES, message_ids


def needed_keys(definition: ServiceDefinition) -> set[str]:
    code = definition.code
    keys = {f"kind.{code}"} | {f"status.{step.code}" for step in definition.steps}
    for question in definition.questions:
        if question.type != "bill_id":  # asked and labelled alike in every service
            keys |= {f"service.{code}.ask.{question.key}", f"service.{code}.label.{question.key}"}
        keys |= {f"service.{code}.{question.key}.{option}" for option in question.options}
    keys |= {f"service.document.{document.type}" for document in definition.documents}
    for filer in definition.filers:  # a way of filing: its button, and the proof it asks
        keys.add(f"service.filer.{filer}")
        keys |= {f"service.document.{d.type}" for d in documents_for(definition, filer)}
    for step in definition.steps:
        for action in step.actions:
            if action.notice is not None:
                keys.add(f"service.notice.{action.notice}")
            if action.button:
                keys.add(f"service.action.{action.code}")
            keys.add(f"staff.service.by.{action.by or step.role}")
            keys.add(f"staff.event.{action.code}")  # its line in the history
    return keys


@pytest.mark.parametrize("definition", data_services(), ids=lambda d: d.code)
@pytest.mark.parametrize("locale", LOCALES)
def test_every_text_a_definition_needs_is_in_the_catalog(
    definition: ServiceDefinition, locale: str
) -> None:
    assert needed_keys(definition) - message_ids(locale) == set()


def test_the_check_would_see_a_missing_text() -> None:
    (first, *_) = data_services()
    assert f"kind.{first.code}" in needed_keys(first)
    assert "service.notice.fee_due" in set().union(*map(needed_keys, data_services()))
