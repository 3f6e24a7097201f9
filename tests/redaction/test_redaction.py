"""Moderator redaction measured on the labelled sample, with the targets of issue 16."""

from __future__ import annotations

from bot.moderation.redaction import load_redactor
from scripts.redaction_report import RECALL_TARGETS, load_sample, parse, score


def test_the_sample_has_at_least_200_messages_and_every_kind() -> None:
    sample = load_sample()
    assert len(sample) >= 200
    assert {detail.kind for message in sample for detail in message.details} >= set(RECALL_TARGETS)


def test_recall_meets_every_target_on_the_labelled_sample() -> None:
    scores, _ = score(load_sample())
    assert {kind: round(scores[kind].recall, 2) for kind in RECALL_TARGETS} == {
        kind: max(round(scores[kind].recall, 2), target) for kind, target in RECALL_TARGETS.items()
    }


def test_help_services_stay_visible_but_a_number_around_999_does_not() -> None:
    redactor = load_redactor()
    help_given = "Call Childline on 0800 1111 or 999, or see childline.org.uk and ceop.police.uk."
    assert redactor.redact(help_given) == help_given
    assert redactor.redact("he texts from 07700 900 999") == "he texts from [phone]"


def test_the_markup_is_read_back_exactly() -> None:
    labelled = parse("im [Jake](name), snap [jake_22](handle)")
    assert labelled.text == "im Jake, snap jake_22"
    assert [labelled.text[d.start : d.end] for d in labelled.details] == ["Jake", "jake_22"]
