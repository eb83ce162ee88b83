"""Reads the service definitions and refuses one that is wrong, naming its file and field:
at the start of every entry point, before anything is served."""

import json
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path

from pydantic import ValidationError

from backend.constants import FINAL_STATUSES, RequestKind
from backend.services.effects import NEEDS
from backend.services.schema import SUBSCRIBER, ServiceDefinition, Step
from backend.settings import Settings

DEFINITIONS = Path(__file__).parent / "definitions"
Problem = tuple[str, str]  # (the field's path, what is wrong with it)


class DefinitionError(Exception):
    """A definition that may not be served: `path` is its file, `field` the field at fault."""

    def __init__(self, path: Path, field: str, problem: str) -> None:
        super().__init__(f"{path.name}: {field}: {problem}")
        self.path = path
        self.field = field
        self.problem = problem


def load_definition(path: Path) -> ServiceDefinition:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DefinitionError(path, f"line {error.lineno}", error.msg) from None
    try:
        definition = ServiceDefinition.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        raise DefinitionError(path, _dotted(first["loc"]), first["msg"]) from None
    if definition.code != path.stem:
        raise DefinitionError(path, "code", f"must be the file's name, {path.stem!r}")
    for field, problem in problems(definition):
        raise DefinitionError(path, field, problem)
    return definition


def load_definitions(folder: Path = DEFINITIONS) -> dict[str, ServiceDefinition]:
    """Every definition in `folder` by its code; the first wrong one raises DefinitionError.

    A step code means one thing across them: final in all that have it, or in none (the
    queues and reports tell an open request from a closed one by its status alone).
    """
    loaded: dict[str, ServiceDefinition] = {}
    finals: dict[str, bool] = {code: True for code in FINAL_STATUSES}
    for path in sorted(folder.glob("*.json")):
        definition = load_definition(path)
        for i, step in enumerate(definition.steps):
            if finals.setdefault(step.code, step.final) != step.final:
                said = "final" if finals[step.code] else "not final"
                raise DefinitionError(
                    path, f"steps[{i}].final", f"{step.code!r} is {said} elsewhere"
                )
        loaded[path.stem] = definition
    return loaded


@cache
def definitions() -> Mapping[str, ServiceDefinition]:
    """The repository's definitions, read once per process."""
    return load_definitions()


def final_steps() -> frozenset[str]:
    """Every status a request of any service ends in: the built ones' and the definitions'
    (a step code final in one definition is final in every other: the loader checks)."""
    defined = {s.code for d in definitions().values() for s in d.steps if s.final}
    return FINAL_STATUSES | defined


