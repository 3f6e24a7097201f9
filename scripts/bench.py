"""`make bench`: the project's cost under load, headless, in one run (about 12 minutes on 2 cores).

    python -m scripts.bench [--users 1,10,20,50] [--duration 30] [--profile]

Starts the whole service (as `make run` does) on spare ports with fresh SQLite files, and the
stock `rasa init` bot (built and trained once, cached under build/stock-rasa-init), then with
Locust (tests/load/locustfile.py), the same message mix at each number of users:

- the bare project Rasa: its REST webhook, no app in front;
- the full path: the teen API, from sending a message to its first reply event, with two
  helpline workers on the console taking, answering and closing the cases;
- the stock `rasa init` bot's REST webhook, for what Rasa itself costs on this machine.

It prints p50/p95/p99, messages per second, errors and lost messages, the full/bare ratios,
handoff-to-queue latency under load, the latency by position in one long conversation, and the
peak resident memory of each process; writes reports/bench/bench.json and bench.png.

Only ratios measured in one run compare: the machine is shared, absolute figures drift.

--profile runs only the full path at 20 users, with py-spy sampling the app, Rasa and the action
server, and prints where each spends its time (raw stacks in reports/bench/profile/).
"""

from __future__ import annotations

import argparse
import collections
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import httpx
import psutil

from bot.content import load_content
from bot.conversation.models import Event, EventType
from bot.database import session_factory, session_scope, upgrade_database
from bot.settings import PROJECT_ROOT, get_settings
from bot.staff import service as staff
from bot.staff.models import Role
from devtools.processes import free_port
from safeguarding.assessment import Assessor, Turn
from safeguarding.encoder import SentenceEncoder
from safeguarding.reader import MessageReader
from safeguarding.risk_model import DEFAULT_MODEL_PATH, RiskModel, RiskReader, load_risk_reader
from safeguarding.vocabulary import Action
from scripts.running import running_service
from tests.load.mix import CONVERSATIONS, conversations

REPORTS = PROJECT_ROOT / "reports" / "bench"
LOCUSTFILE = PROJECT_ROOT / "tests" / "load" / "locustfile.py"
STOCK_BOT = PROJECT_ROOT / "build" / "stock-rasa-init"
RASA = PROJECT_ROOT / ".venv" / "rasa" / "bin" / "rasa"
PY_SPY = Path(sys.executable).parent / "py-spy"
STOCK_USERS = 20
WORKERS = 2
# After the load stops, the messages in flight are given this long to be answered while they still
# are being (50 users leave a backlog); one still unanswered once nothing moves for QUIET_SECONDS is lost.
SETTLE_SECONDS = 90
QUIET_SECONDS = 15


# --- the processes under test ------------------------------------------------


def service_environment(folder: Path) -> dict[str, str]:
    """Spare ports and fresh databases, so the bench never touches `make run`'s service or data."""
    return {
        "BOT_PORT": str(free_port()),
        "RASA_PORT": str(free_port()),
        "ACTIONS_PORT": str(free_port()),
        "BOT_DATABASE_URL": f"sqlite:///{folder / 'app.sqlite3'}",
        "RASA_TRACKER_URL": f"sqlite:///{folder / 'tracker.sqlite3'}",
        "BOT_COOKIE_SECURE": "0",
        # One client address plays every young person and worker: the per-client and
        # per-conversation limits, meant for real people, would refuse the load itself.
        "BOT_LIMIT_CLIENT_REQUESTS": "1000000/minute",
        "BOT_LIMIT_CLIENT_CONVERSATIONS": "1000000/minute",
        "BOT_LIMIT_CONVERSATION_MESSAGES": "1000000/minute",
        "BOT_LIMIT_NEW_CASES": "1000000/minute",
    }


def role_of(process: psutil.Process) -> str | None:
    command = " ".join(process.cmdline())
    if "rasa_sdk" in command:
        return "action server"
    if "channels.server" in command:
        return "rasa"
    if "uvicorn" in command:
        return "app"
    return None


