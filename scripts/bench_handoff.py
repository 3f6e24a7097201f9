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
import secrets
import statistics
import sys
import time

import httpx
import websockets

from bot.settings import get_settings
from devtools.console import ConsoleClient, create_account
from devtools.teen import TeenClient, expect
from scripts.running import default_base_url, running_service

MESSAGES = [
    "someone i met online says hell send my nudes to my family unless i pay him £100",
    "my ex says if i dont send more pics hes gonna post the old ones on his story",
    "a man on snapchat keeps threatening to leak my video to my school",
    "this guy has my pics and wants 50 quid by tonight or everyone sees them",
]


def sign_in(http: httpx.Client) -> ConsoleClient:
    """A new worker, signed in and on shift."""
    name = f"bench-{secrets.token_hex(4)}"
    console = ConsoleClient(http, secure_cookies_over_http=True)
    console.sign_in(name, create_account(get_settings().database_url, name))
    console.go_on_shift()
    return console


async def queued_ids(http: httpx.AsyncClient) -> set[int]:
    return {case["id"] for case in (await http.get("/console/api/state")).json()["queue"]}


async def one_case(http: httpx.AsyncClient, teen_http: httpx.Client, stream, text: str) -> float:
    """Time one coercion message to its case in the queue; then claim and close that case only."""
    before = await queued_ids(http)
    expect(TeenClient(teen_http).send(text), 202)
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
        console = sign_in(sync_http)
        headers = {**sync_http.headers, "X-CSRF-Token": console.csrf}
    ws_url = base_url.replace("http", "ws", 1) + "/console/stream"
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=30, headers=headers) as http,
        websockets.connect(ws_url, additional_headers={"Cookie": headers["cookie"]}, origin=base_url) as stream,
    ):
        await stream.recv()
        # The young people's own client: they have no staff cookie.
        with httpx.Client(base_url=base_url, timeout=30) as teen_http:
            return [await one_case(http, teen_http, stream, MESSAGES[index % len(MESSAGES)]) for index in range(cases)]


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
