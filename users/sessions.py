"""The session store: Django's database sessions, read once per process while the database is unchanged.

Every API request loads its session; with 50 clients that query was a third of a request's time. The row is kept
per process under the database's change marker (core/caching.py), so a login, a logout, a session saved by
another process or a deleted session is seen by the next request; expiry is checked against the clock on every
read, as Django's own query does. Sessions of the previous backend (Django's ModelBackend) stay signed in.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.sessions.backends import db
from django.utils import timezone

from core.caching import MarkedValues

_rows = MarkedValues()
# Sessions signed in before the cached backend name Django's own ModelBackend; they are read as signed in with it.
_BACKENDS = {"django.contrib.auth.backends.ModelBackend": "users.backends.CachedModelBackend"}


class SessionStore(db.SessionStore):
    def load(self) -> dict[str, Any]:
        data = super().load()
        if (backend := data.get(BACKEND_SESSION_KEY)) in _BACKENDS:
            data[BACKEND_SESSION_KEY] = _BACKENDS[backend]
        return data

    def _get_session_from_db(self) -> Any:
        key = self.session_key
        if not key:
            return super()._get_session_from_db()  # type: ignore[misc]  # not in django-stubs

        def load() -> tuple[str, Any] | None:
            session = super(SessionStore, self)._get_session_from_db()  # type: ignore[misc]
            return None if session is None else (session.session_data, session.expire_date)

        row = _rows.get_or_load(key, load)
        if row is None or row[1] <= timezone.now():
            self._session_key = None
            return None
        return self.model(session_key=key, session_data=row[0], expire_date=row[1])