class MemorySampler:
    """The peak resident memory of each named process, sampled every second in the background."""

    def __init__(self) -> None:
        self.processes: dict[str, psutil.Process] = {}
        self.peak_mb: dict[str, float] = collections.defaultdict(float)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def watch(self, name: str, process: psutil.Process) -> None:
        self.processes[name] = process

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(1):
            for name, process in list(self.processes.items()):
                try:
                    self.peak_mb[name] = max(self.peak_mb[name], process.memory_info().rss / 2**20)
                except psutil.NoSuchProcess:
                    self.processes.pop(name, None)


LOAD_GENERATOR = "load generator"


def cpu_seconds(processes: dict[str, psutil.Process]) -> dict[str, float]:
    """CPU time so far of each process, and of the Locust runs this one has waited for."""
    used = {name: sum(process.cpu_times()[:2]) for name, process in processes.items()}
    own = psutil.Process().cpu_times()
    return {**used, LOAD_GENERATOR: own.children_user + own.children_system}


def with_cpu_time(processes: dict[str, psutil.Process], step: Callable[[], dict]) -> dict:
    """A step's figures, with the CPU time each process spent per answered message: what sizing needs,
    and where the full path's cost over bare Rasa goes."""
    before = cpu_seconds(processes)
    figures = step()
    after = cpu_seconds(processes)
    messages = figures.get("messages") or 0
    figures["cpu_ms_per_message"] = (
        {name: round(1000 * (after[name] - before[name]) / messages, 1) for name in after} if messages else {}
    )
    return figures


def service_processes(supervisor: subprocess.Popen) -> dict[str, psutil.Process]:
    found = {}
    for child in psutil.Process(supervisor.pid).children(recursive=True):
        if (role := role_of(child)) is not None:
            found[role] = child
    return found


def stock_bot_model() -> Path:
    """The stock `rasa init` bot, built and trained once on this machine."""
    models = sorted((STOCK_BOT / "models").glob("*.tar.gz"))
    if models:
        return models[-1]
    print("building and training the stock `rasa init` bot once (a few minutes) ...", flush=True)
    STOCK_BOT.mkdir(parents=True, exist_ok=True)
    with open(REPORTS / "stock-rasa-init.log", "wb") as log:
        subprocess.run(
            [str(RASA), "init", "--no-prompt", "--init-dir", str(STOCK_BOT)], check=True, stdout=log, stderr=log
        )
    return sorted((STOCK_BOT / "models").glob("*.tar.gz"))[-1]


def start_stock_bot(port: int) -> subprocess.Popen:
    model = stock_bot_model()
    log = open(REPORTS / "stock-rasa.log", "wb")  # noqa: SIM115 (lives as long as the process)
    process = subprocess.Popen(
        [str(RASA), "run", "-i", "127.0.0.1", "-p", str(port), "--model", str(model)],
        cwd=STOCK_BOT,
        stdout=log,
        stderr=log,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise SystemExit(f"the stock bot did not start; see {REPORTS / 'stock-rasa.log'}")


# --- one Locust step -----------------------------------------------------------


def locust_step(
    label: str, host: str, users: list[str], count: int, duration: int, env: dict[str, str]
) -> dict[str, dict[str, str]]:
    """Run Locust headless for `duration` seconds; its stats rows by name."""
    prefix = REPORTS / "locust" / label
    prefix.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--only-summary",
        "--host",
        host,
        "--users",
        str(count),
        "--spawn-rate",
        str(count),
        "--run-time",
        f"{duration}s",
        "--csv",
        str(prefix),
        "--exit-code-on-error",
        "0",
        "--loglevel",
        "WARNING",
        *users,
    ]
    with open(f"{prefix}.log", "wb") as log:
        subprocess.run(command, cwd=PROJECT_ROOT, env={**os.environ, **env}, stdout=log, stderr=log, check=True)
    with open(f"{prefix}_stats.csv", newline="") as stats:
        return {f"{row['Type']} {row['Name']}": row for row in csv.DictReader(stats)}


def summarise(rows: dict[str, dict[str, str]], reply: str) -> dict[str, float]:
    row = rows.get(f"REPLY {reply}")
    http_errors = sum(
        int(r["Failure Count"]) for key, r in rows.items() if not key.startswith("REPLY") and r["Name"] != "Aggregated"
    )
    if row is None:
        return {"messages": 0, "errors": http_errors, "lost": 0}
    return {
        "messages": int(row["Request Count"]),
        "p50_ms": float(row["50%"]),
        "p95_ms": float(row["95%"]),
        "p99_ms": float(row["99%"]),
        "messages_per_second": float(row["Requests/s"]),
        "errors": http_errors,
        "lost": int(row["Failure Count"]),
    }


