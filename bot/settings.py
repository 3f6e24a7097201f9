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


def rasa_urls(value: str) -> tuple[str, ...]:
    """BOT_RASA_URL: one Rasa server, or several sharing one tracker store and the Redis lock store,
    separated by spaces or commas. Each conversation prefers one of them and moves to the next
    when it cannot be reached."""
    urls = tuple(url.rstrip("/") for url in re.split(r"[\s,]+", value) if url)
    wrong = [url for url in urls if not re.match(r"^https?://[^/\s]+(/[^\s]*)?$", url)]
    if wrong or not urls:
        raise ValueError(f"BOT_RASA_URL: not a list of URLs like http://rasa:5005: {value!r}")
    return urls


@dataclass(frozen=True)
class Settings:
    database_url: str = field(
        default_factory=lambda: _env("BOT_DATABASE_URL", f"sqlite:///{PROJECT_ROOT / 'var' / 'app.sqlite3'}")
    )
    redis_url: str = field(default_factory=lambda: _env("BOT_REDIS_URL", ""))
    rasa_urls: tuple[str, ...] = field(default_factory=lambda: rasa_urls(_env("BOT_RASA_URL", "http://127.0.0.1:5005")))
    rasa_token: str = field(default_factory=lambda: _env("BOT_RASA_TOKEN", ""))
    actions_url: str = field(default_factory=lambda: _env("BOT_ACTIONS_URL", "http://127.0.0.1:5055"))
    # Rasa answers in well under a second. The budget for all calls to Rasa over one
    # message: a slower answer is treated as an outage, so the young person has the
    # safety net's decision and the fail-safe reply within 10 seconds whatever Rasa does.
    rasa_timeout_seconds: float = field(default_factory=lambda: float(_env("BOT_RASA_TIMEOUT", "7")))
    # Attempts at handling a message before it is set aside with the fail-safe reply.
    dialogue_attempts: int = field(default_factory=lambda: int(_env("BOT_DIALOGUE_ATTEMPTS", "3")))
    # A message still unanswered after this long is picked up again by the sweeper.
    sweep_seconds: float = field(default_factory=lambda: float(_env("BOT_SWEEP_SECONDS", "30")))
    # Long enough for a long, rambling message; short enough to keep a single
    # message readable for a helpline worker.
    max_message_chars: int = field(default_factory=lambda: int(_env("BOT_MAX_MESSAGE_CHARS", "4000")))
    # Larger request bodies are refused (413) before they are parsed: a message of the longest
    # length, every character escaped in JSON, fits several times over.
    max_body_bytes: int = field(default_factory=lambda: int(_env("BOT_MAX_BODY_BYTES", "65536")))
    # The interactive API docs (/docs, /redoc) load a script from a CDN: for development only.
    api_docs: bool = field(default_factory=lambda: _env("BOT_API_DOCS", "0") == "1")
    # Rate limits ("N/second|minute|hour|day", the `limits` library's notation). Per client
    # (an HMAC of the IP address) on every teen API request and on new conversations; per
    # conversation on messages; per client on staff sign-in attempts. A school or a mobile
    # network puts many young people behind one address, hence the generous defaults.
    limit_client_requests: str = field(default_factory=lambda: _env("BOT_LIMIT_CLIENT_REQUESTS", "1200/minute"))
    limit_client_conversations: str = field(
        default_factory=lambda: _env("BOT_LIMIT_CLIENT_CONVERSATIONS", "120/minute")
    )
    limit_conversation_messages: str = field(
        default_factory=lambda: _env("BOT_LIMIT_CONVERSATION_MESSAGES", "30/minute")
    )
    limit_client_logins: str = field(default_factory=lambda: _env("BOT_LIMIT_CLIENT_LOGINS", "30/minute"))
    # More new cases than this raises an alert in the console; no case is ever dropped.
    limit_new_cases: str = field(default_factory=lambda: _env("BOT_LIMIT_NEW_CASES", "30/minute"))
    # The secret behind the daily key of client HMACs: the same on every instance that shares
    # Redis; random per process by default.
    client_key_secret: str = field(default_factory=lambda: _env("BOT_CLIENT_KEY_SECRET", ""))
    transcript_retention_days: int = field(default_factory=lambda: int(_env("BOT_RETENTION_DAYS", "30")))
    # Besides the service's own pages, the websites that may embed the widget (see embed_origins).
    embed_origins: tuple[str, ...] = field(default_factory=lambda: embed_origins(_env("BOT_EMBED_ORIGINS", "")))
    # Case outcomes (level, criteria, outcome, timings; no words) outlive their transcript
    # so that a service can count what happened, e.g. referrals, over a year or two.
    outcome_retention_days: int = field(default_factory=lambda: int(_env("BOT_OUTCOME_RETENTION_DAYS", "730")))
    # A message whose intent Rasa gave less confidence than this is "low confidence" in moderation's
    # filter: above the FallbackClassifier's threshold (0.45 in config.yml), so it also finds the
    # messages the bot answered while barely sure of them.
    low_confidence_below: float = field(default_factory=lambda: float(_env("BOT_LOW_CONFIDENCE", "0.6")))
    # Moderators review only ended conversations: no open case and this long without a message.
    ended_after_minutes: int = field(default_factory=lambda: int(_env("BOT_ENDED_AFTER_MINUTES", "60")))
    # Rasa's SQL tracker store (the same variable Rasa reads through endpoints.yml): deleting a
    # conversation deletes it there too.
    rasa_tracker_url: str = field(
        default_factory=lambda: _env("RASA_TRACKER_URL", f"sqlite:///{PROJECT_ROOT / 'var' / 'rasa-tracker.sqlite3'}")
    )
    cookie_secure: bool = field(default_factory=lambda: _env("BOT_COOKIE_SECURE", "1") == "1")
    # How long a come-back code opens the conversation again; short, as anyone holding it can read the chat.
    comeback_hours: int = field(default_factory=lambda: int(_env("BOT_COMEBACK_HOURS", "24")))
    # Failed come-back attempts the whole service accepts before refusing every attempt for a while
    # (the `limits` notation): a code has about 49 bits, so guessing one at this rate takes far longer
    # than it lives.
    limit_comeback_failures: str = field(default_factory=lambda: _env("BOT_LIMIT_COMEBACK_FAILURES", "30/10 minutes"))
    content_dir: Path = PROJECT_ROOT / "content"


def get_settings() -> Settings:
    return Settings()
