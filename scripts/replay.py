"""Replay conversations through the running service's public teen API and record what happened.

    python -m scripts.replay --input conversations.jsonl --output results.jsonl [--base-url URL]

Each conversation ({"id", "turns"}) is sent turn by turn as a new conversation.
After each turn the bot's replies are collected; sending stops at a handoff, as
the bot is paused then. The handoff's level and reasons come from the app's
database (the teen API rightly never shows them). If the service is not
running, it is started (as `make run` does) and stopped afterwards.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import select

from bot.database import session_factory
from bot.handoff.models import Case
from bot.settings import get_settings
from scripts.running import default_base_url, running_service

REPLY_TIMEOUT_SECONDS = 60


def replies_after(http: httpx.Client, conversation: str, headers: dict, seq: int) -> list[dict]:
    """Every event after the young person's message at `seq`, once the turn has been handled."""
    events: list[dict] = []
    deadline = time.monotonic() + REPLY_TIMEOUT_SECONDS
    while not any(event["type"] != "user_message" for event in events):
        if time.monotonic() > deadline:
            break
        after = events[-1]["seq"] if events else seq
        response = http.get(
            f"/api/conversations/{conversation}/events", params={"after": after, "wait": 10}, headers=headers
        )
        response.raise_for_status()
        events += response.json()["events"]
    return events


def replay_one(http: httpx.Client, item: dict, sessions) -> dict:
    started = http.post("/api/conversations")
    started.raise_for_status()
    conversation = started.json()["conversation_id"]
    headers = {"Authorization": f"Bearer {started.json()['token']}"}
    replies: list[list[str]] = []
    escalated_at = None
    offered = False
    for number, text in enumerate(item["turns"], start=1):
        sent = http.post(
            f"/api/conversations/{conversation}/messages",
            json={"client_message_id": f"turn-{number}", "text": text},
            headers=headers,
        )
        sent.raise_for_status()
        events = replies_after(http, conversation, headers, sent.json()["seq"])
        bot_messages = [event for event in events if event["type"] == "bot_message"]
        replies.append([event["text"] for event in bot_messages])
        offered = offered or any(
            button.get("payload") == "/request_human" for event in bot_messages for button in event.get("buttons", [])
        )
        if any(event["type"] == "status" and event["status"] == "waiting_for_human" for event in events):
            escalated_at = number
            break
    with sessions() as session:
        case = session.scalars(select(Case).where(Case.conversation_id == conversation).order_by(Case.id)).first()
    automatic = case is not None and case.level != "offered"
    return {
        "id": item["id"],
        "escalated": automatic,
        "escalated_at_turn": escalated_at if automatic else None,
        "level": case.level if automatic else None,
        "offered_human": offered or (case is not None and case.level == "offered"),
        "reasons": (case.criteria + [cue["label"] for cue in case.cues if cue.get("quote")]) if case else [],
        "replies": replies,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", required=True, type=Path)
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--base-url", default=default_base_url())
    args = parser.parse_args()

    items = [json.loads(line) for line in args.input.read_text(encoding="utf-8").splitlines() if line.strip()]
    sessions = session_factory(get_settings().database_url)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with (
        running_service(args.base_url),
        httpx.Client(base_url=args.base_url, timeout=30) as http,
        open(args.output, "w", encoding="utf-8") as out,
    ):
        for item in items:
            out.write(json.dumps(replay_one(http, item, sessions), ensure_ascii=False) + "\n")
    print(f"replayed {len(items)} conversations into {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
