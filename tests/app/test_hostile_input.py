"""Hostile input and floods: typed intents, oversized bodies, rate limits, sign-in lockout, headers."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from fastapi.testclient import TestClient
from limits import parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from sqlalchemy import select, update

from bot.app import create_app
from bot.database import session_factory, utcnow
from bot.rate_limits import InMemoryCounts, RateLimits
from bot.staff.models import StaffSession
from devtools.console import ConsoleClient, create_account
from devtools.teen import TeenClient
from tests.app.conftest import make_settings
from tests.app.console_helpers import Worker
from tests.app.test_failsafe import StandInRasa


def test_typed_text_starting_with_a_slash_reaches_rasa_as_words(sqlite_url: str) -> None:
    with StandInRasa() as rasa, TestClient(create_app(make_settings(sqlite_url, rasa_urls=(rasa.url,)))) as client:
        chat = TeenClient(client)
        last = chat.events()[-1]["seq"]
        chat.send("/restart")
        seen = chat.wait_for(lambda e: e["type"] == "bot_message", after=last)
        chat.send('/age_band{"age_band": "18_plus"}')
        chat.wait_for(lambda e: e["type"] == "bot_message", after=seen[-1]["seq"] + 1)
        # A button payload the bot never offered is refused.
        assert chat.send("18 or over", payload="/request_human").status_code == 422
    sent = [body["message"] for path, body in rasa.requests if path == "webhook"]
    assert sent == ["restart", 'age_band{"age_band": "18_plus"}']


def test_a_body_over_the_limit_is_refused_before_parsing(client: TestClient) -> None:
    chat = TeenClient(client)
    url = f"/api/conversations/{chat.id}/messages"
    huge = b'{"client_message_id": "a", "text": "' + b"x" * 70_000 + b'"}'
    declared = client.post(url, content=huge, headers={**chat.headers, "Content-Type": "application/json"})
    assert declared.status_code == 413 and declared.json()["error"] == "too_large"

    def chunks():
        for _ in range(100):
            yield b"x" * 1000

    chunked = client.post(url, content=chunks(), headers={**chat.headers, "Content-Type": "application/json"})
    assert chunked.status_code == 413
    # Within the body limit but over the schema's length: the young person is told the limit.
    long = chat.send("x" * 20_000)
    assert long.status_code == 422 and long.json()["error"] == "message_too_long"
    assert "4000" in long.json()["message"]


def test_messages_per_conversation_are_limited_with_retry_after(sqlite_url: str) -> None:
    settings = make_settings(sqlite_url, limit_conversation_messages="3/minute")
    with TestClient(create_app(settings)) as client:
        chat = TeenClient(client)
        assert [chat.send(f"message {n}").status_code for n in range(3)] == [202, 202, 202]
        refused = chat.send("one too many")
        other = TeenClient(client)
        assert other.send("another conversation is not affected").status_code == 202
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "0800 1111" in refused.json()["message"]


def test_clients_are_limited_apart_by_address(sqlite_url: str) -> None:
    app = create_app(make_settings(sqlite_url, limit_client_conversations="2/minute"))
    with TestClient(app, client=("203.0.113.7", 5000)) as one:
        two = TestClient(app, client=("203.0.113.8", 5000))
        assert [one.post("/api/conversations").status_code for _ in range(3)] == [201, 201, 429]
        assert two.post("/api/conversations").status_code == 201
    limits = app.state.services.rate_limits
    key = limits.client_key("203.0.113.7")
    assert "203.0.113.7" not in key and key == limits.client_key("203.0.113.7") != limits.client_key("203.0.113.8")


def sign_in_from(app, address: str, name: str, password: str) -> int:
    return ConsoleClient(TestClient(app, client=(address, 4000))).sign_in(name, password).status_code


def test_a_lockout_holds_for_the_account_and_client_that_failed_only(sqlite_url: str) -> None:
    app = create_app(make_settings(sqlite_url))
    password = create_account(sqlite_url, "ben")
    with TestClient(app):
        assert [sign_in_from(app, "198.51.100.1", "ben", "not-the-password") for _ in range(5)] == [401] * 5
        # Locked for this client, even with the right password...
        assert sign_in_from(app, "198.51.100.1", "ben", password) == 401
        # ...but the worker, elsewhere, still signs in: nobody can lock them out by guessing.
        assert sign_in_from(app, "192.0.2.9", "ben", password) == 303


def test_a_locked_unknown_and_known_account_cost_one_argon2_check_each(sqlite_url: str) -> None:
    app = create_app(make_settings(sqlite_url))
    password = create_account(sqlite_url, "cy")
    with TestClient(app):
        for _ in range(5):
            sign_in_from(app, "198.51.100.2", "cy", "wrong")
        timings = {}
        for label, name, secret in (("locked", "cy", password), ("unknown", "nobody", "x"), ("known", "cy", "wrong")):
            address = "198.51.100.2" if label == "locked" else "192.0.2.10"
            started = time.perf_counter()
            assert sign_in_from(app, address, name, secret) == 401
            timings[label] = time.perf_counter() - started
    fastest, slowest = min(timings.values()), max(timings.values())
    assert slowest < fastest * 2, timings


def test_the_console_idles_out_even_though_it_refreshes_itself(sqlite_url: str) -> None:
    app = create_app(make_settings(sqlite_url))
    with TestClient(app):
        worker = Worker(app, sqlite_url, "ida")
        assert worker.sign_in().status_code == 303
        with session_factory(sqlite_url).begin() as session:
            session.execute(update(StaffSession).values(last_seen_at=utcnow() - timedelta(hours=1, minutes=59)))
        # The console's own refreshes do not count as the worker being there...
        assert worker.api("GET", "/console/api/state").status_code == 200
        assert utcnow() - last_seen(sqlite_url) > timedelta(hours=1, minutes=58)
        # ...what the worker does does.
        assert worker.api("POST", "/console/api/shift", {"on_shift": True}).status_code == 200
        assert utcnow() - last_seen(sqlite_url) < timedelta(minutes=1)
        with session_factory(sqlite_url).begin() as session:
            session.execute(update(StaffSession).values(last_seen_at=utcnow() - timedelta(hours=2, minutes=1)))
        assert worker.api("GET", "/console/api/state").status_code == 401


def last_seen(database_url: str):
    with session_factory(database_url)() as session:
        return session.scalars(select(StaffSession.last_seen_at)).one()


def test_every_answer_carries_the_security_headers(client: TestClient) -> None:
    chat = TeenClient(client)
    for response in (
        client.get("/"),
        client.get("/console/login"),
        client.get(f"/api/conversations/{chat.id}/events", headers=chat.headers),
        client.post("/api/conversations", content=b"x" * 70_000),
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert response.headers["Cache-Control"] == "no-store"
        assert "Strict-Transport-Security" not in response.headers
    assert client.get("/docs").status_code == 404
    assert client.get("/openapi.json").status_code == 200
    secure = TestClient(client.app, base_url="https://testserver")
    assert secure.get("/healthz").headers["Strict-Transport-Security"].startswith("max-age=")


def test_limits_are_counted_together_by_instances_sharing_redis(sqlite_url: str) -> None:
    settings = make_settings(
        sqlite_url,
        redis_url="redis://127.0.0.1:6379/0",
        limit_conversation_messages="3/minute",
        client_key_secret="shared-by-both-instances",
    )
    with TestClient(create_app(settings)) as first, TestClient(create_app(settings)) as second:
        chat = TeenClient(first)
        assert [chat.send(f"message {n}").status_code for n in range(2)] == [202, 202]
        chat.http = second
        assert chat.send("third, to the other instance").status_code == 202
        assert chat.send("fourth").status_code == 429
        assert first.app.state.services.rate_limits.client_key(
            "192.0.2.1"
        ) == second.app.state.services.rate_limits.client_key("192.0.2.1")


def test_a_flood_of_new_cases_raises_one_alert_a_minute(sqlite_url: str) -> None:
    limits = RateLimits(make_settings(sqlite_url, limit_new_cases="2/minute"))

    async def five_new_cases() -> list[bool]:
        return [await limits.case_flood() for _ in range(5)]

    assert asyncio.run(five_new_cases()) == [False, False, True, False, False]


def test_the_in_memory_counts_count_as_the_library_does_and_forget_expired_entries() -> None:
    # InMemoryCounts replaces the library's clean-up scheduler by its name: an upgrade renaming it fails here.
    assert hasattr(MemoryStorage, "_MemoryStorage__schedule_expiry")

    async def counts(storage: MemoryStorage) -> tuple[list[bool], int]:
        limiter, item = MovingWindowRateLimiter(storage), parse("2/second")
        decisions = [await limiter.hit(item, "client") for _ in range(3)]
        await asyncio.sleep(1.1)
        decisions += [await limiter.hit(item, "client") for _ in range(3)]
        decisions.append(await limiter.test(item, "client"))
        return decisions, sum(len(entries) for entries in storage.events.values())

    ours, kept = asyncio.run(counts(InMemoryCounts()))
    assert ours == asyncio.run(counts(MemoryStorage()))[0] == [True, True, False, True, True, False, False]
    # The first two entries ran out after a second, and were dropped before the next count.
    assert kept == 2
