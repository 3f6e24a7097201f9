"""How long from a coercion message to the case showing in the helpline queue.

    python -m scripts.bench_handoff [--cases 30] [--base-url URL]

Sends coercion messages through the teen API, one new conversation each, and
times from the message's acknowledgement until the case appears in a signed-in
worker's queue (woken by the console's WebSocket, as the console is). Each case
is then claimed and closed (only the benchmark's own cases) so the queue stays short. Prints p50, p95 and max.
Starts the service if it is not running (its own database then, under var/).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import secrets
import statistics
import sys
import time

import httpx
import websockets

from bot.database import session_factory, session_scope
from bot.settings import get_settings
from bot.staff import service as staff
from bot.staff.models import Role
from scripts.running import default_base_url, running_service

MESSAGES = [
    "someone i met online says hell send my nudes to my family unless i pay him £100",
    "my ex says if i dont send more pics hes gonna post the old ones on his story",
    "a man on snapchat keeps threatening to leak my video to my school",
    "this guy has my pics and wants 50 quid by tonight or everyone sees them",
]


def send_all_cookies(http: httpx.Client) -> None:
    """Send the Secure cookies too: a browser does on a loopback origin over plain HTTP, httpx does not."""
    http.headers["Cookie"] = "; ".join(f"{cookie.name}={cookie.value}" for cookie in http.cookies.jar)


def sign_in(http: httpx.Client) -> None:
    name = f"bench-{secrets.token_hex(4)}"
    with session_scope(session_factory(get_settings().database_url)) as session:
        _, password = staff.create_user(name, Role.STAFF, session=session)
    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get("/console/login").text).group(1)
    send_all_cookies(http)
    http.post("/console/login", data={"username": name, "password": password, "csrf_token": token})
    send_all_cookies(http)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', http.get("/console").text).group(1)
    http.headers["X-CSRF-Token"] = csrf
    http.post("/console/api/shift", json={"on_shift": True}).raise_for_status()


async def queued_ids(http: httpx.AsyncClient) -> set[int]:
    return {case["id"] for case in (await http.get("/console/api/state")).json()["queue"]}


async def one_case(http: httpx.AsyncClient, stream, text: str) -> float:
    """Time one coercion message to its case in the queue; then claim and close that case only."""
    before = await queued_ids(http)
    created = (await http.post("/api/conversations")).json()
    sent = await http.post(
        f"/api/conversations/{created['conversation_id']}/messages",
        json={"client_message_id": "bench", "text": text},
        headers={"Authorization": f"Bearer {created['token']}"},
    )
    sent.raise_for_status()
    acknowledged = time.perf_counter()
    while not (new := await queued_ids(http) - before):
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stream.recv(), timeout=5)
    elapsed = time.perf_counter() - acknowledged
    for case_id in new:
        await http.post(f"/console/api/cases/{case_id}/claim")
        await http.post(f"/console/api/cases/{case_id}/close", json={"outcome": "no_further_action"})
    return elapsed


async def measure(base_url: str, cases: int) -> list[float]:
    with httpx.Client(base_url=base_url, timeout=30) as sync_http:
        sign_in(sync_http)
        headers = dict(sync_http.headers)
    ws_url = base_url.replace("http", "ws", 1) + "/console/stream"
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=30, headers=headers) as http,
        websockets.connect(ws_url, additional_headers={"Cookie": headers["cookie"]}, origin=base_url) as stream,
    ):
        await stream.recv()
        timings = []
        for index in range(cases):
            timings.append(await one_case(http, stream, MESSAGES[index % len(MESSAGES)]))
        return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=30)
    parser.add_argument("--base-url", default=default_base_url())
    args = parser.parse_args()
    with running_service(args.base_url):
        timings = asyncio.run(measure(args.base_url, args.cases))
    milliseconds = sorted(t * 1000 for t in timings)
    p95 = milliseconds[max(0, round(0.95 * len(milliseconds)) - 1)]
    print(f"coercion message -> case in the staff queue, {len(milliseconds)} cases:")
    print(f"  p50 {statistics.median(milliseconds):.0f} ms   p95 {p95:.0f} ms   max {milliseconds[-1]:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
