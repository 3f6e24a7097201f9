"""How well moderator redaction hides identifying details: recall and precision per kind.

    python -m scripts.redaction_report [--sample FILE.yml] [--misses]

Reads the labelled sample (``tests/redaction/labelled_messages.yml``: every detail
marked ``[words](kind)``), runs the redactor on each message and prints, per kind:
recall, the share of labelled details wholly hidden (by a finding of any kind, since
hidden is what matters to the young person), and precision, the share of findings of
that kind that overlap a labelled detail. Exits non-zero when a recall target is missed.
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample", type=Path, default=SAMPLE)
    parser.add_argument("--misses", action="store_true", help="also list every miss and needless finding")
    args = parser.parse_args(argv)
    sample = load_sample(args.sample)
    scores, mistakes = score(sample)
    print(f"Redaction on {len(sample)} labelled messages ({args.sample.relative_to(PROJECT)})")
    print(f"{'kind':<10}{'details':>8}{'recall':>8}{'target':>8}{'found':>7}{'precision':>11}")
    failed = []
    for kind, result in scores.items():
        target = RECALL_TARGETS.get(kind)
        if target is not None and result.recall < target:
            failed.append(kind)
        target_text = f"{target:.2f}" if target is not None else "-"
        print(
            f"{kind:<10}{result.details:>8}{result.recall:>8.2f}{target_text:>8}{result.found:>7}{result.precision:>11.2f}"
        )
    if args.misses:
        print("\n".join(mistakes))
    if failed:
        print(f"below the recall target: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
