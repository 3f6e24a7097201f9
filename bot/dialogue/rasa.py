"""A client for the Rasa servers (REST channel and authenticated HTTP API) and the action server.

Several Rasa servers may stand behind the app, sharing one tracker store and Redis lock store
(which serialises a conversation's turns whichever server takes them). Each conversation
prefers one server, so the load spreads evenly, and moves on to the next only when a server
cannot be reached: a request that reached a server is never sent to another, as the first
may have acted on it.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from safeguarding.encoder import MEANING_METADATA

# In the metadata of every message the app tells Rasa: the message's seq in the app's conversation.
# Rasa keeps it in its tracker, so the app can see which messages Rasa has already heard (it says
# nothing about the young person).
MESSAGE_SEQ = "message_seq"


class DialogueUnavailable(Exception):
    """Rasa did not answer, answered with an error, or answered nonsense."""


def servers_in_preference(urls: Sequence[str], sender_id: str) -> list[str]:
    """The servers in the order this conversation tries them: a stable start, then the rest in turn."""
    start = zlib.crc32(sender_id.encode()) % len(urls)
    return [*urls[start:], *urls[:start]]


@dataclass
class RasaClient:
    rasa_urls: Sequence[str]
    token: str
    actions_url: str
    timeout: float
    _http: httpx.AsyncClient = field(init=False)

    def __post_init__(self) -> None:
        self._http = httpx.AsyncClient(timeout=self.timeout)

    async def close(self) -> None:
        await self._http.aclose()

    async def _request(self, method: str, sender_id: str, path: str, **request: Any) -> httpx.Response:
        """Ask the conversation's preferred server that can be reached."""
        unreachable: httpx.HTTPError | None = None
        for url in servers_in_preference(self.rasa_urls, sender_id):
            try:
                response = await self._http.request(method, f"{url}{path}", **request)
            except (httpx.ConnectError, httpx.ConnectTimeout) as error:
                unreachable = error
                continue
            response.raise_for_status()
            return response
        raise unreachable or httpx.ConnectError("no Rasa server configured")

    async def send_message(
        self, sender_id: str, text: str, seq: int, meaning: dict[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """The bot's replies to one message (the app's `seq`): text, buttons and custom payloads. With the
        meaning of the text the app already worked out (safeguarding.encoder.as_metadata), Rasa and the
        action server use it instead of encoding the text again."""
        metadata: dict[str, Any] = {MESSAGE_SEQ: seq}
        if meaning is not None:
            metadata[MEANING_METADATA] = meaning
        try:
            response = await self._request(
                "POST",
                sender_id,
                "/webhooks/rest/webhook",
                json={"sender": sender_id, "message": text, "metadata": metadata},
            )
            replies = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise DialogueUnavailable(type(error).__name__) from error
        if not isinstance(replies, list):
            raise DialogueUnavailable("unexpected reply shape")
        return replies

    async def parse(self, sender_id: str, text: str) -> dict[str, Any]:
        """What the NLU reads in a message (intent and risk-cue entities), without running the dialogue."""
        try:
            response = await self._request(
                "POST", sender_id, "/model/parse", params={"token": self.token}, json={"text": text}
            )
            parse_data = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise DialogueUnavailable(type(error).__name__) from error
        if not isinstance(parse_data, dict):
            raise DialogueUnavailable("unexpected reply shape")
        return parse_data

    async def tracker_events(self, sender_id: str) -> list[dict[str, Any]]:
        """Every event of a conversation's tracker, oldest first."""
        try:
            response = await self._request(
                "GET",
                sender_id,
                f"/conversations/{sender_id}/tracker",
                params={"token": self.token, "include_events": "ALL"},
            )
            events = response.json().get("events")
        except (httpx.HTTPError, ValueError, AttributeError) as error:
            raise DialogueUnavailable(type(error).__name__) from error
        if not isinstance(events, list):
            raise DialogueUnavailable("unexpected reply shape")
        return events

    async def resume(self, sender_id: str) -> None:
        """Let Rasa answer the conversation again. The action that hands a conversation over pauses
        it (ConversationPaused in actions/); while paused, Rasa hears messages and answers nothing."""
        await self._append_events(sender_id, [{"event": "resume"}])

    async def start_session(self, sender_id: str, slots: dict[str, Any]) -> None:
        """Start the conversation's session with these slots set. Rasa reads only the events since the
        latest session start, by time, and a slot sent alone is stamped before the session Rasa then
        starts for it, so the dialogue would never see it (tests/e2e/test_law_and_situations.py)."""
        await self._append_events(
            sender_id,
            [
                {"event": "action", "name": "action_session_start"},
                {"event": "session_started"},
                {"event": "action", "name": "action_listen"},
                *({"event": "slot", "name": name, "value": value} for name, value in slots.items()),
            ],
        )

    async def tell_heard(self, sender_id: str, messages: list[tuple[int, str, dict[str, Any]]]) -> None:
        """Add messages Rasa missed to its tracker, each as the NLU read it (seq, text, parse data),
        without running the dialogue on them."""
        events: list[dict[str, Any]] = []
        for seq, text, parse_data in messages:
            events += [
                {"event": "user", "text": text, "parse_data": parse_data, "metadata": {MESSAGE_SEQ: seq}},
                {"event": "action", "name": "action_listen"},
            ]
        await self._append_events(sender_id, events)

    async def _append_events(self, sender_id: str, events: list[dict[str, Any]]) -> None:
        """Append events to the tracker through Rasa's authenticated API."""
        try:
            await self._request(
                "POST",
                sender_id,
                f"/conversations/{sender_id}/tracker/events",
                params={"token": self.token, "include_events": "NONE"},
                json=events,
            )
        except httpx.HTTPError as error:
            raise DialogueUnavailable(type(error).__name__) from error

    async def model_loaded(self) -> bool:
        """Some Rasa server has a model loaded: the conversations of one that is down move to the others."""
        for url in self.rasa_urls:
            try:
                response = await self._http.get(f"{url}/status", params={"token": self.token}, timeout=3)
                if response.status_code == 200 and response.json().get("model_file"):
                    return True
            except (httpx.HTTPError, ValueError):
                continue
        return False

    async def actions_healthy(self) -> bool:
        try:
            response = await self._http.get(f"{self.actions_url}/health", timeout=3)
            return response.status_code == 200
        except httpx.HTTPError:
            return False
