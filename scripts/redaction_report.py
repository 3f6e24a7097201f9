"""How well moderator redaction hides identifying details: recall and precision per kind.

    python -m scripts.redaction_report [--sample FILE.yml ...] [--misses]

Reads the labelled samples (every detail marked ``[words](kind)``): the one the
redactor was tuned on, ``tests/redaction/labelled_messages.yml``, whose recall must
meet the targets; the first held-out one, ``tests/redaction/holdout_messages.yml``,
written afterwards and since read while tuning; and the second held-out one,
``tests/redaction/second_holdout_messages.yml``, written before the last changes and
never tuned on. Runs the redactor on each message and prints, per kind:
recall, the share of labelled details wholly hidden (by a finding of any kind, since
hidden is what matters to the young person), and precision, the share of findings of
that kind that overlap a labelled detail. Exits non-zero when the tuned sample misses a recall target.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import regex
import yaml

from bot.moderation.redaction import KINDS, Finding, load_redactor

PROJECT = Path(__file__).resolve().parent.parent
SAMPLE = PROJECT / "tests" / "redaction" / "labelled_messages.yml"
HOLDOUT = PROJECT / "tests" / "redaction" / "holdout_messages.yml"
SECOND_HOLDOUT = PROJECT / "tests" / "redaction" / "second_holdout_messages.yml"
RECALL_TARGETS = {
    "phone": 0.95,
    "email": 0.95,
    "handle": 0.95,
    "url": 0.95,
    "postcode": 0.95,
    "name": 0.9,
    "school": 0.9,
}
_LABEL = regex.compile(r"\[([^\]]+)\]\((" + "|".join(KINDS) + r")\)")


@dataclass(frozen=True)
class Labelled:
    text: str
    details: list[Finding]


def parse(marked: str) -> Labelled:
    """'im [Jake](name)' -> the plain text and where each labelled detail is in it."""
    text, details, position = "", [], 0
    for match in _LABEL.finditer(marked):
        text += marked[position : match.start()]
        details.append(Finding(match.group(2), len(text), len(text) + len(match.group(1))))
        text += match.group(1)
        position = match.end()
    return Labelled(text + marked[position:], details)


def load_sample(path: Path = SAMPLE) -> list[Labelled]:
    with open(path, encoding="utf-8") as stream:
        return [parse(message) for message in yaml.safe_load(stream)["messages"]]


def _overlaps(one: Finding, other: Finding) -> bool:
    return one.start < other.end and other.start < one.end


def _hidden(detail: Finding, findings: list[Finding]) -> bool:
    covered = set()
    for finding in findings:
        covered.update(range(max(detail.start, finding.start), min(detail.end, finding.end)))
    return covered >= set(range(detail.start, detail.end))


@dataclass
class Score:
    details: int = 0
    hidden: int = 0
    found: int = 0
    found_correctly: int = 0

    @property
    def recall(self) -> float:
        return self.hidden / self.details if self.details else 1.0

    @property
    def precision(self) -> float:
        return self.found_correctly / self.found if self.found else 1.0


def score(sample: list[Labelled]) -> tuple[dict[str, Score], list[str]]:
    """Scores per kind, and a line for each miss or false finding (to read, never to log)."""
    redactor = load_redactor()
    scores = {kind: Score() for kind in KINDS}
    mistakes = []
    for message in sample:
        findings = redactor.find(message.text)
        for detail in message.details:
            scores[detail.kind].details += 1
            if _hidden(detail, findings):
                scores[detail.kind].hidden += 1
            else:
                mistakes.append(
                    f"missed {detail.kind}: {message.text[detail.start : detail.end]!r} in {message.text!r}"
                )
        for finding in findings:
            scores[finding.kind].found += 1
            if any(_overlaps(finding, detail) for detail in message.details):
                scores[finding.kind].found_correctly += 1
            else:
                mistakes.append(
                    f"needless {finding.kind}: {message.text[finding.start : finding.end]!r} in {message.text!r}"
                )
    return scores, mistakes


def report(path: Path, *, misses: bool) -> list[str]:
    """Prints the table for one sample; returns the kinds below their recall target."""
    sample = load_sample(path)
    scores, mistakes = score(sample)
    print(f"\nRedaction on {len(sample)} labelled messages ({path.name})")
    print(f"{'kind':<10}{'details':>8}{'recall':>8}{'target':>8}{'found':>7}{'precision':>11}")
    below = []
    for kind, result in scores.items():
        target = RECALL_TARGETS.get(kind)
        if target is not None and result.recall < target:
            below.append(kind)
        target_text = f"{target:.2f}" if target is not None else "-"
        print(
            f"{kind:<10}{result.details:>8}{result.recall:>8.2f}{target_text:>8}{result.found:>7}{result.precision:>11.2f}"
        )
    if misses:
        print("\n".join(mistakes))
    return below


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample", type=Path, nargs="+", help="other labelled samples to score instead")
    parser.add_argument("--misses", action="store_true", help="also list every miss and needless finding")
    args = parser.parse_args(argv)
    if args.sample:
        for path in args.sample:
            report(path, misses=args.misses)
        return 0
    below = report(SAMPLE, misses=args.misses)
    report(HOLDOUT, misses=args.misses)
    report(SECOND_HOLDOUT, misses=args.misses)
    if below:
        print(f"\n{SAMPLE.name} is below the recall target for: {', '.join(below)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
