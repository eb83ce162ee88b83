"""The definitions of the two built services say what their code does: the transitions, the
targets, who works them, their names. A change to one without the other fails here."""

import pytest

from backend.compliance import FILING_TARGETS
from backend.constants import FINAL_STATUSES, NoticeKind, RequestKind, RequestStatus, StaffRole
from backend.permissions import WORKING_ROLES
from backend.services import ServiceDefinition, definitions
from backend.services.schema import SUBSCRIBER, SYSTEM
from backend.workflows import KEEP, TRANSITIONS
from locales.catalogs import translate

BUILT = list(RequestKind)
# Roles that may run anything: they act where no working role can (an approval, an assignment).
OVERSEERS = {StaffRole.ADMIN, StaffRole.SUPERVISOR}

Edge = tuple[str, str, str, str | None, str | None]  # action, from, to, notice, deadline


def _deadline(definition: ServiceDefinition, code: str) -> str | None:
    step = next(step for step in definition.steps if step.code == code)
    return KEEP if step.keeps_deadline else step.working_days_setting


def _definition_edges(definition: ServiceDefinition) -> set[Edge]:
    return {
        (action.code, step.code, action.to, action.notice, _deadline(definition, action.to))
        for step in definition.steps
        for action in step.actions
    }


def _code_edges(kind: RequestKind) -> set[Edge]:
    return {
        (t.action, source, t.target, t.notice, t.deadline)
        for t in TRANSITIONS
        if t.kind == kind
        for source in t.sources
    }


@pytest.mark.parametrize("kind", BUILT)
def test_the_transitions_agree(kind: RequestKind) -> None:
    assert _definition_edges(definitions()[kind]) == _code_edges(kind)


@pytest.mark.parametrize("kind", BUILT)
def test_the_steps_are_the_code_s_statuses(kind: RequestKind) -> None:
    definition = definitions()[kind]
    assert definition.first_step == RequestStatus.SUBMITTED
    for step in definition.steps:
        assert step.final == (RequestStatus(step.code) in FINAL_STATUSES)
        for action in step.actions:
            assert action.notice is None or NoticeKind(action.notice)


@pytest.mark.parametrize("kind", BUILT)
def test_the_filing_target_agrees(kind: RequestKind) -> None:
    definition = definitions()[kind]
    assert _deadline(definition, definition.first_step) == FILING_TARGETS[kind]


@pytest.mark.parametrize("kind", BUILT)
def test_the_working_roles_agree(kind: RequestKind) -> None:
    roles = {step.role for step in definitions()[kind].steps if not step.final}
    working = roles - {SUBSCRIBER, SYSTEM} - OVERSEERS
    assert working == set(WORKING_ROLES[kind])


@pytest.mark.parametrize("kind", BUILT)
@pytest.mark.parametrize("locale", ["fa", "en"])
def test_the_names_are_the_catalog_s(kind: RequestKind, locale: str) -> None:
    name = definitions()[kind].name
    assert translate(f"kind.{kind}", locale) == getattr(name, locale)