def handoff_to_queue(rows: dict[str, dict[str, str]]) -> dict[str, float] | None:
    row = rows.get("REPLY handoff to queue")
    if row is None or not int(row["Request Count"]):
        return None
    return {"cases": int(row["Request Count"]), "p50_ms": float(row["50%"]), "p95_ms": float(row["95%"])}


class AppDatabase:
    """What the run's own database says: messages never answered, and fail-safe replies (Rasa too slow)."""

    def __init__(self, url: str) -> None:
        self.sessions = session_factory(url)
        self.failsafe_text = load_content(get_settings().content_dir).messages("failsafe")[0]

    def create_workers(self) -> str:
        accounts = []
        with session_scope(self.sessions) as session:
            for number in range(WORKERS):
                _, password = staff.create_user(f"bench-worker-{number}", Role.STAFF, session=session)
                accounts.append(f"bench-worker-{number}:{password}")
        return ",".join(accounts)

    def counts(self) -> dict[str, int]:
        with session_scope(self.sessions) as session:
            unanswered = session.query(Event).filter(Event.awaiting_dialogue.is_(True)).count()
            bot_texts = session.query(Event.payload).filter(Event.type == EventType.BOT_MESSAGE.value).all()
        return {
            "unanswered": unanswered,
            "failsafe_replies": sum(1 for (payload,) in bot_texts if payload.get("text") == self.failsafe_text),
        }


def settled_counts(database: AppDatabase) -> dict[str, int]:
    """The database's counts once every message is answered, or nothing has been for QUIET_SECONDS."""
    deadline = time.monotonic() + SETTLE_SECONDS
    counts = database.counts()
    last_change = time.monotonic()
    while counts["unanswered"] and time.monotonic() < deadline and time.monotonic() - last_change < QUIET_SECONDS:
        time.sleep(1)
        latest = database.counts()
        if latest["unanswered"] != counts["unanswered"]:
            last_change = time.monotonic()
        counts = latest
    return counts


def bare_step(label: str, rasa_url: str, users: int, duration: int) -> dict:
    """Young people talking to a Rasa server's REST webhook directly."""
    return summarise(locust_step(label, rasa_url, ["RasaWebhookUser"], users, duration, {}), "webhook reply")


def full_path_step(
    label: str, base_url: str, users: int, duration: int, staff_accounts: str, database: AppDatabase
) -> dict:
    before = database.counts()
    rows = locust_step(
        label, base_url, ["YoungPerson", "HelplineWorker"], users + WORKERS, duration, {"BENCH_STAFF": staff_accounts}
    )
    after = settled_counts(database)
    return {
        **summarise(rows, "message to first reply"),
        "never_answered": after["unanswered"],
        "failsafe_replies": after["failsafe_replies"] - before["failsafe_replies"],
        "handoff_to_queue": handoff_to_queue(rows),
    }


# --- one long conversation ---------------------------------------------------

LONG_CONVERSATION_MESSAGES = 40


def long_harmless_conversation(reader: MessageReader, assessor: Assessor) -> list[str]:
    """One long conversation whose length alone grows: the turns of the project's no-escalation
    conversations, in order, skipping any that the assessment, reading everything said before it,
    would hand to a person (joined together, some harmless conversations add up to a disclosure)."""
    turns: list[Turn] = []
    for row in conversations():
        for text in row["turns"] if row["expect"] == "no_escalate" else []:
            candidate = [*turns, Turn(reader.read(text), text=text)]
            if assessor.assess(candidate).action == Action.NONE:
                turns = candidate
            if len(turns) == LONG_CONVERSATION_MESSAGES:
                return [turn.text for turn in turns]
    raise SystemExit(f"fewer than {LONG_CONVERSATION_MESSAGES} harmless messages in {CONVERSATIONS}")


