"""The project's frozen test split must never change once results have been seen.

tests/conversations/holdout.jsonl was written by a separate author, to the rules
of ../shared/eval/README.md, before any tuning of the risk model or the
lexicon against it, and is used only to measure (make eval). Editing it after
seeing a result would make its figures meaningless, so its digest is pinned here.
"""

import hashlib
import json
from pathlib import Path

CONVERSATIONS = Path(__file__).resolve().parents[1] / "conversations"
FROZEN = {"holdout.jsonl": "07600f02e30d1610786a02fa20e1228067c96bd02e7815cdb83e391daaa6a12b"}


def test_the_frozen_test_split_is_unchanged() -> None:
    for name, digest in FROZEN.items():
        assert hashlib.sha256((CONVERSATIONS / name).read_bytes()).hexdigest() == digest, f"{name} was edited"


def test_no_sentence_of_the_frozen_split_is_in_the_training_data() -> None:
    project = CONVERSATIONS.parents[1]
    training = {
        line.strip().removeprefix("- ").strip().strip('"').lower()
        for folder in ("data/nlu", "data/safeguarding/risk")
        for path in (project / folder).glob("*.yml")
        for line in path.read_text(encoding="utf-8").splitlines()
    }
    held_out = [
        turn.strip().lower()
        for line in (CONVERSATIONS / "holdout.jsonl").read_text(encoding="utf-8").splitlines()
        for turn in json.loads(line)["turns"]
        if len(turn) > 25
    ]
    assert not [turn for turn in held_out if turn in training]
