"""The authentication backend: Django's ModelBackend whose per-request user lookup is kept per process while
the database is unchanged (core/caching.py); each request gets its own `User` instance built from the row."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from core.caching import MarkedValues
from users.models import User

_rows = MarkedValues()
_FIELDS = [field.attname for field in User._meta.concrete_fields]


class CachedModelBackend(ModelBackend):
    def get_user(self, user_id: Any) -> User | None:
        def load() -> tuple[Any, ...] | None:
            return User._default_manager.filter(pk=user_id).values_list(*_FIELDS).first()

        values = _rows.get_or_load(user_id, load)
        if values is None:
            return None
        user = User.from_db(User._default_manager.db, _FIELDS, values)
        return user if self.user_can_authenticate(user) else None