def _dotted(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else part
    return path or "(file)"


def problems(definition: ServiceDefinition) -> Iterator[Problem]:
    """What is wrong with a definition that its types alone do not say, field by field."""
    yield from _question_problems(definition)
    steps = {step.code: step for step in definition.steps}
    if len(steps) != len(definition.steps):
        yield "steps", "two steps have the same code"
    if definition.first_step not in steps:
        yield "first_step", f"no step {definition.first_step!r}"
        return
    first = steps[definition.first_step]
    if first.working_days is None and first.working_days_setting is None:
        yield "first_step", "the first step needs its own target in working days"
    asked = {question.key: question.type for question in definition.questions}
    for i, step in enumerate(definition.steps):
        yield from _step_problems(f"steps[{i}]", step, steps)
        for j, action in enumerate(step.actions):
            if action.effect is not None and any(
                asked.get(key) != kind for key, kind in NEEDS[action.effect].items()
            ):
                needed = ", ".join(f"{k} ({t})" for k, t in NEEDS[action.effect].items())
                yield f"steps[{i}].actions[{j}].effect", f"needs the questions {needed}"
    reached = _reachable(definition.first_step, steps)
    ends = {step.code for step in definition.steps if step.final}
    for i, step in enumerate(definition.steps):
        if step.code not in reached:
            yield f"steps[{i}].code", f"step {step.code!r} cannot be reached from first_step"
    for i, step in enumerate(definition.steps):
        if step.code in reached and not step.final and not _reachable(step.code, steps) & ends:
            yield f"steps[{i}].actions", "no final step can be reached from it"
    yield from _fee_problems(definition, steps)


def _fee_problems(definition: ServiceDefinition, steps: Mapping[str, Step]) -> Iterator[Problem]:
    for i, fee in enumerate(definition.fees):
        fee_step = steps.get(fee.at_step)
        if fee_step is None:
            yield f"fees[{i}].at_step", f"no step {fee.at_step!r}"
            continue
        setting = next((a for a in fee_step.actions if a.code == fee.set_by_action), None)
        if setting is None:
            yield f"fees[{i}].set_by_action", f"step {fee.at_step!r} has no such action"
            continue
        if setting.value != "amount":
            yield f"fees[{i}].set_by_action", "the action that sets a fee takes its amount"
        # Only the action's own role (and overseers) may take it: set_by names that role.
        taker = setting.by or fee_step.role
        if taker != fee.set_by:
            taken = f"{fee.set_by_action!r} is taken by {taker}, not {fee.set_by}"
            yield f"fees[{i}].set_by", taken
        if fee.paid_by_action is None:
            continue
        due = steps.get(setting.to)
        paying = (
            next((a for a in due.actions if a.code == fee.paid_by_action), None) if due else None
        )
        if paying is None:
            yield f"fees[{i}].paid_by_action", f"step {setting.to!r} has no such action"
        elif paying.value is not None:
            yield f"fees[{i}].paid_by_action", "a payment enters nothing: the action takes no value"


def _question_problems(definition: ServiceDefinition) -> Iterator[Problem]:
    keys = [question.key for question in definition.questions]
    if len(set(keys)) != len(keys):
        yield "questions", "two questions have the same key"
    for i, question in enumerate(definition.questions):
        at = f"questions[{i}]"
        if (question.type == "choice") != bool(question.options):
            yield f"{at}.options", "a choice, and only a choice, lists its options"
        if question.type != "text" and (question.min_length or question.max_length):
            yield f"{at}.max_length", "only a text has a length"
        if question.type == "text" and question.max_length is None:
            yield f"{at}.max_length", "a text needs its longest length"
        if question.type not in ("amount", "count") and (question.min or question.max):
            yield f"{at}.max", "only an amount or a count has bounds"
        if question.min is not None and question.max is not None and question.min > question.max:
            yield f"{at}.min", "more than max"
        if question.from_context and definition.code not in set(RequestKind):
            yield f"{at}.from_context", "only a built service fills an answer itself"


def _step_problems(at: str, step: Step, steps: Mapping[str, Step]) -> Iterator[Problem]:
    targets = [step.working_days, step.working_days_setting, step.keeps_deadline or None]
    given = sum(target is not None for target in targets) + step.untimed
    if step.final:
        if step.actions or step.role or given:
            yield f"{at}.final", "a final step has no role, actions or target"
        return
    if step.role is None:
        yield f"{at}.role", "a step that is not final needs the role that acts"
    if not step.actions:
        yield f"{at}.actions", "a step that is not final needs a way forward"
    if given > 1:
        yield f"{at}.working_days", "one target at most"
    elif given == 0 and step.role not in (None, SUBSCRIBER):
        yield f"{at}.working_days", "a staff step needs its target in working days"
    setting = step.working_days_setting
    if setting is not None and not (
        setting.endswith("_working_days") and setting in Settings.model_fields
    ):
        yield f"{at}.working_days_setting", f"no working-days setting {setting!r}"
    for j, action in enumerate(step.actions):
        if action.to not in steps:
            yield f"{at}.actions[{j}].to", f"no step {action.to!r}"
        if (action.value == "choice") != bool(action.options):
            yield f"{at}.actions[{j}].options", "a choice, and only a choice, lists its options"
        if action.button and (action.by or step.role) != SUBSCRIBER:
            yield f"{at}.actions[{j}].button", "only the subscriber's actions are buttons"
        if action.document is not None and action.value != "text":
            yield f"{at}.actions[{j}].document", "a paper's number is its action's text value"


def _reachable(first: str, steps: Mapping[str, Step]) -> set[str]:
    reached, frontier = {first}, [first]
    while frontier:
        for action in steps[frontier.pop()].actions:
            if action.to in steps and action.to not in reached:
                reached.add(action.to)
                frontier.append(action.to)
    return reached


def startup_problem() -> str | None:
    """Why the process may not start with the repository's definitions, or None: every entry
    point asks before it serves anything."""
    try:
        definitions()
    except DefinitionError as error:
        return f"A service definition is wrong: {error}"
    return None
