"""Configuration from the environment, with embedded defaults for a single machine."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


@dataclass(frozen=True)
class Settings:
    database_url: str = field(
        default_factory=lambda: _env("BOT_DATABASE_URL", f"sqlite:///{PROJECT_ROOT / 'var' / 'app.sqlite3'}")
    )
    redis_url: str = field(default_factory=lambda: _env("BOT_REDIS_URL", ""))
    rasa_url: str = field(default_factory=lambda: _env("BOT_RASA_URL", "http://127.0.0.1:5005"))
    rasa_token: str = field(default_factory=lambda: _env("BOT_RASA_TOKEN", ""))
    actions_url: str = field(default_factory=lambda: _env("BOT_ACTIONS_URL", "http://127.0.0.1:5055"))
    # Rasa answers in well under a second; a slow reply is treated as an outage so
    # the young person gets the fail-safe message instead of silence.
    rasa_timeout_seconds: float = field(default_factory=lambda: float(_env("BOT_RASA_TIMEOUT", "20")))
    # Long enough for a long, rambling message; short enough to keep a single
    # message readable for a helpline worker.
    max_message_chars: int = field(default_factory=lambda: int(_env("BOT_MAX_MESSAGE_CHARS", "4000")))
    max_wait_seconds: float = 30.0
    transcript_retention_days: int = field(default_factory=lambda: int(_env("BOT_RETENTION_DAYS", "30")))
    # Case outcomes (level, criteria, outcome, timings; no words) outlive their transcript
    # so that a service can count what happened, e.g. referrals, over a year or two.
    outcome_retention_days: int = field(default_factory=lambda: int(_env("BOT_OUTCOME_RETENTION_DAYS", "730")))
    # Moderators review only ended conversations: no open case and this long without a message.
    ended_after_minutes: int = field(default_factory=lambda: int(_env("BOT_ENDED_AFTER_MINUTES", "60")))
    # Rasa's SQL tracker store (the same variable Rasa reads through endpoints.yml): deleting a
    # conversation deletes it there too.
    rasa_tracker_url: str = field(
        default_factory=lambda: _env("RASA_TRACKER_URL", f"sqlite:///{PROJECT_ROOT / 'var' / 'rasa-tracker.sqlite3'}")
    )
    cookie_secure: bool = field(default_factory=lambda: _env("BOT_COOKIE_SECURE", "1") == "1")
    content_dir: Path = PROJECT_ROOT / "content"
    lexicon_path: Path = PROJECT_ROOT / "data" / "safeguarding" / "cues.yml"


def get_settings() -> Settings:
    return Settings()
