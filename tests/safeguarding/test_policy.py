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
        (lambda d: d["jokes"]["cancels"].append("gift"), "'gift' is not one of the known cues"),
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


def _rule(policy_data: dict, criterion: str) -> dict:
    return next(rule for rule in policy_data["combination_rules"] if rule["criterion"] == criterion)


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (
            lambda d: _rule(d, "under_13")["all"][0]["any"].append("under_12_age"),
            r"combination_rules\[\d+\]\.all\[1\]\.any: 'under_12_age' is not one of the known cues or facts",
        ),
        (lambda d: _rule(d, "under_13").update(criterion="under_12"), "'under_12' is not one of the known criteria"),
        (lambda d: _rule(d, "under_13").update(when=[]), r"combination_rules\[\d+\]: unknown key 'when'"),
        (lambda d: _rule(d, "under_13").pop("all"), r"combination_rules\[\d+\]: missing key 'all'"),
        (lambda d: _rule(d, "under_13").update(all=[]), r"\.all: expected a list of conditions"),
        (lambda d: _rule(d, "under_13")["all"][1].update(quote=False), r"\.all\[2\]: unknown key 'quote'"),
        (lambda d: _rule(d, "under_13")["all"][1].update(quoted="no"), r"\.all\[2\]\.quoted: expected true or false"),
        (lambda d: _rule(d, "under_13")["all"][1].update(at_least=2), r"\.all\[2\]\.at_least: expected 0 to 1"),
        (lambda d: _rule(d, "grooming").update(unless_met_directly="yes"), "unless_met_directly: expected true or"),
        (
            lambda d: [condition.update(quoted=False) for condition in _rule(d, "under_13")["all"]],
            r"\.all: nothing is quoted",
        ),
        (lambda d: d["weak_context"].append("pictures"), "weak_context: 'pictures' is not one of the known cues or"),
        (lambda d: d.update(combination_rules={"under_13": []}), "combination_rules: expected a list"),
    ],
)
def test_a_mistake_in_a_combination_rule_is_refused_with_where_it_is(policy_data, names, change, complaint) -> None:
    change(policy_data)

    with pytest.raises(PolicyError, match=complaint):
        parse_policy(policy_data, names)


def test_the_combination_rules_name_what_they_combine() -> None:
    under_13 = next(rule for rule in load_policy().combination_rules if rule.criterion == "under_13")

    assert [condition.names for condition in under_13.conditions] == [("under_13_age",), ("images",)]


def test_every_mistake_is_reported_at_once(policy_data, names) -> None:
    policy_data["jokes"]["cancels"].append("jokes")
    policy_data["offer_intents"].append("disclose_everything")
    _rule(policy_data, "adult_involved")["all"][0]["any"].append("adult_agge")

    with pytest.raises(PolicyError) as refused:
        parse_policy(policy_data, names)

    for problem in ["'jokes'", "'disclose_everything'", "'adult_agge'"]:
        assert problem in str(refused.value)
