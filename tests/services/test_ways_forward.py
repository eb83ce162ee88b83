"""No request of any defined service is ever stuck: every step short of a final one has an
action someone may take, and whichever actions are taken, a final step stays reachable."""

from hypothesis import given
from hypothesis import strategies as st

from backend.services import ServiceDefinition, definitions
from backend.services.schema import Step


def _steps(definition: ServiceDefinition) -> dict[str, Step]:
    return {step.code: step for step in definition.steps}


def _can_end(definition: ServiceDefinition, code: str) -> bool:
    steps, seen, todo = _steps(definition), set(), [code]
    while todo:
        step = steps[todo.pop()]
        if step.final:
            return True
        seen.add(step.code)
        todo.extend(action.to for action in step.actions if action.to not in seen)
    return False


def test_there_are_definitions_to_walk() -> None:
    assert len(definitions()) >= 2


@given(
    code=st.sampled_from(sorted(definitions())),
    choices=st.lists(st.integers(min_value=0, max_value=20), max_size=40),
)
def test_every_walk_has_a_way_forward(code: str, choices: list[int]) -> None:
    definition = definitions()[code]
    steps = _steps(definition)
    step = steps[definition.first_step]
    for choice in choices:
        if step.final:
            assert not step.actions
            break
        assert step.role is not None  # someone acts
        assert step.actions  # and has a way forward
        assert _can_end(definition, step.code)  # that does not lead into a closed loop
        step = steps[step.actions[choice % len(step.actions)].to]
