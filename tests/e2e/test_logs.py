"""No IP address, token or message text in any log line of the app, Rasa or the action server."""

from __future__ import annotations

import json
import re
import time

from websockets.sync.client import connect

from devtools.console import create_account
from devtools.teen import TeenClient
from tests.running_service import RunningService

# How an access log line names a client: an address and a port before the request.
CLIENT_ADDRESS = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}:\d+ - ")


def test_a_whole_conversation_leaves_no_address_token_or_words_in_any_log(service: RunningService) -> None:
    words = f"my secret words {time.monotonic_ns()} he says he will post my pics"
    young_person = TeenClient.at(service.base_url)
    token = young_person.headers["Authorization"].split()[1]
    stream_url = service.base_url.replace("http", "ws") + f"/api/conversations/{young_person.id}/stream"
    with connect(stream_url) as stream:
        stream.send(json.dumps({"token": token, "after": young_person.last_seq}))
        young_person.say(words)
        assert json.loads(stream.recv(timeout=10))["seq"] > 0
    young_person.say("/restart")
    # A worker signing in, with a wrong password first.
    password = create_account(service.database_url, f"logs{time.monotonic_ns()}")
    young_person.http.post("/console/login", data={"username": "x", "password": password})
    young_person.close()
    time.sleep(2)
    # Everything the three processes wrote since they started (their start-up lines prove the capture works).
    written = service.log.read_text(encoding="utf-8", errors="replace")
    assert "Uvicorn running" in written or "Application startup complete" in written
    for secret in (words, "my secret words", token, service.rasa_token, password, young_person.id + '"'):
        assert secret not in written, f"{secret!r} is in the logs"
    assert not CLIENT_ADDRESS.search(written), CLIENT_ADDRESS.search(written)
    assert "WebSocket /api" not in written
