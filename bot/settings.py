"""Configuration from the environment, with embedded defaults for a single machine."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:[0-9]{1,5})?$")


def embed_origins(value: str) -> tuple[str, ...]:
    """BOT_EMBED_ORIGINS: the websites that may show the chat, as exact origins separated by
    spaces or commas. A path, a wildcard or a typo stops the app at start-up: a site silently
    left off the list would show young people no chat at all."""
    origins = tuple(origin.lower().rstrip("/") for origin in re.split(r"[\s,]+", value) if origin)
    wrong = [origin for origin in origins if not ORIGIN.match(origin)]
    if wrong:
        raise ValueError(f"BOT_EMBED_ORIGINS: not an origin like https://www.example.org: {', '.join(wrong)}")
    return origins


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
    # Besides the service's own pages, the websites that may embed the widget (see embed_origins).
    embed_origins: tuple[str, ...] = field(default_factory=lambda: embed_origins(_env("BOT_EMBED_ORIGINS", "")))
    cookie_secure: bool = field(default_factory=lambda: _env("BOT_COOKIE_SECURE", "1") == "1")
    # How long a come-back code opens the conversation again; short, as anyone holding it can read the chat.
    comeback_hours: int = field(default_factory=lambda: int(_env("BOT_COMEBACK_HOURS", "24")))
    # Failed come-back attempts the whole service accepts per 10 minutes before refusing every attempt for
    # a while: a code has about 49 bits, so guessing one at this rate would take far longer than it lives.
    comeback_failures_per_window: int = 30
    content_dir: Path = PROJECT_ROOT / "content"
    lexicon_path: Path = PROJECT_ROOT / "data" / "safeguarding" / "cues.yml"


def get_settings() -> Settings:
    return Settings()
