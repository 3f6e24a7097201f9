"""Locust scenarios: young people chatting, helpline workers answering, and the bare Rasa webhook.

    locust -f tests/load/locustfile.py --host http://127.0.0.1:8000 YoungPerson HelplineWorker
    locust -f tests/load/locustfile.py --host http://127.0.0.1:5005 RasaWebhookUser

Every simulated young person sends the next message only once the previous one is answered
(no thinking time: the load is as heavy as the service lets it be). Besides the HTTP requests,
each answer is reported as a request of type REPLY, so that Locust's tables and CSV files hold
what the bench compares (scripts/bench.py):

- "message to first reply": from sending a message through the teen API to the first event the
  service adds after it (a bot message, or the status change of a handoff);
- "webhook reply": the same message through Rasa's REST webhook alone, no app in front;
- "handoff to queue": from the message's acknowledgement to the handoff's status event, stored in
  the same transaction as the case, so the moment the case is in the helpline queue;
- a message not answered within REPLY_TIMEOUT_SECONDS is a REPLY failure, "lost".

Helpline workers (BENCH_STAFF="name:password,...", accounts the bench creates) keep the queue
short as a shift would: take the most urgent case, answer it, close it.
"""

from __future__ import annotations

import itertools
import os
import re
import time
import uuid

from locust import HttpUser, between, constant, task

from tests.load.mix import ConversationMix

REPLY_TIMEOUT_SECONDS = 30
LONG_POLL_SECONDS = 20
WORKER_ANSWER = "Thanks for telling us. I'm a helpline worker and I'm here now. You're not in trouble."

_seeds = itertools.count()


def report_reply(user: HttpUser, name: str, started: float, error: Exception | None = None) -> None:
    user.environment.events.request.fire(
        request_type="REPLY",
        name=name,
        response_time=(time.perf_counter() - started) * 1000,
        response_length=0,
        exception=error,
        context={},
    )


class NotAnswered(Exception):
    pass


class ConversationUser(HttpUser):
    """Plays whole conversations of the mix, one after another, without pause."""

    abstract = True
    wait_time = constant(0)
    weight = 1

    def on_start(self) -> None:
        self.mix = ConversationMix(seed=next(_seeds))


class YoungPerson(ConversationUser):
    """Chats through the teen API as the widget does (long-polling for events)."""

    @task
    def one_conversation(self) -> None:
        started = self.client.post("/api/conversations", name="POST /api/conversations")
        if started.status_code != 201:
            return
        conversation_id, token = started.json()["conversation_id"], started.json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        for number, text in enumerate(self.mix.next_conversation(), start=1):
            if self._say(conversation_id, headers, number, text) == "handed_off":
                # A person takes over: the bot says nothing more, and the worker answers.
                return

    def _say(self, conversation_id: str, headers: dict[str, str], number: int, text: str) -> str:
        sent_at = time.perf_counter()
        response = self.client.post(
            f"/api/conversations/{conversation_id}/messages",
            json={"client_message_id": f"load-{number}", "text": text},
            headers=headers,
            name="POST /api/conversations/{id}/messages",
        )
        if response.status_code != 202:
            return "refused"
        acknowledged_at = time.perf_counter()
        after = response.json()["seq"]
        deadline = sent_at + REPLY_TIMEOUT_SECONDS
        while time.perf_counter() < deadline:
            events = self.client.get(
                f"/api/conversations/{conversation_id}/events",
                params={"after": after, "wait": LONG_POLL_SECONDS},
                headers=headers,
                name="GET /api/conversations/{id}/events (long poll)",
            )
            if events.status_code != 200:
                continue
            replies = [event for event in events.json()["events"] if event["type"] != "user_message"]
            if replies:
                report_reply(self, "message to first reply", sent_at)
                if any(event.get("status") == "waiting_for_human" for event in replies):
                    report_reply(self, "handoff to queue", acknowledged_at)
                    return "handed_off"
                return "answered"
        report_reply(self, "message to first reply", sent_at, NotAnswered("lost: no reply in time"))
        return "lost"


class RasaWebhookUser(ConversationUser):
    """The same conversations straight into a Rasa server's REST channel: the bare project bot, or the stock one."""

    @task
    def one_conversation(self) -> None:
        sender = uuid.uuid4().hex
        for text in self.mix.next_conversation():
            sent_at = time.perf_counter()
            with self.client.post(
                "/webhooks/rest/webhook",
                json={"sender": sender, "message": text},
                name="POST /webhooks/rest/webhook",
                timeout=REPLY_TIMEOUT_SECONDS,
                catch_response=True,
            ) as response:
                replies = response.json() if response.ok else None
                if not replies:
                    response.failure("lost: no reply")
                    report_reply(self, "webhook reply", sent_at, NotAnswered("lost: no reply"))
                    return
                response.success()
            report_reply(self, "webhook reply", sent_at)
            if any((reply.get("custom") or {}).get("safety", {}).get("action") == "handoff" for reply in replies):
                # Rasa pauses a handed-off conversation, as in the full path.
                return


class HelplineWorker(HttpUser):
    """A worker on shift at the console: takes the most urgent case, answers, closes it."""

    wait_time = between(1, 2)
    # Two workers, however many young people (they are given first).
    fixed_count = 2
    _accounts = itertools.count()

    def on_start(self) -> None:
        accounts = [entry.split(":", 1) for entry in os.environ.get("BENCH_STAFF", "").split(",") if entry]
        if not accounts:
            raise RuntimeError("HelplineWorker needs BENCH_STAFF=name:password,...")
        name, password = accounts[next(self._accounts) % len(accounts)]
        login_page = self.client.get("/console/login", name="GET /console/login").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
        self.client.post(
            "/console/login",
            data={"username": name, "password": password, "csrf_token": csrf},
            name="POST /console/login",
        )
        console = self.client.get("/console", name="GET /console").text
        self.client.headers["X-CSRF-Token"] = re.search(r'name="csrf-token" content="([^"]+)"', console).group(1)
        self.client.post("/console/api/shift", json={"on_shift": True}, name="POST /console/api/shift")

    @task
    def take_the_next_case(self) -> None:
        state = self.client.get("/console/api/state", name="GET /console/api/state")
        if state.status_code != 200 or not state.json()["queue"]:
            return
        with self.client.post("/console/api/next", name="POST /console/api/next", catch_response=True) as taken:
            if taken.status_code == 409:
                # Another worker took it first: not an error.
                taken.success()
                return
        if taken.status_code != 200:
            return
        case_id = taken.json()["id"]
        self.client.post(
            f"/console/api/cases/{case_id}/messages",
            json={"text": WORKER_ANSWER},
            name="POST /console/api/cases/{id}/messages",
        )
        self.client.post(
            f"/console/api/cases/{case_id}/close",
            json={"outcome": "no_further_action"},
            name="POST /console/api/cases/{id}/close",
        )
