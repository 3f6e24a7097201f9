"""A client for the Rasa server (REST channel and authenticated HTTP API) and the action server."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx


class DialogueUnavailable(Exception):
    """Rasa did not answer, answered with an error, or answered nonsense."""


@dataclass
class RasaClient:
    rasa_url: str
    token: str
    actions_url: str
    timeout: float
    _http: httpx.AsyncClient = field(init=False)

    def __post_init__(self) -> None:
        self._http = httpx.AsyncClient(timeout=self.timeout)

    async def close(self) -> None:
        await self._http.aclose()

    async def send_message(self, sender_id: str, text: str) -> list[dict[str, Any]]:
        """The bot's replies to one message: text, buttons and custom payloads."""
        try:
            response = await self._http.post(
                f"{self.rasa_url}/webhooks/rest/webhook", json={"sender": sender_id, "message": text}
            )
            response.raise_for_status()
            replies = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise DialogueUnavailable(type(error).__name__) from error
        if not isinstance(replies, list):
            raise DialogueUnavailable("unexpected reply shape")
        return replies

    async def parse(self, text: str) -> dict[str, Any]:
        """What the NLU reads in a message (intent and risk-cue entities), without running the dialogue."""
        try:
            response = await self._http.post(
                f"{self.rasa_url}/model/parse", params={"token": self.token}, json={"text": text}
            )
            response.raise_for_status()
            parse_data = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise DialogueUnavailable(type(error).__name__) from error
        if not isinstance(parse_data, dict):
            raise DialogueUnavailable("unexpected reply shape")
        return parse_data

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

    async def tell_heard(self, sender_id: str, messages: list[tuple[str, dict[str, Any]]]) -> None:
        """Add messages Rasa missed to its tracker, each as the NLU read it (text, parse data),
        without running the dialogue on them."""
        events: list[dict[str, Any]] = []
        for text, parse_data in messages:
            events += [
                {"event": "user", "text": text, "parse_data": parse_data},
                {"event": "action", "name": "action_listen"},
            ]
        await self._append_events(sender_id, events)

    async def _append_events(self, sender_id: str, events: list[dict[str, Any]]) -> None:
        """Append events to the tracker through Rasa's authenticated API."""
        try:
            response = await self._http.post(
                f"{self.rasa_url}/conversations/{sender_id}/tracker/events",
                params={"token": self.token, "include_events": "NONE"},
                json=events,
            )
            response.raise_for_status()
        except httpx.HTTPError as error:
            raise DialogueUnavailable(type(error).__name__) from error

    async def model_loaded(self) -> bool:
        try:
            response = await self._http.get(f"{self.rasa_url}/status", params={"token": self.token}, timeout=3)
            return response.status_code == 200 and bool(response.json().get("model_file"))
        except (httpx.HTTPError, ValueError):
            return False

    async def actions_healthy(self) -> bool:
        try:
            response = await self._http.get(f"{self.actions_url}/health", timeout=3)
            return response.status_code == 200
        except httpx.HTTPError:
            return False
