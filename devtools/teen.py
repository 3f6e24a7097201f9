"""A young person's side of a conversation, through the teen API (the README's contract)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

import httpx


class Http(Protocol):
    """What the clients need of an HTTP client: httpx.Client against a running service, or FastAPI's
    TestClient against the app in the test's own process."""

    def request(self, method: str, url: str, **options: Any) -> Any: ...

    def close(self) -> None: ...


class UnexpectedAnswer(AssertionError):
    """The service answered with another status than the contract promises."""


def expect(response: Any, status: int) -> Any:
    if response.status_code != status:
        raise UnexpectedAnswer(
            f"{response.request.method} {response.request.url.path}: {response.status_code}, not {status}: "
            f"{response.text[:500]}"
        )
    return response


class TeenClient:
    """Starts a conversation and holds its token; sends messages with fresh client message ids."""

    def __init__(self, http: Http, *, nation: str | None = None) -> None:
        self.http = http
        # The nation is what the widget's data-nation sends when a conversation starts.
        started = expect(http.request("POST", "/api/conversations", json={"nation": nation} if nation else None), 201)
        self.id: str = started.json()["conversation_id"]
        self.token: str = started.json()["token"]
        self.headers = {"Authorization": f"Bearer {self.token}"}
        self.sent = 0
        # Every event `say` has collected, in order.
        self.seen: list[dict[str, Any]] = []

    @classmethod
    def at(cls, base_url: str, *, nation: str | None = None) -> TeenClient:
        """A conversation on a running service, with an HTTP client of its own (close() closes it)."""
        return cls(httpx.Client(base_url=base_url, timeout=30), nation=nation)

    @property
    def last_seq(self) -> int:
        return self.seen[-1]["seq"] if self.seen else 0

    def send(self, text: str, **fields: Any) -> Any:
        """POST one message (with any other fields, e.g. a button's payload); the answer as it is."""
        self.sent += 1
        body = {"client_message_id": f"m{self.sent}", "text": text, **fields}
        return self.http.request("POST", f"/api/conversations/{self.id}/messages", json=body, headers=self.headers)

    def events(self, after: int = 0, wait: float = 0) -> list[dict[str, Any]]:
        response = self.http.request(
            "GET", f"/api/conversations/{self.id}/events", params={"after": after, "wait": wait}, headers=self.headers
        )
        return expect(response, 200).json()["events"]

    def say(self, text: str, payload: str | None = None, settle: float = 1.5, timeout: float = 60) -> list[dict]:
        """Send a message and return every event after it (see replies_to)."""
        return self.replies_to(self.acknowledged(text, payload), settle, timeout)

    def acknowledged(self, text: str, payload: str | None = None) -> int:
        """Send a message; its seq once the service has acknowledged it (202)."""
        return expect(self.send(text, **({"payload": payload} if payload else {})), 202).json()["seq"]

    def replies_to(self, seq: int, settle: float = 1.5, timeout: float = 60) -> list[dict]:
        """Every event after the message with this seq, once something other than the young person has
        spoken and then nothing more for `settle` seconds (0: as soon as it has); what came, after `timeout`."""
        new: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answered = any(event["type"] != "user_message" for event in new)
            events = self.events(max([seq - 1, *(event["seq"] for event in new)]), wait=settle if answered else 20)
            if not events and answered:
                break
            new += events
        self.seen += new
        return [event for event in new if event["seq"] > seq]

    def wait_for(self, predicate: Callable[[dict], bool], after: int = 0, timeout: float = 15.0) -> list[dict]:
        """Long-poll until an event satisfies the predicate; every event seen after `after`."""
        seen = self.events(after)
        deadline = time.monotonic() + timeout
        while not any(predicate(event) for event in seen):
            assert time.monotonic() < deadline, f"no matching event in {seen}"
            seen += self.events(seen[-1]["seq"] if seen else after, wait=2)
        return seen

    def close(self) -> None:
        """Close the HTTP client (only for a client made for this conversation alone)."""
        self.http.close()
