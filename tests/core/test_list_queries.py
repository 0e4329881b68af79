"""Every list endpoint answers in a bounded number of queries: the same with 2 rows as with 12, each row with its
owner, job, labels, groups or reference (no query per row), and under a fixed ceiling."""

from __future__ import annotations

from collections.abc import Callable
from itertools import count

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analyses.models import Analysis
from files.models import Upload
from hmm.models import HMM
from indexes.models import Index
from jobs.models import Job
from otus.models import OTU
from references.models import Reference
from samples.models import Label, Sample
from subtractions.models import Subtraction
from users.models import User

pytestmark = pytest.mark.django_db

_numbers = count()


def _user() -> User:
    user = User.objects.create_user(f"member{next(_numbers)}", "a long password")
    group = Group.objects.create(name=f"group {next(_numbers)}")
    user.groups.add(group)
    return user


def _job(user: User) -> Job:
    return Job.objects.create(workflow="build_index", size="small", proc=1, mem=1, user=user)


def _reference() -> Reference:
    return Reference.objects.get_or_create(name="Listed reference", defaults={"user": _user()})[0]


def _sample(number: int) -> Sample:
    user = _user()
    sample = Sample.objects.create(name=f"Sample {number}", user=user, job=_job(user), all_read=True, ready=True)
    sample.labels.add(Label.objects.create(name=f"label {number}"))
    sample.subtractions.add(_subtraction(number))
    return sample


def _subtraction(number: int) -> Subtraction:
    user = _user()
    return Subtraction.objects.create(name=f"Host {number}", user=user, job=_job(user), ready=True)


def _analysis(number: int) -> None:
    sample, user = _sample(number), _user()
    index = _index(number)
    analysis = Analysis.objects.create(
        sample=sample, user=user, job=_job(user), reference=index.reference, index=index, workflow="pathoscope_bowtie"
    )
    analysis.subtractions.add(_subtraction(number + 1000))


def _index(number: int) -> Index:
    user = _user()
    return Index.objects.create(reference=_reference(), version=number, user=user, job=_job(user))


def _listed_reference(number: int) -> None:
    user = _user()
    reference = Reference.objects.create(name=f"Reference {number}", user=user, job=_job(user))
    for version in (0, 1):  # its latest build is shown
        Index.objects.create(reference=reference, version=version, user=user, job=_job(user), ready=True)


def _otu(number: int) -> None:
    OTU.objects.create(reference=_reference(), name=f"Virus {number}", abbreviation=f"V{number}", user=_user())


def _upload(number: int) -> None:
    Upload.objects.create(name=f"reads_{number}.fq.gz", type="reads", user=_user(), ready=True, size=10)


# endpoint -> (what makes one listed row, the ceiling of queries)
LISTS: dict[str, tuple[Callable[[int], object], int]] = {
    "/api/samples": (_sample, 9),
    "/api/analyses": (_analysis, 12),
    "/api/refs": (_listed_reference, 10),
    "/api/refs/{ref}/otus": (_otu, 8),
    "/api/indexes": (_index, 10),
    "/api/subtractions": (_subtraction, 9),
    "/api/jobs": (lambda n: _job(_user()), 8),
    "/api/users": (lambda n: _user(), 8),
    "/api/groups": (lambda n: _user(), 8),
    "/api/labels": (lambda n: Label.objects.create(name=f"Label {n}").samples.add(_sample(n + 500)), 6),
    "/api/uploads": (_upload, 7),
    "/api/hmms": (lambda n: HMM.objects.create(cluster=n, names=[f"protein {n}"], count=2, length=100), 7),
}


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, response.content[:300]
    return len(captured)


@pytest.mark.parametrize("endpoint", list(LISTS))
def test_list_queries_do_not_grow_with_rows(admin_client, endpoint, django_assert_max_num_queries) -> None:
    make, ceiling = LISTS[endpoint]
    path = endpoint.format(ref=_reference().pk)
    for number in range(2):
        make(number)
    few = _queries(admin_client, path)
    for number in range(2, 12):
        make(number)
    with django_assert_max_num_queries(min(few, ceiling)):
        response = admin_client.get(path)
    body = response.json()
    rows = body.get("documents", body.get("items", body)) if isinstance(body, dict) else body
    assert len(rows) >= 12
