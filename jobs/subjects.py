"""Who may see a job: the job engine knows no workflow, so the apps owning the objects jobs work on say it.

A job whose `args` name an object of a registered kind (`sample_id`: create_sample, every analysis) is shown only to
those who may read that object, and to the job's own user (who started it; a failed create_sample job outlives its
sample). Everyone else does not see the job at all: `GET /api/jobs/{id}` is a 404, lists and counts leave it out,
and its websocket messages go only to the object's audience. Administrators see every job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet
from django.db.models.fields.json import KT

from core import events

if TYPE_CHECKING:
    from jobs.models import Job
    from users.models import User


@dataclass(frozen=True)
class Subject:
    """A kind of object jobs name in their args: the ids a user may read, and who may read one."""

    arg: str
    readable_ids: Callable[[User], QuerySet[Any, Any]]
    audience: Callable[[str], list[str]]


_SUBJECTS: dict[str, Subject] = {}


def subject_register(
    *, arg: str, readable_ids: Callable[[User], QuerySet[Any, Any]], audience: Callable[[str], list[str]]
) -> None:
    """Show jobs whose args carry `arg` only to users for whom `readable_ids(user)` (a `values("pk")` queryset)
    includes it; their messages go to `audience(id)` (Channels groups)."""
    _SUBJECTS[arg] = Subject(arg, readable_ids, audience)


def jobs_visible(queryset: QuerySet[Job], *, user: User) -> QuerySet[Job]:
    """The jobs of `queryset` that `user` may see."""
    if user.is_administrator or not _SUBJECTS:
        return queryset
    condition = Q()
    for subject in _SUBJECTS.values():
        name = f"_subject_{subject.arg}"
        queryset = queryset.annotate(**{name: KT(f"args__{subject.arg}")})
        condition &= Q(**{f"{name}__isnull": True}) | Q(**{f"{name}__in": subject.readable_ids(user)})
    return queryset.filter(condition | Q(user=user))


def job_audience(job: Job) -> list[str]:
    """The Channels groups a job's messages go to: everyone, unless it names a registered subject."""
    groups: list[str] = []
    for subject in _SUBJECTS.values():
        value = job.args.get(subject.arg) if isinstance(job.args, dict) else None
        if value is not None:
            groups.extend(subject.audience(str(value)))
    if not groups:
        return [events.GROUP_ALL]
    groups.append(events.GROUP_ADMINS)
    if job.user_id:
        groups.append(events.user_group(job.user_id))
    return list(dict.fromkeys(groups))


# --- What a job works on, by name ----------------------------------------------------------------------------------

# An object a job's args name, resolved for people: {id: (name, url of its page or None)}.
Resolve = Callable[[list[str]], dict[str, tuple[str, str | None]]]


@dataclass(frozen=True)
class Named:
    arg: str
    kind: str
    resolve: Resolve


_NAMED: dict[str, Named] = {}


def subject_name_register(*, arg: str, kind: str, resolve: Resolve) -> None:
    """Jobs whose args carry `arg` show it as a `kind` named by `resolve` (one query for many ids), with a link."""
    _NAMED[arg] = Named(arg, kind, resolve)


def jobs_subjects(jobs: list[Job]) -> dict[str, list[dict[str, Any]]]:
    """Per job id, the objects its args name: `[{arg, kind, id, name, url}]` (an object deleted since is left out).
    One query per kind of object for all the jobs."""
    wanted: dict[str, set[str]] = {}
    for job in jobs:
        for arg in _NAMED:
            value = job.args.get(arg) if isinstance(job.args, dict) else None
            if isinstance(value, str | int) and not isinstance(value, bool):
                wanted.setdefault(arg, set()).add(str(value))
    resolved = {arg: _NAMED[arg].resolve(sorted(ids)) for arg, ids in wanted.items()}
    out: dict[str, list[dict[str, Any]]] = {}
    for job in jobs:
        subjects = []
        args = job.args if isinstance(job.args, dict) else {}
        # In the order the kinds were registered (apps in INSTALLED_APPS order), not the args' (PostgreSQL's jsonb
        # keeps no key order).
        for arg in _NAMED:
            value = args.get(arg)
            found = resolved.get(arg, {}).get(str(value)) if value is not None else None
            if found is not None:
                name, url = found
                subjects.append({"arg": arg, "kind": _NAMED[arg].kind, "id": str(value), "name": name, "url": url})
        out[job.pk] = subjects
    return out
