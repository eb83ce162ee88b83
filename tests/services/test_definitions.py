"""The definitions load, and a wrong one is refused at startup with its file and field named."""

import json
from pathlib import Path
from typing import Any

import pytest

from backend import __main__ as admin_cli
from backend.services import DefinitionError, definitions, load_definitions, loader, startup_problem
from bot import __main__ as bot_cli

DEFINITIONS = Path(loader.__file__).parent / "definitions"


def _sample() -> dict[str, Any]:
    """A small, right definition to break one field of."""
    return {
        "code": "sample",
        "name": {"fa": "نمونه", "en": "Sample"},
        "filers": ["registered_mobile"],
        "questions": [{"key": "note", "type": "text", "max_length": 100}],
        "first_step": "submitted",
        "steps": [
            {
                "code": "submitted",
                "role": "finance",
                "working_days": 2,
                "actions": [{"code": "close", "to": "closed"}],
            },
            {"code": "closed", "final": True},
        ],
    }


def _refusal(tmp_path: Path, definition: dict[str, Any], name: str = "sample") -> DefinitionError:
    (tmp_path / f"{name}.json").write_text(json.dumps(definition), encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_definitions(tmp_path)
    assert caught.value.path.name == f"{name}.json"
    assert str(caught.value).startswith(f"{name}.json: {caught.value.field}: ")
    return caught.value


def test_the_repository_definitions_load() -> None:
    loaded = load_definitions()
    assert set(loaded) == {path.stem for path in DEFINITIONS.glob("*.json")}
    assert {"bill_review", "connection_removal"} <= set(loaded)
    assert startup_problem() is None
    assert definitions() == loaded


def test_a_right_sample_loads(tmp_path: Path) -> None:
    (tmp_path / "sample.json").write_text(json.dumps(_sample()), encoding="utf-8")
    assert load_definitions(tmp_path)["sample"].steps[0].working_days == 2


def test_an_unknown_field_is_named(tmp_path: Path) -> None:
    definition = _sample()
    definition["steps"][0]["deadline"] = 3
    assert _refusal(tmp_path, definition).field == "steps[0].deadline"
    definition = _sample()
    definition["colour"] = "blue"
    assert _refusal(tmp_path, definition).field == "colour"


def test_a_step_without_a_role_is_refused(tmp_path: Path) -> None:
    definition = _sample()
    del definition["steps"][0]["role"]
    error = _refusal(tmp_path, definition)
    assert (error.field, error.problem) == (
        "steps[0].role",
        "a step that is not final needs the role that acts",
    )


def test_an_unknown_role_is_refused(tmp_path: Path) -> None:
    definition = _sample()
    definition["steps"][0]["role"] = "janitor"
    assert _refusal(tmp_path, definition).field.startswith("steps[0].role")


def test_an_unreachable_step_is_refused(tmp_path: Path) -> None:
    definition = _sample()
    definition["steps"].append({"code": "archived", "final": True})
    error = _refusal(tmp_path, definition)
    assert error.field == "steps[2].code"
    assert "'archived' cannot be reached" in error.problem


def test_an_action_to_an_unknown_step_is_refused(tmp_path: Path) -> None:
    definition = _sample()
    definition["steps"][0]["actions"].append({"code": "archive", "to": "archived"})
    assert _refusal(tmp_path, definition).field == "steps[0].actions[1].to"


def test_a_staff_step_without_a_target_is_refused(tmp_path: Path) -> None:
    definition = _sample()
    definition["steps"][0]["actions"][0]["to"] = "checked"
    checked = {"code": "checked", "role": "finance", "actions": [{"code": "close", "to": "closed"}]}
    definition["steps"].append(checked)
    error = _refusal(tmp_path, definition)
    assert (error.field, error.problem) == (
        "steps[2].working_days",
        "a staff step needs its target in working days",
    )
    checked["working_days_setting"] = "review_days"
    assert _refusal(tmp_path, definition).field == "steps[2].working_days_setting"


def test_the_first_step_has_a_target_of_its_own(tmp_path: Path) -> None:
    definition = _sample()
    definition["steps"][0]["role"] = "subscriber"
    del definition["steps"][0]["working_days"]
    assert _refusal(tmp_path, definition).field == "first_step"


def test_a_step_final_here_is_final_everywhere(tmp_path: Path) -> None:
    definition = _sample()
    definition["steps"][0]["code"] = "closed_early"
    definition["first_step"] = "closed_early"
    definition["steps"][1]["code"] = "withdrawn"
    definition["steps"][1]["final"] = False
    definition["steps"][1]["role"] = "subscriber"
    definition["steps"][1]["actions"] = [{"code": "close", "to": "closed"}]
    definition["steps"][0]["actions"][0]["to"] = "withdrawn"
    definition["steps"].append({"code": "closed", "final": True})
    error = _refusal(tmp_path, definition)
    assert (error.field, error.problem) == ("steps[1].final", "'withdrawn' is final elsewhere")


def test_a_step_with_no_way_forward_is_refused(tmp_path: Path) -> None:
    definition = _sample()
    definition["steps"][0]["actions"] = []
    # The final step is then unreachable too; the stuck step is named first.
    assert _refusal(tmp_path, definition).field == "steps[0].actions"


def test_a_button_is_the_subscriber_s(tmp_path: Path) -> None:
    definition = _sample()
    definition["steps"][0]["actions"][0]["button"] = True
    assert _refusal(tmp_path, definition).field == "steps[0].actions[0].button"


def test_a_question_s_shape_follows_its_type(tmp_path: Path) -> None:
    definition = _sample()
    definition["questions"].append({"key": "kind", "type": "choice"})
    assert _refusal(tmp_path, definition).field == "questions[1].options"
    definition = _sample()
    definition["questions"][0]["type"] = "text_area"
    assert _refusal(tmp_path, definition).field == "questions[0].type"


def test_only_a_built_service_fills_an_answer_itself(tmp_path: Path) -> None:
    definition = _sample()
    definition["questions"][0]["from_context"] = True
    assert _refusal(tmp_path, definition).field == "questions[0].from_context"


def test_the_code_is_the_file_s_name(tmp_path: Path) -> None:
    assert _refusal(tmp_path, _sample(), name="other").field == "code"


def test_a_file_that_is_not_json_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "sample.json").write_text('{\n  "code": "sample",\n  oops\n}', encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_definitions(tmp_path)
    assert (caught.value.path.name, caught.value.field) == ("sample.json", "line 3")


@pytest.mark.parametrize("main", [bot_cli.main, admin_cli.main], ids=["bot", "backend"])
def test_every_entry_point_refuses_to_start(
    main: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = _sample()
    del definition["steps"][0]["role"]
    (tmp_path / "sample.json").write_text(json.dumps(definition), encoding="utf-8")
    monkeypatch.setattr(loader, "definitions", lambda: load_definitions(tmp_path))
    assert main(["migrate"]) == 2
    assert "sample.json: steps[0].role: " in capsys.readouterr().err


def test_a_loop_with_no_way_out_is_refused(tmp_path: Path) -> None:
    definition = _sample()
    definition["steps"][0]["actions"].append({"code": "wait", "to": "waiting"})
    definition["steps"].append(
        {
            "code": "waiting",
            "role": "subscriber",
            "actions": [{"code": "remind", "to": "waiting"}],
        }
    )
    error = _refusal(tmp_path, definition)
    assert (error.field, error.problem) == (
        "steps[2].actions",
        "no final step can be reached from it",
    )


def test_a_fee_is_set_by_its_step_s_action_of_its_role(tmp_path: Path) -> None:
    definition = _sample()
    definition["steps"][0]["actions"].append(
        {"code": "set_fee", "to": "closed", "value": "amount", "by": "billing_reviewer"}
    )
    fee = {"key": "fee", "set_by": "finance", "at_step": "submitted", "set_by_action": "set_fee"}
    definition["fees"] = [fee]
    error = _refusal(tmp_path, definition)  # the action is the reviewer's, not finance's
    assert (error.field, error.problem) == (
        "fees[0].set_by",
        "'set_fee' is taken by billing_reviewer, not finance",
    )
    del definition["steps"][0]["actions"][1]["by"]  # the step's role, finance: right
    (tmp_path / "sample.json").write_text(json.dumps(definition), encoding="utf-8")
    assert load_definitions(tmp_path)["sample"].fees[0].set_by == "finance"
    fee["set_by_action"] = "close_with_fee"
    error = _refusal(tmp_path, definition)
    assert (error.field, error.problem) == (
        "fees[0].set_by_action",
        "step 'submitted' has no such action",
    )


def test_a_paper_is_numbered_by_its_action_s_text(tmp_path: Path) -> None:
    definition = _sample()
    definition["steps"][0]["actions"][0]["document"] = "clearance_certificate"
    error = _refusal(tmp_path, definition)
    assert (error.field, error.problem) == (
        "steps[0].actions[0].document",
        "a paper's number is its action's text value",
    )
    definition["steps"][0]["actions"][0]["value"] = "text"
    (tmp_path / "sample.json").write_text(json.dumps(definition), encoding="utf-8")
    assert load_definitions(tmp_path)["sample"].steps[0].actions[0].document is not None


def test_the_readme_s_example_is_the_definition_in_use() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    example = readme.split("One complete definition, the meter test:\n```json\n")[1]
    shown = json.loads(example.split("```")[0])
    assert shown == json.loads((DEFINITIONS / "meter_test.json").read_text(encoding="utf-8"))
