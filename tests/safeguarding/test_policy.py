"""policy.yml is loaded strictly: a misspelt key or a name that resolves to nothing is refused, not ignored."""

from __future__ import annotations

import copy

import pytest
import yaml

from safeguarding.lexicon import DEFAULT_LEXICON_PATH
from safeguarding.policy import (
    DEFAULT_DOMAIN_PATH,
    DEFAULT_POLICY_PATH,
    PolicyError,
    known_names,
    load_policy,
    parse_policy,
)


@pytest.fixture(scope="module")
def names():
    return known_names(DEFAULT_DOMAIN_PATH, DEFAULT_LEXICON_PATH)


@pytest.fixture
def policy_data() -> dict:
    return copy.deepcopy(yaml.safe_load(DEFAULT_POLICY_PATH.read_text(encoding="utf-8")))


def test_the_project_s_policy_loads() -> None:
    policy = load_policy()

    assert policy.intent_criteria["disclose_sextortion"] == "coercion"
    assert "immediate_risk" in policy.critical_criteria


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda d: d.update(context_window_turn=d.pop("context_window_turns")), "unknown key 'context_window_turn'"),
        (lambda d: d.pop("intent_confidence"), "missing key 'intent_confidence'"),
        (lambda d: d["grooming_signs"].append("gift"), "'gift' is not one of the known cues"),
        (lambda d: d["question_intents"].append("ask_lawyer"), "'ask_lawyer' is not one of the known intents"),
        (lambda d: d["critical_criteria"].append("danger"), "'danger' is not one of the known criteria"),
        (lambda d: d["handoff_advice"][0]["say"].append("utter_nothing"), "'utter_nothing' is not one of the known"),
        (lambda d: d["handoff_advice"][0].update(and_nxt=True), "unknown key 'and_nxt'"),
        (lambda d: d["intent_criteria"]["disclose_pressure"].pop("label"), "missing key 'label'"),
        (lambda d: d["model_needs_context"].update(groming=["image"]), "'groming' is not one of the known criteria"),
        (lambda d: d.update(model_support_ratio="half"), "model_support_ratio: expected a number"),
    ],
)
def test_a_mistake_in_the_policy_is_refused_with_what_is_wrong(policy_data, names, change, complaint) -> None:
    change(policy_data)

    with pytest.raises(PolicyError, match=complaint):
        parse_policy(policy_data, names)


def test_every_mistake_is_reported_at_once(policy_data, names) -> None:
    policy_data["joking_cancels"].append("jokes")
    policy_data["offer_intents"].append("disclose_everything")

    with pytest.raises(PolicyError) as refused:
        parse_policy(policy_data, names)

    assert "'jokes'" in str(refused.value) and "'disclose_everything'" in str(refused.value)
