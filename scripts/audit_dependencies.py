"""Known vulnerabilities in both environments, with pip-audit (`make audit`, part of `make test`).

    python -m scripts.audit_dependencies

Every package installed in .venv/app and .venv/rasa is looked up in pip-audit's vulnerability
service (PyPI's JSON API, one page per release). The known issues that cannot be fixed are listed,
each with why, in requirements/audit-exceptions.toml and passed to pip-audit as --ignore-vuln for
the environments they are listed for, so any other one fails the build. An audit that could not
look a package up fails too (--strict), and so does one whose service cannot be reached: an audit
that checked nothing must never pass.

    python -m scripts.audit_dependencies --offline-warns

is what `make test` runs: on a machine that cannot reach the service (this project's CI machines
reach PyPI's package index but not its per-release pages nor OSV) it says loudly that nothing was
audited and lets the tests' result stand, rather than blocking every change on the network.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import tomllib

PROJECT = Path(__file__).resolve().parent.parent
EXCEPTIONS = PROJECT / "requirements" / "audit-exceptions.toml"
ENVIRONMENTS = {"app": PROJECT / ".venv" / "app", "rasa": PROJECT / ".venv" / "rasa"}
# The page pip-audit reads for one release; asked for pip-audit's own, which PyPI certainly has.
SERVICE_PROBE = "https://pypi.org/pypi/pip-audit/{version}/json"
TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class KnownIssue:
    id: str
    package: str
    environments: tuple[str, ...]
    why: str


def load_known_issues(path: Path = EXCEPTIONS) -> list[KnownIssue]:
    """The listed known issues; refuses an entry without its reason or for an unknown environment."""
    entries = tomllib.loads(path.read_text()).get("issue", [])
    problems, loaded = [], []
    for number, entry in enumerate(entries, 1):
        unknown = set(entry.get("environments", ())) - set(ENVIRONMENTS)
        if not entry.get("id") or not entry.get("package") or not str(entry.get("why", "")).strip():
            problems.append(f"entry {number}: id, package and why are all needed")
        elif not entry.get("environments") or unknown:
            problems.append(f"entry {number} ({entry['id']}): environments must be some of {sorted(ENVIRONMENTS)}")
        else:
            loaded.append(KnownIssue(entry["id"], entry["package"], tuple(entry["environments"]), entry["why"]))
    if problems:
        raise SystemExit(f"{path.name}: " + "; ".join(problems))
    return loaded


def service_problem() -> str | None:
    """Why pip-audit's vulnerability service cannot be used from here, or None when it answers."""
    url = SERVICE_PROBE.format(version=version("pip-audit"))
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as answer:
            answer.read()
    except urllib.error.HTTPError as error:
        return f"GET {url} answered {error.code} {error.reason}"
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        return f"GET {url} failed: {getattr(error, 'reason', error)}"
    return None


def site_packages(venv: Path) -> str:
    return subprocess.run(
        [venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def audit(name: str, venv: Path, known_issues: list[KnownIssue]) -> int:
    ignored = [
        argument for item in known_issues if name in item.environments for argument in ("--ignore-vuln", item.id)
    ]
    print(f"pip-audit: .venv/{name} ({len(ignored) // 2} known issues excepted in {EXCEPTIONS.name})", flush=True)
    command = [sys.executable, "-m", "pip_audit", "--strict", "--progress-spinner", "off", "--desc", "on"]
    return subprocess.run([*command, "--path", site_packages(venv), *ignored]).returncode


def main(arguments: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--offline-warns", action="store_true", help="an unreachable service is a warning (NOT AUDITED), not a failure"
    )
    offline_warns = parser.parse_args(arguments).offline_warns
    known_issues = load_known_issues()
    problem = service_problem()
    if problem:
        outcome = "NOT AUDITED: run `make audit` where it can be reached." if offline_warns else "The audit fails."
        print(
            f"pip-audit cannot reach its vulnerability service from this machine: {problem}. "
            f"Nothing was audited. {outcome}",
            file=sys.stderr,
        )
        return 0 if offline_warns else 2
    failed = [name for name, venv in ENVIRONMENTS.items() if audit(name, venv, known_issues) != 0]
    if failed:
        print(f"pip-audit found known vulnerabilities (or could not audit) in: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
