"""What the detection layer costs per message: the assessment with and without the risk model, in one run.

    python -m scripts.bench_detection [--conversations FILE.jsonl]

Replays each conversation's turns through the assessment as the action server
does on every message (the whole conversation so far, each turn's message new
to the encoder once), once with the lexicon alone and once with the lexicon and
the risk model, and prints p50/p95 milliseconds per message for both, the
difference, and this process's resident memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

from safeguarding.assessment import Assessor, Turn
from safeguarding.encoder import SentenceEncoder
from safeguarding.reader import MessageReader
from safeguarding.risk_model import DEFAULT_MODEL_PATH, RiskModel, RiskReader

PROJECT = Path(__file__).resolve().parent.parent


def per_message_ms(assessor: Assessor, reader: MessageReader, conversations: list[list[str]]) -> list[float]:
    timings = []
    for texts in conversations:
        turns: list[Turn] = []
        for text in texts:
            started = time.perf_counter()
            turns.append(Turn(reader.read(text), text=text))
            assessor.assess(turns)
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def quantiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=Path, default=PROJECT / "tests" / "conversations" / "handoff.jsonl")
    args = parser.parse_args()
    conversations = [json.loads(line)["turns"] for line in args.conversations.read_text().splitlines() if line]

    reader = MessageReader()
    lexicon_only = Assessor(reader.lexicon)
    # A fresh encoder: every message is new to it, as in a live conversation.
    with_model = Assessor(
        reader.lexicon, risk_reader=RiskReader(RiskModel.load(DEFAULT_MODEL_PATH), reader.lexicon, SentenceEncoder())
    )
    per_message_ms(lexicon_only, reader, conversations[:5])  # warm up spaCy
    before = per_message_ms(lexicon_only, reader, conversations)
    after = per_message_ms(with_model, reader, conversations)
    (b50, b95), (a50, a95) = quantiles(before), quantiles(after)
    print(f"{len(before)} messages in {len(conversations)} conversations ({args.conversations.name})")
    print(f"lexicon alone          p50 {b50:6.1f} ms   p95 {b95:6.1f} ms")
    print(f"lexicon + risk model   p50 {a50:6.1f} ms   p95 {a95:6.1f} ms")
    print(f"added by the model     p50 {a50 - b50:6.1f} ms   p95 {a95 - b95:6.1f} ms")
    print(f"peak resident memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
