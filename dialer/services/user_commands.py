"""`dialer users create`: make a control-plane user from the command line (the first admin,
usually). The password comes from `--password`, `DIALER_USER_PASSWORD` or a prompt."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os

from dialer.db.engine import open_database
from dialer.db.enums import Role
from dialer.services import users
from dialer.services.errors import Conflict, Invalid


def create_main(argv: list[str]) -> int:
    from dialer.settings import Settings

    parser = argparse.ArgumentParser(prog="dialer users create", description=__doc__)
    parser.add_argument("username")
    parser.add_argument("--role", choices=[r.value for r in Role], default=Role.ADMIN.value)
    parser.add_argument("--password", help="default: $DIALER_USER_PASSWORD, else a prompt")
    parser.add_argument("--agent-id", type=int, help="the agent this user logs in as")
    parser.add_argument("--url", help="database URL (default: the configured database)")
    args = parser.parse_args(argv)
    password = args.password or os.environ.get("DIALER_USER_PASSWORD") or getpass.getpass()
    url = args.url or Settings().database_url

    async def work() -> str:
        async with open_database(url) as session_factory:
            if args.role == Role.ADMIN:
                user = await users.ensure_admin(session_factory, args.username, password)
            else:
                user = await users.create_user(
                    session_factory, args.username, password, args.role, agent_id=args.agent_id
                )
            return f"user {user.username!r} (id {user.id}, role {user.role}) is ready"

    try:
        print(asyncio.run(work()))
    except (Conflict, Invalid) as exc:
        print(f"dialer users create: {exc}")
        return 1
    return 0
