"""Train the risk model (safeguarding/risk_model.py) and set its thresholds.

    python scripts/train_risk_model.py --out build/risk_model.npz

Runs in the Rasa environment (scikit-learn). Examples:
- data/safeguarding/risk/*.yml: conversations, each with the turn where a risk
  first shows and the criteria it meets; every turn before it is an example of
  no risk, read with the turns before it, as the model reads a live conversation;
- the NLU examples (data/nlu/): the disclosure intents of policy.yml's
  intent_criteria as their criterion, every other intent as no risk, except
  disclosures about someone else, whose criterion the intent does not say.

The model is a mean of MEMBERS networks that differ only in their starting
weights: a single network's thresholds and findings moved by several development
and frozen-split conversations between builds whose data barely differed, more
than the data change itself moved the lexicon's.

Thresholds are recall-first, per criterion and level, from predictions on
held-out folds (conversations never split across folds): the highest threshold
that still finds RECALL_TARGET of the held-out positives (CRITICAL_RECALL_TARGET
for immediate risk); for the high level, raised if needed until half the turns
it flags are real (HIGH_PRECISION_FLOOR), since every false alarm takes a
helpline worker from a child who needs one.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np
import yaml
from sklearn.model_selection import GroupKFold
from sklearn.neural_network import MLPClassifier

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from safeguarding.encoder import load_encoder  # noqa: E402
from safeguarding.features import cue_feature_names  # noqa: E402
from safeguarding.policy import load_policy  # noqa: E402
from safeguarding.reader import MessageReader  # noqa: E402
from safeguarding.risk_model import CRITERIA, RiskModel, turn_features  # noqa: E402

CORPUS = PROJECT / "data" / "safeguarding" / "risk"
HANDOFF_CRITERIA = (*CRITERIA, "under_13")
NLU = PROJECT / "data" / "nlu"
# Set on the development sets (../shared/eval), weighing recall against false
# alarms; never on the frozen test split. 0.80 since the contrastive refusal and
# negation data (norisk_27, risk_33) made the model surer: one more conversation
# found on conversations-2 for one more false alarm.
RECALL_TARGET = 0.80
# Immediate risk, recall first: danger told without the lexicon's words (where they stand, what
# they hold, "nobody would notice") is the model's to find. A false alarm it raises is answered
# with data of its kind (norisk_28: long everyday rambles), not a higher threshold.
CRITICAL_RECALL_TARGET = 0.85
HIGH_PRECISION_FLOOR = 0.5
MEMBERS = 5
# Intents whose examples are about someone else's situation, whatever it is: a friend at
# risk, or a parent telling of their child's sextortion, are neither risk nor no risk here.
UNLABELLED_INTENTS = {"disclose_friend_at_risk", "inform_worried_adult"}
_ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]*\)|\[([^\]]+)\]\{[^}]*\}")


def corpus_conversations() -> list[tuple[list[str], list[set[str]]]]:
    """Each conversation's turns, each with the criteria it meets (empty before the risk shows)."""
    conversations = []
    for path in sorted(CORPUS.glob("*.yml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8"))["conversations"]:
            turns = [str(turn) for turn in item["turns"]]
            criteria = set(item.get("criteria") or ())
            unknown = criteria - set(HANDOFF_CRITERIA)
            if unknown:
                raise ValueError(f"{path.name}: unknown criteria {sorted(unknown)}")
            if criteria and not criteria & set(CRITERIA):
                # Under 13 alone is the lexicon's to find (ages); not an example either way.
                continue
            risk_at = item.get("risk_at")
            labels = [criteria if risk_at and number >= risk_at else set() for number in range(1, len(turns) + 1)]
            conversations.append((turns, labels))
    return conversations