def long_conversation(base_url: str, messages: list[str]) -> dict:
    """Time to the first reply of each message of one long conversation of harmless messages, alone."""
    timings: list[float] = []
    with httpx.Client(base_url=base_url, timeout=60) as http:
        started = http.post("/api/conversations").json()
        conversation = f"/api/conversations/{started['conversation_id']}"
        headers = {"Authorization": f"Bearer {started['token']}"}
        for number, text in enumerate(messages, start=1):
            sent_at = time.perf_counter()
            after = http.post(
                f"{conversation}/messages", json={"client_message_id": f"long-{number}", "text": text}, headers=headers
            ).json()["seq"]
            while True:
                events = http.get(f"{conversation}/events", params={"after": after, "wait": 20}, headers=headers)
                replies = [e for e in events.json()["events"] if e["type"] != "user_message"]
                if replies:
                    break
            timings.append((time.perf_counter() - sent_at) * 1000)
            if any(event.get("status") == "waiting_for_human" for event in replies):
                raise SystemExit(f"the long conversation was handed to a person at message {number}: not harmless")
    first, later = statistics.median(timings[:10]), statistics.median(timings[30:40])
    return {
        "messages": len(timings),
        "p50_1_10_ms": first,
        "p50_31_40_ms": later,
        "ratio": later / first,
        "ms": timings,
    }


def assessment_by_length(messages: list[str], reader: MessageReader) -> dict:
    """What the action server's risk assessment alone costs at each message of the long conversation, as
    it runs: reading the whole conversation so far, the newest message new to the encoder. Each turn is
    then assessed twice more, every message known to the encoder, and the fastest of the three kept:
    this process competes for the CPU with whatever else the machine runs."""
    # A fresh encoder: it has seen none of these messages, as the action server's has not.
    assessor = Assessor(
        reader.lexicon, risk_reader=RiskReader(RiskModel.load(DEFAULT_MODEL_PATH), reader.lexicon, SentenceEncoder())
    )
    turns: list[Turn] = []
    with_new_message: list[float] = []
    rereading: list[float] = []
    for text in messages:
        turns.append(Turn(reader.read(text), text=text))
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            assessor.assess(turns)
            timings.append((time.perf_counter() - started) * 1000)
        with_new_message.append(timings[0])
        rereading.append(min(timings[1:]))
    return {
        "p50_1_10_ms": statistics.median(with_new_message[:10]),
        "p50_31_40_ms": statistics.median(with_new_message[30:40]),
        "rereading_p50_1_10_ms": statistics.median(rereading[:10]),
        "rereading_p50_31_40_ms": statistics.median(rereading[30:40]),
        "ms": with_new_message,
        "rereading_ms": rereading,
    }


# --- profile -----------------------------------------------------------------


