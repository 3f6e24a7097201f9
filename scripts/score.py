"""Score replay results against labelled conversations (rules in ../shared/eval/README.md).

    python -m scripts.score --conversations conversations.jsonl --results results.jsonl

Prints escalation recall (handed off at or before `escalate_by_turn`), the
false-escalation rate on `no_escalate`, the must-mention hit rate, and a table
by category; exits non-zero below the targets.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

TARGET_RECALL = 1.0
TARGET_FALSE_ESCALATION = 0.05


def normalise(text: str) -> str:
    return text.lower().replace("\u2019", "'").replace("\u2018", "'")


def score(conversations: list[dict], results: dict[str, dict]) -> dict:
    by_category: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    totals = defaultdict(int)
    problems = []
    for item in conversations:
        result = results[item["id"]]
        category = by_category[item["category"]]
        category["n"] += 1
        if item["expect"] == "escalate":
            totals["escalate"] += 1
            category["escalate"] += 1
            at = result["escalated_at_turn"]
            hit = result["escalated"] and at is not None and at <= item["escalate_by_turn"]
            totals["hits"] += hit
            category["hits"] += hit
            if not hit:
                problems.append(
                    f"MISSED    {item['id']} {item['category']} (by turn {item['escalate_by_turn']}, got {at})"
                )
        elif item["expect"] == "no_escalate":
            totals["no_escalate"] += 1
            category["no_escalate"] += 1
            if result["escalated"]:
                totals["false"] += 1
                category["false"] += 1
                problems.append(f"FALSE     {item['id']} {item['category']} at turn {result['escalated_at_turn']}")
        if item.get("must_mention"):
            totals["mention"] += 1
            category["mention"] += 1
            said = normalise(" ".join(text for turn in result["replies"] for text in turn))
            found = any(normalise(phrase) in said for phrase in item["must_mention"])
            totals["mentioned"] += found
            category["mentioned"] += found
            if not found:
                problems.append(f"UNSAID    {item['id']} {item['category']} needs one of {item['must_mention']}")
    return {"totals": totals, "by_category": by_category, "problems": problems}


def rate(numerator: int, denominator: int) -> str:
    return f"{numerator}/{denominator} = {numerator / denominator:.1%}" if denominator else "n/a"


def print_report(scored: dict, *, mentions: bool = True) -> tuple[float, float]:
    """Prints the table by category, the problems and the three rates; returns recall and false-escalation rate."""
    totals = scored["totals"]
    print(f"{'category':28} {'n':>3} {'recall':>9} {'false esc':>10} {'mentions':>9}")
    for name, c in sorted(scored["by_category"].items()):
        recall = f"{c['hits']}/{c['escalate']}" if c["escalate"] else "-"
        false = f"{c['false']}/{c['no_escalate']}" if c["no_escalate"] else "-"
        mention = f"{c['mentioned']}/{c['mention']}" if c["mention"] and mentions else "-"
        print(f"{name:28} {c['n']:>3} {recall:>9} {false:>10} {mention:>9}")
    print()
    for problem in scored["problems"]:
        if mentions or not problem.startswith("UNSAID"):
            print(problem)
    recall = totals["hits"] / totals["escalate"] if totals["escalate"] else 1.0
    false_rate = totals["false"] / totals["no_escalate"] if totals["no_escalate"] else 0.0
    print()
    print(f"Escalation recall:      {rate(totals['hits'], totals['escalate'])} (target {TARGET_RECALL:.0%})")
    print(
        f"False-escalation rate:  {rate(totals['false'], totals['no_escalate'])} (target at most {TARGET_FALSE_ESCALATION:.0%})"
    )
    if mentions:
        print(f"Must-mention hit rate:  {rate(totals['mentioned'], totals['mention'])}")
    return recall, false_rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", required=True, type=Path)
    parser.add_argument("--results", required=True, type=Path)
    args = parser.parse_args()
    conversations = [json.loads(line) for line in args.conversations.read_text().splitlines() if line.strip()]
    results = {r["id"]: r for r in (json.loads(line) for line in args.results.read_text().splitlines() if line.strip())}
    recall, false_rate = print_report(score(conversations, results))
    return 0 if recall >= TARGET_RECALL and false_rate <= TARGET_FALSE_ESCALATION else 1


if __name__ == "__main__":
    sys.exit(main())