def nlu_examples() -> list[tuple[list[str], list[set[str]]]]:
    criteria = load_policy().intent_criteria
    examples = []
    for path in sorted(NLU.glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            intent = block.get("intent")
            if not intent or intent in UNLABELLED_INTENTS:
                continue
            label = {criteria[intent]} if intent in criteria else set()
            for line in block["examples"].splitlines():
                text = _ANNOTATION.sub(lambda m: m.group(1) or m.group(2), line.strip().removeprefix("- ").strip())
                if text:
                    examples.append(([text], [label]))
    return examples


def featurise(conversations, reader: MessageReader, columns: dict[str, int]):
    encoder = load_encoder()
    encoder.encode(sorted({turn for turns, _ in conversations for turn in turns}))
    rows, targets, groups = [], [], []
    for group, (turns, labels) in enumerate(conversations):
        readings = [reader.read(turn) for turn in turns]
        rows.append(turn_features(encoder, turns, readings, columns))
        targets += [[criterion in label for criterion in CRITERIA] for label in labels]
        groups += [group] * len(turns)
    return np.concatenate(rows), np.array(targets, dtype=np.float32), np.array(groups)


def network(seed: int) -> MLPClassifier:
    # Strong weight decay and early stopping: the model must generalise to words it never saw.
    # 128 hidden units: on the development sets, 64 gave 2-4 more false escalations at the same
    # recall; 256 and 512 did no better (scripts/assess_offline.py over ../shared/eval).
    return MLPClassifier(hidden_layer_sizes=(128,), alpha=1e-2, max_iter=200, early_stopping=True, random_state=seed)


def fit_members(features: np.ndarray, targets: np.ndarray) -> list[MLPClassifier]:
    return [network(seed).fit(features, targets) for seed in range(7, 7 + MEMBERS)]


def mean_probabilities(members: list[MLPClassifier], features: np.ndarray) -> np.ndarray:
    return np.mean([member.predict_proba(features) for member in members], axis=0)


def recall_first_threshold(probabilities: np.ndarray, positives: np.ndarray, target: float) -> float:
    found = np.sort(probabilities[positives])[::-1]
    if not len(found):
        return 0.5
    return float(found[min(len(found) - 1, int(np.ceil(target * len(found))) - 1)])


def precision_floor_threshold(probabilities: np.ndarray, positives: np.ndarray, floor: float) -> float:
    """The lowest threshold at which at least `floor` of the flagged turns are positives."""
    for threshold in np.sort(np.unique(probabilities)):
        flagged = probabilities >= threshold
        if (flagged & positives).sum() >= floor * flagged.sum():
            return float(threshold)
    return 1.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    reader = MessageReader()
    names = cue_feature_names(reader.lexicon)
    columns = {name: column for column, name in enumerate(names)}
    conversations = corpus_conversations() + nlu_examples()
    features, targets, groups = featurise(conversations, reader, columns)
    print(f"{len(conversations)} conversations, {len(features)} turns; positives per criterion:")
    for criterion, count in zip(CRITERIA, targets.sum(axis=0), strict=False):
        print(f"  {criterion:16} {int(count)}")

    held_out = np.zeros_like(targets)
    for train, test in GroupKFold(n_splits=5).split(features, targets, groups):
        held_out[test] = mean_probabilities(fit_members(features[train], targets[train]), features[test])
    thresholds = {}
    print(f"\n{'criterion':16} {'threshold':>9} {'recall':>7} {'precision':>9}   (held-out folds)")
    for column, criterion in enumerate(CRITERIA):
        positives = targets[:, column] == 1
        critical = criterion in load_policy().critical_criteria
        threshold = recall_first_threshold(
            held_out[:, column], positives, CRITICAL_RECALL_TARGET if critical else RECALL_TARGET
        )
        if not critical:
            threshold = max(threshold, precision_floor_threshold(held_out[:, column], positives, HIGH_PRECISION_FLOOR))
        flagged = held_out[:, column] >= threshold
        recall = (flagged & positives).sum() / max(1, positives.sum())
        precision = (flagged & positives).sum() / max(1, flagged.sum())
        thresholds[criterion] = threshold
        print(f"{criterion:16} {threshold:9.3f} {recall:7.3f} {precision:9.3f}")

    members = fit_members(features, targets)
    RiskModel(
        hidden_weights=np.stack([member.coefs_[0] for member in members]).astype(np.float32),
        hidden_bias=np.stack([member.intercepts_[0] for member in members]).astype(np.float32),
        output_weights=np.stack([member.coefs_[1] for member in members]).astype(np.float32),
        output_bias=np.stack([member.intercepts_[1] for member in members]).astype(np.float32),
        criteria=CRITERIA,
        thresholds=thresholds,
        feature_names=names,
    ).save(args.out)
    print(f"\nsaved {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
