"""Replay conversations through the running service's public teen API and record what happened.

    python -m scripts.replay --input conversations.jsonl --output results.jsonl [--base-url URL]

Each conversation ({"id", "turns"}) is sent turn by turn as a new conversation.
After each turn (once the app has handled the message, as its database says) the
bot's replies are collected; sending stops at a handoff, as the bot is paused
then. The handoff's level and reasons come from the app's database (the teen API
rightly never shows them). If the service is not running, it is started (as
`make run` does) and stopped afterwards.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import select

from bot.conversation.models import Event
from bot.database import session_factory
from bot.handoff.models import Case
from bot.settings import get_settings
from devtools.teen import TeenClient
from scripts.running import default_base_url, running_service


def wait_until_handled(sessions, conversation_id: str, seq: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sessions() as session:
            awaiting = session.scalar(
                select(Event.awaiting_dialogue).where(Event.conversation_id == conversation_id, Event.seq == seq)
            )
        if awaiting is False:
            return
        time.sleep(0.05)
    raise TimeoutError(f"message {seq} of conversation {conversation_id} was not handled in {timeout} s")


def replay_one(http: httpx.Client, item: dict, sessions) -> dict:
    young_person = TeenClient(http)
    replies: list[list[str]] = []
    escalated_at = None
    offered = False
    for number, text in enumerate(item["turns"], start=1):
        seq = young_person.acknowledged(text)
        # The turn is over once the dialogue has handled the message: a handoff may be stored before
        # the bot's replies (the safety net reads beside Rasa), so the first event does not end it.
        wait_until_handled(sessions, young_person.id, seq)
        events = young_person.events(seq)
        bot_messages = [event for event in events if event["type"] == "bot_message"]
        replies.append([event["text"] for event in bot_messages])
        offered = offered or any(
            button.get("payload") == "/request_human" for event in bot_messages for button in event.get("buttons", [])
        )
        if any(event["type"] == "status" and event["status"] == "waiting_for_human" for event in events):
            escalated_at = number
            break
    with sessions() as session:
        case = session.scalars(select(Case).where(Case.conversation_id == young_person.id).order_by(Case.id)).first()
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
