"""The handoff decision of the safeguarding package alone (lexicon and risk model, no intents), fast.

    python -m scripts.assess_offline --conversations FILE.jsonl [--results OUT.jsonl] [--no-model]

What the app's safety net decides when Rasa is down, turn by turn, scored with
the rules of ../shared/eval/README.md (scripts/score.py). For tuning in seconds
rather than replaying through the whole service; `make eval` measures the real path.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from safeguarding.assessment import Assessor, Turn
from safeguarding.reader import MessageReader
from safeguarding.risk_model import load_risk_reader
from scripts.score import print_report, score


def first_handoff(assessor: Assessor, reader: MessageReader, texts: list[str]) -> dict:
    turns: list[Turn] = []
    for number, text in enumerate(texts, start=1):
        turns.append(Turn(reader.read(text), text=text))
        decision = assessor.assess(turns)
        if decision.hands_off:
            return {
                "escalated": True,
                "escalated_at_turn": number,
                "level": decision.level,
                "reasons": [f"{item.source}: {item.label}" for item in decision.evidence],
            }
    return {"escalated": False, "escalated_at_turn": None, "level": None, "reasons": []}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", required=True, type=Path)
    parser.add_argument("--results", type=Path)
    parser.add_argument("--no-model", action="store_true", help="the lexicon alone")
    args = parser.parse_args()

    reader = MessageReader()
    assessor = Assessor(reader.lexicon, risk_reader=None if args.no_model else load_risk_reader())
    items = [json.loads(line) for line in args.conversations.read_text(encoding="utf-8").splitlines() if line.strip()]
    results = {}
    for item in items:
        results[item["id"]] = {"id": item["id"], "replies": [], **first_handoff(assessor, reader, item["turns"])}
    if args.results:
        args.results.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results.values()))
    print_report(score(items, results), mentions=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
