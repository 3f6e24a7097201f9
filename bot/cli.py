"""Administration from the command line.

python -m bot.cli create-user --name NAME --role staff|moderator|admin
python -m bot.cli purge        delete conversations past the retention period
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta

from bot.conversation import service as conversations
from bot.database import session_factory, session_scope, utcnow
from bot.settings import get_settings
from bot.staff import service as staff
from bot.staff.models import Role


def create_user(name: str, role: str) -> int:
    with session_scope(session_factory(get_settings().database_url)) as session:
        try:
            user, password = staff.create_user(name, Role(role), session=session)
        except staff.UsernameTaken:
            print(f"There is already an account called {name!r}.", file=sys.stderr)
            return 1
        print(f"Created {user.role} account {user.username!r}.")
        print(f"Password (shown once, give it to them securely): {password}")
    return 0


def purge() -> int:
    settings = get_settings()
    cutoff = utcnow() - timedelta(days=settings.transcript_retention_days)
    with session_scope(session_factory(settings.database_url)) as session:
        deleted = conversations.purge_inactive_since(cutoff, session=session)
    print(f"Deleted {deleted} conversations idle for more than {settings.transcript_retention_days} days.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.cli", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-user", help="create a console account and print its password once")
    create.add_argument("--name", required=True)
    create.add_argument("--role", required=True, choices=[role.value for role in Role])
    commands.add_parser("purge", help="delete conversations past the retention period")
    args = parser.parse_args(argv)
    if args.command == "create-user":
        return create_user(args.name, args.role)
    return purge()


if __name__ == "__main__":
    sys.exit(main())
