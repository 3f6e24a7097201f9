"""`make eval`: replay every labelled set through the running service, score each, chart the categories.

    python -m scripts.evaluate [--base-url URL] SET.jsonl [SET.jsonl ...]

Each set is replayed through the public teen API (scripts/replay.py) in one
running service and scored with the rules of ../shared/eval/README.md
(scripts/score.py). Writes reports/eval/<set>-results.jsonl, reports/eval/summary.json
and a per-category chart, reports/eval/categories.png. Exits non-zero when a
development set (../shared/eval) misses the targets; the project's frozen test
split (tests/conversations/holdout.jsonl) is reported beside them, never tuned on.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import httpx
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from bot.database import session_factory  # noqa: E402
from bot.settings import PROJECT_ROOT, get_settings  # noqa: E402
from scripts.replay import replay_one  # noqa: E402
from scripts.running import default_base_url, running_service  # noqa: E402
from scripts.score import TARGET_FALSE_ESCALATION, TARGET_RECALL, print_report, score  # noqa: E402

REPORTS = PROJECT_ROOT / "reports" / "eval"


def set_name(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def chart(summaries: dict[str, dict], path: Path) -> None:
    """Escalation recall and false-escalation rate by category, one panel per set."""
    figure, axes = plt.subplots(len(summaries), 1, figsize=(12, 3.2 * len(summaries)), squeeze=False)
    for axis, (name, scored) in zip(axes[:, 0], summaries.items(), strict=True):
        categories = sorted(scored["by_category"])
        recall = [
            c["hits"] / c["escalate"] if c["escalate"] else float("nan")
            for c in (scored["by_category"][k] for k in categories)
        ]
        false = [
            c["false"] / c["no_escalate"] if c["no_escalate"] else float("nan")
            for c in (scored["by_category"][k] for k in categories)
        ]
        positions = range(len(categories))
        axis.bar([p - 0.2 for p in positions], recall, width=0.4, label="escalation recall", color="#2a7f62")
        axis.bar([p + 0.2 for p in positions], false, width=0.4, label="false escalations", color="#c0392b")
        axis.set_xticks(list(positions), categories, rotation=60, ha="right", fontsize=7)
        axis.set_ylim(0, 1.05)
        axis.set_title(name, fontsize=10)
        axis.legend(fontsize=7, loc="upper right")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--base-url", default=default_base_url())
    args = parser.parse_args()

    REPORTS.mkdir(parents=True, exist_ok=True)
    sessions = session_factory(get_settings().database_url)
    summaries, failed = {}, []
    with running_service(args.base_url), httpx.Client(base_url=args.base_url, timeout=30) as http:
        for path in args.sets:
            items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            results = {item["id"]: replay_one(http, item, sessions) for item in items}
            output = REPORTS / f"{path.stem}-results.jsonl"
            output.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results.values()))
            print(f"\n=== {set_name(path)} ({len(items)} conversations) ===")
            scored = score(items, results)
            recall, false_rate = print_report(scored)
            summaries[set_name(path)] = scored
            development = path.resolve().parent.name == "eval"
            if development and (recall < TARGET_RECALL or false_rate > TARGET_FALSE_ESCALATION):
                failed.append(set_name(path))
    (REPORTS / "summary.json").write_text(
        json.dumps(
            {name: {"totals": s["totals"], "by_category": s["by_category"]} for name, s in summaries.items()}, indent=1
        )
    )
    chart(summaries, REPORTS / "categories.png")
    print(f"\nwrote {REPORTS / 'summary.json'} and {REPORTS / 'categories.png'}")
    if failed:
        print(f"below target: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
