"""Which process dials which campaign. On PostgreSQL a campaign is owned through a session
advisory lock held on a dedicated connection: when the owner dies its connection closes,
the lock is released, and another `dialer run` takes the campaign over within one renew
period. On SQLite there is only one process, which owns everything."""

from __future__ import annotations

import logging

import asyncpg
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

# Advisory lock keys: (namespace, campaign id) as two int4, so they cannot collide with
# other applications' single-bigint locks in the same database.
LOCK_NAMESPACE = 0x44_49_41_4C  # "DIAL"


class CampaignLeases:
    def __init__(self, database_url: str) -> None:
        url = make_url(database_url)
        self._postgres = url.get_backend_name() == "postgresql"
        self._dsn = (
            url.set(drivername="postgresql").render_as_string(hide_password=False)
            if self._postgres
            else ""
        )
        self._conn: asyncpg.Connection | None = None
        self.owned: set[int] = set()

    @property
    def exclusive(self) -> bool:
        """True when ownership is shared through the database (several processes possible)."""
        return self._postgres

    async def renew(self, wanted: set[int]) -> set[int]:
        """Try to own every wanted campaign; release the ones no longer wanted.
        Returns the campaigns this process owns now."""
        if not self._postgres:
            self.owned = set(wanted)
            return self.owned
        try:
            if self._conn is None or self._conn.is_closed():
                self.owned.clear()
                self._conn = await asyncpg.connect(self._dsn, timeout=5)
            for cid in sorted(self.owned - wanted):
                await self._conn.execute("SELECT pg_advisory_unlock($1, $2)", LOCK_NAMESPACE, cid)
                self.owned.discard(cid)
            for cid in sorted(wanted - self.owned):
                got = await self._conn.fetchval(
                    "SELECT pg_try_advisory_lock($1, $2)", LOCK_NAMESPACE, cid
                )
                if got:
                    log.info("took the lease of campaign %s", cid)
                    self.owned.add(cid)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("campaign leases lost (%s); pausing owned campaigns", exc)
            self.owned.clear()
            await self.close()
        return self.owned

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            try:
                await conn.close(timeout=2)
            except Exception:
                conn.terminate()