def profile_step(base_url: str, processes: dict[str, psutil.Process], duration: int, staff: str, database) -> None:
    folder = REPORTS / "profile"
    folder.mkdir(parents=True, exist_ok=True)
    samplers = {
        name: subprocess.Popen(
            [str(PY_SPY), "record", "--nonblocking", "--rate", "50", "--duration", str(duration)]
            + ["--format", "raw", "--pid", str(process.pid), "--output", str(folder / f"{name.replace(' ', '_')}.txt")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, process in processes.items()
    }
    full_path_step("profile-full-20", base_url, 20, duration, staff, database)
    for sampler in samplers.values():
        sampler.wait(timeout=120)
    for name in samplers:
        print_profile(name, folder / f"{name.replace(' ', '_')}.txt")


# Frames that only carry the others (the event loop, thread pools, the server's request plumbing).
PLUMBING = ("sanic/", "asyncio/", "anyio/", "concurrent/", "runpy", "threading.py", "dask/", "connection_task")


def print_profile(name: str, raw: Path, top: int = 15) -> None:
    """Where one process spent its busy samples, from py-spy's collapsed stacks: the functions that
    ran (self), and the functions below which the time went (inclusive), plumbing left out."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames, samples = stack.split(";"), int(count)
        total += samples
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    share = {frame: samples / max(total, 1) for frame, samples in inclusive.items()}
    print(f"\n{name}: {total} busy samples")
    for frame, samples in own.most_common(top // 2):
        print(f"  self {100 * samples / max(total, 1):5.1f}%  {frame}")
    below = [f for f, _ in inclusive.most_common() if share[f] < 0.9 and not any(p in f for p in PLUMBING)]
    for frame in below[:top]:
        print(f"  incl {100 * share[frame]:5.1f}%  {frame}")


# --- report ------------------------------------------------------------------


def ratio(full: float | None, bare: float | None) -> float | None:
    return round(full / bare, 2) if full and bare else None


def print_tables(results: dict) -> None:
    print("\nusers | path | p50 / p95 / p99 ms | msg/s | errors | lost")
    for users in results["users"]:
        for path in ("bare", "full"):
            step = results[path][str(users)]
            if not step.get("messages"):
                print(f"{users:>5} | {path} | no message answered | | {step['errors']} | {step['lost']}")
                continue
            print(
                f"{users:>5} | {path} | {step['p50_ms']:.0f} / {step['p95_ms']:.0f} / {step['p99_ms']:.0f}"
                f" | {step['messages_per_second']:.1f} | {step['errors']} | {step['lost']}"
            )
    print("\nusers | full/bare p50 | full/bare p95 | full/bare msg/s | never answered | fail-safe replies")
    for users in results["users"]:
        bare, full = results["bare"][str(users)], results["full"][str(users)]
        print(
            f"{users:>5} | {ratio(full.get('p50_ms'), bare.get('p50_ms'))} | {ratio(full.get('p95_ms'), bare.get('p95_ms'))}"
            f" | {ratio(full.get('messages_per_second'), bare.get('messages_per_second'))}"
            f" | {full['never_answered']} | {full['failsafe_replies']}"
        )
    print("\nCPU ms per answered message (app / rasa / action server / load generator):")
    for users in results["users"]:
        for path in ("bare", "full"):
            cpu = results[path][str(users)].get("cpu_ms_per_message") or {}
            shares = " / ".join(f"{cpu.get(name, 0):.0f}" for name in ("app", "rasa", "action server", LOAD_GENERATOR))
            print(f"{users:>5} | {path} | {shares}")
    print("\nhandoff to queue (acknowledged message to case queued), under load:")
    for users in results["users"]:
        handoff = results["full"][str(users)]["handoff_to_queue"]
        if handoff:
            print(
                f"  {users:>3} users: {handoff['cases']} cases, p50 {handoff['p50_ms']:.0f} ms, p95 {handoff['p95_ms']:.0f} ms"
            )
    if "stock" in results:
        stock, saturated = results["stock"], max(s.get("messages_per_second", 0) for s in results["bare"].values())
        print(
            f"\nstock `rasa init` bot, {STOCK_USERS} users: p50 {stock.get('p50_ms', 0):.0f} ms,"
            f" {stock.get('messages_per_second', 0):.1f} msg/s; project bare saturation {saturated:.1f} msg/s"
            f" = {ratio(saturated, stock.get('messages_per_second'))} of stock"
        )
    long = results["long_conversation"]
    print(
        f"\none conversation of {long['messages']} harmless messages, alone: median first reply"
        f" {long['p50_1_10_ms']:.0f} ms for messages 1-10, {long['p50_31_40_ms']:.0f} ms for 31-40"
        f" (ratio {long['ratio']:.2f})"
    )
    assessment = results["assessment_by_length"]
    print(
        f"  the risk assessment alone (in this process): {assessment['p50_1_10_ms']:.1f} ms for 1-10,"
        f" {assessment['p50_31_40_ms']:.1f} ms for 31-40; of which rereading the conversation (every"
        f" message already encoded) {assessment['rereading_p50_1_10_ms']:.1f} ms and"
        f" {assessment['rereading_p50_31_40_ms']:.1f} ms"
    )
    memory = results["peak_resident_mb"]
    print("\npeak resident memory: " + ", ".join(f"{name} {mb:.0f} MB" for name, mb in memory.items()))
    print(f"project total {sum(mb for name, mb in memory.items() if name != 'stock rasa'):.0f} MB")


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    users = results["users"]
    figure, (latency, throughput, length) = plt.subplots(1, 3, figsize=(15, 4.5))
    for name, colour in (("bare", "tab:blue"), ("full", "tab:orange")):
        steps = [results[name][str(n)] for n in users]
        latency.plot(users, [s.get("p50_ms", 0) for s in steps], "o-", color=colour, label=f"{name} p50")
        latency.plot(users, [s.get("p95_ms", 0) for s in steps], "o--", color=colour, label=f"{name} p95")
        throughput.plot(users, [s.get("messages_per_second", 0) for s in steps], "o-", color=colour, label=name)
    if "stock" in results:
        throughput.axhline(
            results["stock"].get("messages_per_second", 0), color="grey", ls=":", label="stock rasa init"
        )
    latency.set(title="Latency to first reply", xlabel="simulated young people", ylabel="ms")
    throughput.set(title="Messages answered per second", xlabel="simulated young people", ylabel="msg/s")
    long = results["long_conversation"]["ms"]
    length.plot(range(1, len(long) + 1), long, ".-", color="tab:green", label="full path")
    assessment = results["assessment_by_length"]["ms"]
    length.plot(range(1, len(assessment) + 1), assessment, ".-", color="tab:red", label="risk assessment alone")
    rereading = results["assessment_by_length"]["rereading_ms"]
    length.plot(range(1, len(rereading) + 1), rereading, ".-", color="tab:purple", label="of which rereading")
    length.legend()
    length.set(title="One long conversation, alone", xlabel="message number", ylabel="ms to first reply")
    for axes in (latency, throughput):
        axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", default="1,10,20,50", help="numbers of simulated young people, comma-separated")
    parser.add_argument("--duration", type=int, default=30, help="seconds of load per step")
    parser.add_argument("--profile", action="store_true", help="profile the full path at 20 users instead")
    args = parser.parse_args()
    REPORTS.mkdir(parents=True, exist_ok=True)
    users = [int(n) for n in args.users.split(",")]

    folder = Path(tempfile.mkdtemp(prefix="bench-"))
    environment = service_environment(folder)
    os.environ.update(environment)
    upgrade_database(environment["BOT_DATABASE_URL"])
    database = AppDatabase(environment["BOT_DATABASE_URL"])
    staff_accounts = database.create_workers()
    base_url = f"http://127.0.0.1:{environment['BOT_PORT']}"
    rasa_url = f"http://127.0.0.1:{environment['RASA_PORT']}"
    sampler = MemorySampler()
    results: dict = {"users": users, "duration_seconds": args.duration, "bare": {}, "full": {}}

    if not args.profile:
        reader = MessageReader()
        long_messages = long_harmless_conversation(reader, Assessor(reader.lexicon, risk_reader=load_risk_reader()))
        results["assessment_by_length"] = assessment_by_length(long_messages, reader)
    print(f"starting the service (log: {folder / 'service.log'}) ...", flush=True)
    with running_service(base_url, log=folder / "service.log") as supervisor:
        processes = service_processes(supervisor)
        if args.profile:
            profile_step(base_url, processes, args.duration, staff_accounts, database)
            return 0
        for name, process in processes.items():
            sampler.watch(name, process)
        sampler.start()
        results["long_conversation"] = long_conversation(base_url, long_messages)
        for count in users:
            print(f"bare project Rasa, {count} users ...", flush=True)
            results["bare"][str(count)] = with_cpu_time(
                processes, partial(bare_step, f"bare-{count}", rasa_url, count, args.duration)
            )
            print(f"full path, {count} users and {WORKERS} helpline workers ...", flush=True)
            results["full"][str(count)] = with_cpu_time(
                processes,
                partial(full_path_step, f"full-{count}", base_url, count, args.duration, staff_accounts, database),
            )
    print("stock `rasa init` bot ...", flush=True)
    stock_port = free_port()
    stock = start_stock_bot(stock_port)
    try:
        sampler.watch("stock rasa", psutil.Process(stock.pid))
        results["stock"] = bare_step("stock", f"http://127.0.0.1:{stock_port}", STOCK_USERS, args.duration)
    finally:
        stock.terminate()
        stock.wait(timeout=60)
    sampler.stop()
    results["peak_resident_mb"] = {name: round(mb) for name, mb in sampler.peak_mb.items()}

    (REPORTS / "bench.json").write_text(json.dumps(results, indent=2) + "\n")
    plot(results, REPORTS / "bench.png")
    print_tables(results)
    print(f"\nwrote {REPORTS / 'bench.json'} and {REPORTS / 'bench.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
