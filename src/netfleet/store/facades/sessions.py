"""Façade of dashboard sessions: ``store.sessions`` (``netfleet.store.sql.sessions``)."""

from __future__ import annotations

import secrets

from netfleet.store.facades import Facade
from netfleet.store.sql import sessions as sessions_sql
from netfleet.store.sql.sessions import SessionRecord

MAX_ID_LENGTH = 128


class Sessions(Facade):
    """Server-side dashboard sessions; the browser holds only a random id."""

    async def create(self, token_id: int, *, lifetime_s: float) -> str:
        """A new session for the token ``token_id``; returns its id (kept only hashed)."""
        session_id = secrets.token_urlsafe(32)
        db = self._db
        await db.run(
            lambda c: sessions_sql.create(c, session_id, token_id, db.clock(c), lifetime_s),
            what="create a dashboard session",
        )
        return session_id

    async def find(
        self, session_id: str, *, idle_s: float, touch_after_s: float = 60.0
    ) -> SessionRecord | None:
        """The live session ``session_id``, or None (unknown, ended, token revoked)."""
        if not session_id or len(session_id) > MAX_ID_LENGTH:
            return None
        db = self._db
        touch = min(touch_after_s, idle_s / 10)
        return await db.run(
            lambda c: sessions_sql.find(c, session_id, db.clock(c), idle_s, touch),
            what="read a dashboard session",
        )

    async def end(self, session_id: str) -> bool:
        """Delete the session (logout); whether it existed."""
        if not session_id or len(session_id) > MAX_ID_LENGTH:
            return False
        return await self._db.run(
            lambda c: sessions_sql.delete(c, session_id), what="end a dashboard session"
        )

    async def prune(self, *, idle_s: float) -> int:
        """Delete ended sessions (expired or idle); the count."""
        db = self._db
        return await db.run(
            lambda c: sessions_sql.prune(c, db.clock(c), idle_s), what="drop ended sessions"
        )

    async def count_for(self, token_id: int) -> int:
        """How many sessions the token ``token_id`` holds."""
        return await self._db.run(
            lambda c: sessions_sql.count_for(c, token_id), what="count sessions", write=False
        )
