"""Lint of the dialogue data: every turn the bot answers is safety-checked first.

The safety check is what hands a conversation to a person; a rule that answers
before it could give advice where a child needed a human. Rules are written by
hand, so this test holds the invariant rather than the authors' care.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from safeguarding.policy import load_policy

PROJECT = Path(__file__).resolve().parents[2]
SAFETY_CHECK = "action_check_safety"
OFFER = "utter_offer_human"
RULES = yaml.safe_load((PROJECT / "data" / "rules.yml").read_text(encoding="utf-8"))["rules"]
DOMAIN = yaml.safe_load((PROJECT / "domain.yml").read_text(encoding="utf-8"))


def answered_turns(steps: list[dict]) -> list[list[str]]:
    """The bot's actions after each user message, and after the age form completes."""
    turns: list[list[str]] = []
    for step in steps:
        if "intent" in step or step.get("active_loop", "") is None:
            turns.append([])
        elif "action" in step and turns:
            turns[-1].append(step["action"])
    return [actions for actions in turns if actions]


@pytest.mark.parametrize("rule", RULES, ids=[rule["rule"] for rule in RULES])
def test_every_answer_starts_with_the_safety_check(rule) -> None:
    for actions in answered_turns(rule["steps"]):
        assert actions[0] == SAFETY_CHECK, f"{rule['rule']!r} answers with {actions[0]} before {SAFETY_CHECK}"


def test_the_policy_s_offer_intents_are_the_intents_whose_rules_offer_a_person() -> None:
    """policy.yml's offer_intents must say what the rules do, so the check never offers twice or never."""
    offering = set()
    for rule in RULES:
        steps = rule["steps"]
        if "intent" in steps[0] and any(step.get("action") == OFFER for step in steps):
            offering.add(steps[0]["intent"])
    topics = {
        slot["pending_topic"]
        for rule in RULES
        if any(step.get("action") == OFFER for step in rule["steps"])
        for condition in rule.get("condition", [])
        for slot in [condition.get("slot_was_set", [{}])[0]]
        if "pending_topic" in slot
    }
    # The age form answers later for the intent that set the pending topic.
    intent_of_topic = {mapping["value"]: mapping["intent"] for mapping in DOMAIN["slots"]["pending_topic"]["mappings"]}
    offering |= {intent_of_topic[topic] for topic in topics}

    assert offering == set(load_policy().offer_intents)
