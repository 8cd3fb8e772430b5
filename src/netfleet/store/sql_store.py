"""``SqlStore``: the durable store over SQLite or PostgreSQL, as named sub-façades.

Each operation is one short transaction of synchronous SQLAlchemy Core, run on
the store's own thread(s) (``Database``): one writer thread for SQLite, a small
pool of connections for PostgreSQL. Database errors become netfleet errors there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from netfleet.core.settings import Settings
from netfleet.jobs.gates import ChangePolicy
from netfleet.store.crypto import load_key
from netfleet.store.database import Database
from netfleet.store.engine import Dialect
from netfleet.store.facades.auth import Audit, Tokens
from netfleet.store.facades.changes import Changes
from netfleet.store.facades.configs import Configs
from netfleet.store.facades.integrations import Notifications, Sources
from netfleet.store.facades.inventory import Credentials, Devices
from netfleet.store.facades.jobs import Jobs, Metrics, Reads
from netfleet.store.facades.pages import Pages
from netfleet.store.facades.queue import Claims, Completions, Holds, Workers
from netfleet.store.facades.raw_outputs import RawOutputs
from netfleet.store.facades.schedules import Schedules
from netfleet.store.facades.sessions import Sessions
from netfleet.store.sql import server as server_sql


class SqlStore:
    """The durable store. Use ``await open_store(url)``, or construct then ``await migrate()``.

    Its operations are grouped by table family: ``devices``, ``credentials``, ``jobs``,
    ``claims``, ``completions``, ``holds``, ``workers``, ``schedules``, ``tokens``,
    ``audit``, ``sessions`` (dashboard sign-ins), ``raw_outputs`` (unmasked, encrypted),
    ``reads`` and ``pages`` (dashboard pages), ``metrics``, ``configs`` (backups),
    ``notifications`` and ``sources`` (inventory sources) and ``changes`` (approvals,
    rollouts, change windows).
    """

    def __init__(
        self, url: str, *, secret_key: str | bytes, pg_threads: int = 4, spec_cache: int = 2048
    ) -> None:
        self.db = Database(url, secret_key=secret_key, pg_threads=pg_threads, spec_cache=spec_cache)
        """The plumbing: transactions on the store's thread(s), the clock, wake-ups."""
        self.devices = Devices(self.db)
        self.credentials = Credentials(self.db)
        self.jobs = Jobs(self.db)
        self.claims = Claims(self.db)
        self.completions = Completions(self.db)
        self.holds = Holds(self.db)
        self.workers = Workers(self.db)
        self.schedules = Schedules(self.db)
        self.tokens = Tokens(self.db)
        self.audit = Audit(self.db)
        self.sessions = Sessions(self.db)
        self.raw_outputs = RawOutputs(self.db)
        self.reads = Reads(self.db)
        self.metrics = Metrics(self.db)
        self.pages = Pages(self.db)
        self.configs = Configs(self.db)
        """Configuration backups: versions, diffs, search, status."""
        self.notifications = Notifications(self.db)
        self.sources = Sources(self.db)
        self.changes = Changes(self.db)

    def __repr__(self) -> str:
        return f"SqlStore({self.url!r})"

    @property
    def url(self) -> str:
        """The database URL with any password masked."""
        return self.db.url

    @property
    def dialect(self) -> Dialect:
        return self.db.dialect

    async def migrate(self) -> None:
        """Create or upgrade the schema to the latest revision (idempotent)."""
        await self.db.migrate()

    async def close(self) -> None:
        """Release connections and threads. Safe to call twice."""
        await self.db.close()

    async def now(self) -> float:
        """The store's clock (database time on PostgreSQL), epoch seconds."""
        return await self.db.now()

    async def autovacuum_off(self) -> bool:
        """PostgreSQL's ``autovacuum`` is off (see ``store.sql.server``); False on SQLite."""
        return await self.db.run(
            server_sql.autovacuum_off, what="read autovacuum", write=False, idempotent=True
        )

    def listen(self) -> AsyncIterator[None]:
        """Yields whenever new work may be ready (PostgreSQL NOTIFY; in-process on SQLite).
        Workers should still poll: a wake-up may be missed across a reconnect."""
        return self.db.listen()


async def open_store(
    url: str | None = None,
    *,
    settings: Settings | None = None,
    secret_key: str | bytes | None = None,
    migrate: bool = True,
) -> SqlStore:
    """Open (and by default migrate) the store at ``url`` (default: settings.database.url)."""
    if settings is None:
        from netfleet.core.settings import load_settings

        settings = load_settings()
    store = SqlStore(
        url or settings.database.url,
        secret_key=secret_key if secret_key is not None else load_key(settings),
    )
    store.changes.policy = ChangePolicy(
        settings.changes.require_approval, tuple(settings.changes.approval_groups)
    )
    if migrate:
        try:
            await store.migrate()
        except BaseException:
            await store.close()
            raise
    return store
