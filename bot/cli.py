"""Administration from the command line.

python -m bot.cli create-user --name NAME --role staff|lead|moderator|admin
python -m bot.cli set-role --name NAME --role staff|lead|moderator|admin
python -m bot.cli purge        delete conversations and outcomes past their retention periods
python -m bot.cli export-corrections [--out DIR]   flagged turns, redacted, as NLU data and risk examples for review

Account changes are recorded in the audit log, as made from the command line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot import retention
from bot.audit import service as audit
from bot.audit.models import AuditAction
from bot.database import session_factory, session_scope
from bot.moderation import corrections
from bot.moderation.redaction import load_redactor
from bot.settings import PROJECT_ROOT, get_settings
from bot.staff import service as staff
from bot.staff.models import Role


def create_user(name: str, role: str) -> int:
    with session_scope(session_factory(get_settings().database_url)) as session:
        try:
            user, password = staff.create_user(name, Role(role), session=session)
        except staff.UsernameTaken:
            print(f"There is already an account called {name!r}.", file=sys.stderr)
            return 1
        audit.record(
            AuditAction.ACCOUNT_CREATED,
            detail={"account": user.id, "role": user.role, "by": "command line"},
            session=session,
        )
        print(f"Created {user.role} account {user.username!r}.")
        print(f"Password (shown once, give it to them securely): {password}")
    return 0


def set_role(name: str, role: str) -> int:
    with session_scope(session_factory(get_settings().database_url)) as session:
        user = staff.find_user(name, session=session)
        if user is None:
            print(f"There is no account called {name!r}.", file=sys.stderr)
            return 1
        previous = user.role
        staff.change_role(user, Role(role), session=session)
        audit.record(
            AuditAction.ROLE_CHANGED,
            detail={"account": user.id, "from": previous, "to": role, "by": "command line"},
            session=session,
        )
    print(f"{name!r} is now {role} (was {previous}); their sessions have ended.")
    return 0


def purge() -> int:
    settings = get_settings()
    with session_scope(session_factory(settings.database_url)) as session:
        purged = retention.purge(settings=settings, session=session)
    print(
        f"Deleted {purged.conversations} conversations idle for more than {settings.transcript_retention_days} days "
        f"(here and in Rasa's tracker store) and {purged.outcomes} case outcomes older than "
        f"{settings.outcome_retention_days} days."
    )
    return 0


def export_corrections(out: Path) -> int:
    settings = get_settings()
    with session_scope(session_factory(settings.database_url)) as session:
        exported = corrections.export(out, redactor=load_redactor(settings.content_dir), session=session)
        audit.record(
            AuditAction.EXPORT,
            detail={
                "what": "corrections",
                "nlu_examples": exported.nlu_examples,
                "risk_examples": exported.risk_examples,
                "by": "command line",
            },
            session=session,
        )
    print(
        f"Wrote {exported.nlu_examples} NLU examples to {out / corrections.NLU_FILE} and "
        f"{exported.risk_examples} risk examples to {out / corrections.RISK_FILE}, for review (never merged automatically)."
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.cli", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-user", help="create a console account and print its password once")
    create.add_argument("--name", required=True)
    create.add_argument("--role", required=True, choices=[role.value for role in Role])
    change = commands.add_parser("set-role", help="change an account's role (its sessions end)")
    change.add_argument("--name", required=True)
    change.add_argument("--role", required=True, choices=[role.value for role in Role])
    commands.add_parser("purge", help="delete conversations and outcomes past their retention periods")
    export = commands.add_parser("export-corrections", help="flagged turns, redacted, as training data for review")
    export.add_argument("--out", type=Path, default=PROJECT_ROOT / "reports" / "corrections")
    args = parser.parse_args(argv)
    if args.command == "create-user":
        return create_user(args.name, args.role)
    if args.command == "set-role":
        return set_role(args.name, args.role)
    if args.command == "export-corrections":
        return export_corrections(args.out)
    return purge()


if __name__ == "__main__":
    sys.exit(main())
