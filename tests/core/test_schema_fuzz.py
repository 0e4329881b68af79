"""schemathesis against the live `/api/schema` of a real daphne: every operation, no 5xx, every answer documented.

A real server (not schemathesis' in-process WSGI/ASGI loading) because that is what clients meet: daphne, the
ASGI stack and its middleware, committed transactions with their `on_commit` effects, and one database connection
per request. The run is one test that walks the operations itself, so that reads come before writes and deletes
last (in an order that removes children before their parents), path parameters are the ids of real objects half of
the time, and whatever a call may take away from the caller (its key, `enable_api`, its administrator role) is
given back after each call. Creates and edits that random data rarely gets right also get one valid request, so
their 2xx answers are checked as well. Hypothesis is derandomized, so a run is reproducible; every failure is
collected and reported with a curl command, rather than shrunk.

`POST /api/uploads` streams its body to disk and is fuzzed like the rest: requests sends each body (small, as
hypothesis makes them) whole with its Content-Length, and every call has a read timeout, so an upload the server
stalled on would fail the run instead of hanging it.
"""

from __future__ import annotations

import base64
import json
import time
from collections import defaultdict
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.errors import FlakyStrategyDefinition, Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.transport.requests import REQUESTS_TRANSPORT, binary_serializer

from tests.conftest import SHARED, client_for, run_waiting_jobs
from tests.github_server import RECORDED
from tests.hmm.conftest import hmm_upload
from tests.otus.eutils_server import start_eutils
from tests.references.conftest import DEMO, make_reference_upload
from tests.samples.test_api import make_upload as make_reads_upload
from tests.subtractions.test_subtractions import genome
from tests.subtractions.test_subtractions import make_upload as make_subtraction_upload

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live, pytest.mark.fuzz, pytest.mark.once]

# A tus PATCH body (`application/offset+octet-stream`) is bytes, sent as they are.
REQUESTS_TRANSPORT.serializer("application/offset+octet-stream")(binary_serializer)

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
# Each call may take this long (connect, read): a request the server stalls on fails instead of hanging the run.
TIMEOUT = (5, 30)
POSITIVE_EXAMPLES = 15
NEGATIVE_EXAMPLES = 10
# The stateful phase: this many scenarios, each a chain of up to STATEFUL_STEPS calls linked by the ids one answer
# gives the next (schemathesis infers the links from the schema: a create's `id`, the path parameters).
STATEFUL_SCENARIOS = 40
STATEFUL_STEPS = 8
# Fewest calls the stateful phase must make (it may stop early: see the run below).
STATEFUL_MIN_CALLS = 60
# Deletes run last, children before parents, so the objects other operations use stay until then.
DELETE_ORDER = (
    "/api/analyses/",
    "/api/history/",
    "/api/otus/{otu_id}/isolates/{isolate_id}/sequences/",
    "/api/otus/{otu_id}/isolates/",
    "/api/otus/",
    "/api/refs/{ref_id}/users/",
    "/api/refs/{ref_id}/groups/",
    "/api/labels/",
    "/api/samples/",
    "/api/subtractions/",
    "/api/uploads/",
    "/api/refs/",
    "/api/jobs",
    "/api/groups/",
    "/api/account/keys/",
    "/api/account/keys",
)


@pytest.fixture(autouse=True)
def _recorded_ncbi(settings):
    """GET /api/genbank/{accession} asks the recorded E-utilities (autouse: set before the server starts)."""
    fake, server = start_eutils()
    settings.VIRTOOL_NCBI_EUTILS_URL = fake.url
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def _world(admin, other, make_user_for_world) -> dict[str, Any]:
    """Real objects of every kind, made through the API and real jobs: the ids the fuzz puts in paths."""
    from hmm.models import HMM
    from indexes.models import Index
    from jobs.models import Job
    from otus.models import OTU, Change
    from users.services import group_create, key_create

    client = client_for(admin)
    reference = client.post(
        "/api/refs", {"import_from": make_reference_upload(admin, source=DEMO).pk, "name": "Demo"}, format="json"
    ).json()
    assert run_waiting_jobs() == ["complete"]
    assert client.post(f"/api/refs/{reference['id']}/indexes").status_code == 201
    uploads = [
        make_reads_upload(admin, SHARED / "data" / "samples" / name) for name in ("rprsv_1.fq.gz", "rprsv_2.fq.gz")
    ]
    sample = client.post("/api/samples", {"name": "Fuzzed", "files": [u.pk for u in uploads]}, format="json").json()
    subtraction = client.post(
        "/api/subtractions",
        {"name": "Host", "upload_id": make_subtraction_upload(admin, genome(records=2, length=1500)).pk},
        format="json",
    ).json()
    # The real vFam HMMs, installed by their job from a release archive.
    client.post("/api/hmms/status/updates", {"upload_id": hmm_upload(admin).pk}, format="json")
    assert set(run_waiting_jobs()) == {"complete"}
    analysis = client.post(f"/api/samples/{sample['id']}/analyses", {"ref_id": reference["id"]}, format="json").json()
    assert set(run_waiting_jobs()) == {"complete"}
    # A second analysis stays waiting: its job is the one the fuzz reads, cancels and then removes.
    waiting = client.post(f"/api/samples/{sample['id']}/analyses", {"ref_id": reference["id"]}, format="json").json()
    group = group_create(name="fuzzers")
    label = client.post("/api/labels", {"name": "fuzzed"}, format="json").json()
    client.patch(f"/api/samples/{sample['id']}", {"labels": [label["id"]]}, format="json")
    client.post(f"/api/refs/{reference['id']}/users", {"user_id": other.pk, "build": True}, format="json")
    client.post(f"/api/refs/{reference['id']}/groups", {"group_id": group.pk}, format="json")
    otu = OTU.objects.filter(reference_id=reference["id"]).order_by("name").first()
    isolate = otu.isolates[0]["id"]
    sequence = otu.sequences.filter(isolate_id=isolate).first()
    client.patch(f"/api/otus/{otu.pk}", {"abbreviation": "FZ"}, format="json")
    spare_key, _ = key_create(user=admin, name="spare", permissions={})
    spare_upload = make_reads_upload(admin, SHARED / "data" / "samples" / "small_50bp_1.fq.gz")
    index = Index.objects.get(reference_id=reference["id"])
    member = make_user_for_world("fuzz-member")
    nuvs = _nuvs_world(admin, sample["id"])
    return {
        **nuvs,
        "analysis_id": analysis["id"],
        "sample_id": sample["id"],
        "ref_id": reference["id"],
        "otu_id": otu.pk,
        "isolate_id": isolate,
        "sequence_id": sequence.pk,
        "change_id": Change.objects.filter(otu_id=otu.pk).order_by("-created_at").first().change_id,
        "index_id": index.pk,
        "subtraction_id": subtraction["id"],
        "upload_id": spare_upload.pk,
        "job_id": Job.objects.get(pk=waiting["job"]["id"]).pk,
        "label_id": label["id"],
        "key_id": spare_key.key_id,
        "extension": "csv",
        "user": other.pk,
        "group": group.pk,
        "hmm_id": HMM.objects.order_by("cluster").first().pk,
        "accession": "NC_005267",  # the record the recorded E-utilities holds (`_recorded_ncbi`)
        # For the creates' known-good bodies: objects nothing else uses.
        "member": member.pk,
        "member_group": group_create(name="fuzz-members").pk,
        "reads": make_reads_upload(admin, SHARED / "data" / "samples" / "small_50bp_2.fq.gz").pk,
        "host": make_subtraction_upload(admin, genome(seed=5, records=1, length=500)).pk,
        "hmm_archive": hmm_upload(admin, name="another-vthmm.tar.gz").pk,
    }


def _nuvs_world(admin, sample_id: str) -> dict[str, Any]:
    """A finished NuVs analysis of the sample with its result files and a finished BLAST of its first contig."""
    import json

    from analyses.models import NuvsBlast
    from analyses.nuvs.ncbi import format_blast_content
    from analyses.services import analysis_files_record
    from hmm.models import HMM
    from samples.models import Sample
    from tests.analyses.ncbi_server import RECORDED
    from tests.analyses.nuvs_data import nuvs_analysis, nuvs_results

    clusters = dict(HMM.objects.values_list("cluster", "id"))
    analysis = nuvs_analysis(admin, nuvs_results(clusters), sample=Sample.objects.get(pk=sample_id))
    files = analysis_files_record(analysis_id=analysis.pk)
    raw = json.loads((RECORDED / "result_rprsv.json").read_text())
    NuvsBlast.objects.create(
        analysis=analysis,
        sequence_index=0,
        rid="4VT8M1X0016",
        ready=True,
        result=format_blast_content(raw, rid="4VT8M1X0016"),
    )
    NuvsBlast.objects.create(
        analysis=analysis, sequence_index=1, error="NCBI BLAST could not be reached: connection refused."
    )
    return {"nuvs_analysis_id": analysis.pk, "file_id": files[0].pk, "sequence_index": 1}


# Paths of NuVs analyses: their `analysis_id` is the NuVs analysis of the world.
NUVS_PATHS = ("/files/", "/sequences", "/orfs.fa", "/blast")

# Long enough for any `minimum_password_length` the fuzz may have set (at most 128).
PASSWORD = "p" * 128


def _known_good(world: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """A valid request for each create and edit random data rarely gets right, so their 2xx answers are checked too."""
    reads = b"@r1\nACGTACGTAC\n+\nIIIIIIIIII\n"
    return {
        "POST /api/account/keys": [{"body": {"name": "made by the fuzz"}}],
        "PATCH /api/account/keys/{key_id}": [{"body": {"permissions": {"cancel_job": True}}}],
        "POST /api/account/login": [{"body": {"handle": "fuzzed-user", "password": "hunter2hunter2"}}],
        "POST /api/users": [{"body": {"handle": "made-by-fuzz", "password": PASSWORD}}],
        "POST /api/admin/users": [{"body": {"handle": "made-by-fuzz-2", "password": PASSWORD}}],
        "PUT /api/admin/users/{id}/role": [{"body": {"role": "base"}}],
        "POST /api/groups": [{"body": {"name": "made by the fuzz"}}],
        "POST /api/labels": [{"body": {"name": "made by the fuzz", "color": "#123456"}}],
        "POST /api/uploads": [
            {
                "query": {"name": "fuzz.fq", "type": "reads"},
                "body": {"file": reads},
                "media_type": "multipart/form-data",
            }
        ],
        "POST /api/samples": [{"body": {"name": "Made by the fuzz", "files": [world["reads"]]}}],
        "PATCH /api/samples/{sample_id}/rights": [{"body": {"all_read": True, "group": world["group"]}}],
        "POST /api/samples/{sample_id}/analyses": [{"body": {"ref_id": world["ref_id"]}}],
        "POST /api/analyses": [{"body": {"sample_ids": [world["sample_id"]], "ref_id": world["ref_id"]}}],
        "POST /api/subtractions": [{"body": {"name": "Made by the fuzz", "upload_id": world["host"]}}],
        "POST /api/refs": [{"body": {"name": "Made by the fuzz"}}, {"body": {"clone_from": world["ref_id"]}}],
        "POST /api/refs/{ref_id}/users": [{"body": {"user_id": world["member"], "modify_otu": True}}],
        "POST /api/refs/{ref_id}/groups": [{"body": {"group_id": world["member_group"], "build": True}}],
        "POST /api/refs/{ref_id}/otus": [{"body": {"name": "Made by the fuzz", "abbreviation": "MBF"}}],
        "POST /api/otus/{otu_id}/isolates": [{"body": {"source_type": "isolate", "source_name": "fuzz"}}],
        "POST /api/otus/{otu_id}/isolates/{isolate_id}/sequences": [
            {"body": {"accession": "FZ000001", "definition": "made by the fuzz", "sequence": "ACGTACGTACGT"}}
        ],
        "PUT /api/jobs/{job_id}/cancel": [{}],
        "PUT /api/analyses/{analysis_id}/{sequence_index}/blast": [{}],
        # Its job stays waiting (no worker runs here): from then on installs and purges are refused with 409.
        "POST /api/hmms/status/updates": [{"body": {"upload_id": world["hmm_archive"]}}],
    }


def _path_parameters(path: str, world: dict[str, Any]) -> dict[str, Any]:
    """The real ids for the parameters of `path`; `id`, `member_id` and `filename` depend on the resource."""
    names = [segment[1:-1] for segment in path.replace(".", "/").split("/") if segment.startswith("{")]
    values = {}
    for name in names:
        if name in ("id", "member_id"):
            values[name] = world["group"] if "/groups/" in path else world["user"]
        elif name == "filename":
            values[name] = (
                "reads_1.fq.gz"
                if path.startswith("/api/samples")
                else "subtraction.fa.gz"
                if path.startswith("/api/subtractions")
                else "reference.fa.gz"
            )
        elif name == "analysis_id" and any(part in path for part in NUVS_PATHS):
            values[name] = world["nuvs_analysis_id"]
        elif name in world:
            values[name] = world[name]
    return values


def _order(operation) -> tuple:
    method, path = operation.method.upper(), operation.path
    if method == "GET":
        return (0, path)
    if method != "DELETE":
        return (1, path)
    rank = next((i for i, prefix in enumerate(DELETE_ORDER) if path.startswith(prefix)), len(DELETE_ORDER))
    return (2, rank, -path.count("/"), path)


def _repair(*, user_id: int, key_hash: str) -> None:
    """Give back what a call may have taken from the caller: `enable_api`, its key, its role and activity."""
    from core.models import InstanceSettings
    from users.constants import PERMISSION_NAMES
    from users.models import APIKey, User

    InstanceSettings.objects.exclude(enable_api=True).update(enable_api=True)
    User.objects.filter(pk=user_id).exclude(is_active=True, administrator_role="full").update(
        is_active=True, administrator_role="full"
    )
    full = dict.fromkeys(PERMISSION_NAMES, True)
    key = APIKey.objects.filter(key_hash=key_hash).first()
    if key is None:
        APIKey.objects.create(user_id=user_id, key_id="fuzz_0", name="fuzz", key_hash=key_hash, permissions=full)
    elif key.permissions != full:
        APIKey.objects.filter(pk=key.pk).update(permissions=full)


def _stateful_machine(schema, *, live_server_url, session, auth, record, calls, repair, own_key_hash):
    """schemathesis' state machine for the schema (links inferred from it), calling the live server with the key,
    recording every answer like the stateless phase (failures collected, not raised) and repairing after each call.
    The caller's own key is never deleted: a chain that would delete it deletes a key that does not exist."""
    from users.models import APIKey

    # Removing all of the caller's keys is left out of the chains (the stateless phase calls it, and repairs).
    base = schema.exclude(method="DELETE", path="/api/account/keys").as_state_machine()

    class Machine(base):  # type: ignore[misc, valid-type]
        def before_call(self, case) -> None:
            if case.method.upper() == "DELETE" and case.path == "/api/account/keys/{key_id}":
                own = APIKey.objects.filter(key_hash=own_key_hash).values_list("key_id", flat=True).first()
                if (case.path_parameters or {}).get("key_id") == own:
                    case.path_parameters = {**case.path_parameters, "key_id": "not-a-key"}

        def get_call_kwargs(self, case) -> dict[str, Any]:
            return {"base_url": live_server_url, "session": session, "headers": auth, "timeout": TIMEOUT}

        def after_call(self, response, case) -> None:
            session.cookies.clear()
            repair()

        def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
            label = f"{case.method.upper()} {case.path}"
            calls[label] += 1
            record(case, response, label)

    return Machine


def test_every_operation_answers_as_documented(github, live_server_url, make_user, jobs_here, settings):
    from core.services import settings_update
    from software.services import software_release_refresh
    from tests.github_server import recorded, with_asset

    # The server asks the fake GitHub (`github` comes before the server, whose environment points it there): the
    # HMM release and this software's releases, with their ETags.
    hmm_release = with_asset(recorded("virtool-hmm-v1.json"), b"x" * 100)
    github.script("/repos/virtool/virtool-hmm/releases/latest", github.json(hmm_release, etag='"hmm"'))
    software_releases = json.loads((RECORDED / "virtool-django-releases.json").read_text())
    github.script("/repos/virtool/virtool-django/releases", github.json(software_releases, etag='"software"'))
    software_release_refresh()  # beat's work: GET /api/software then answers a release
    from users.authentication import hash_key
    from users.constants import PERMISSION_NAMES
    from users.services import key_create

    admin = make_user("fuzz", role="full", is_superuser=True)
    # The login the fuzz makes is checked by the server, which knows only its own password hashers.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.BCryptSHA256PasswordHasher"]
    other = make_user("fuzzed-user")
    world = _world(admin, other, make_user)
    settings_update(data={"enable_api": True})
    _, raw = key_create(user=admin, name="fuzz", permissions=dict.fromkeys(PERMISSION_NAMES, True))
    auth = {"Authorization": "Basic " + base64.b64encode(f"fuzz:{raw}".encode()).decode()}

    schema = schemathesis.openapi.from_url(f"{live_server_url}/api/schema?format=json", headers=auth)
    operations = sorted((result.ok() for result in schema.get_all_operations()), key=_order)
    session = requests.Session()
    failures: dict[tuple[str, str], str] = {}
    calls: dict[str, int] = defaultdict(int)
    succeeded: set[str] = set()
    server_errors = 0
    started = time.monotonic()

    def record(case, response, label: str) -> None:
        nonlocal server_errors
        calls[label] += 1
        if response.status_code < 300:
            succeeded.add(label)
        server_errors += response.status_code >= 500
        try:
            case.validate_response(response, checks=CHECKS, headers=auth)
        except FailureGroup as group:
            for failure in group.exceptions:
                failures.setdefault((label, failure.title), str(group)[:3000])

    def fuzz(operation, mode, examples: int) -> None:
        label = f"{operation.method.upper()} {operation.path}"
        real = _path_parameters(operation.path, world)

        @hypothesis_settings(
            max_examples=examples,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode), use_real=st.booleans())
        def call(case, use_real) -> None:
            if use_real and real and case.path_parameters is not None:
                case.path_parameters = {**case.path_parameters, **real}
            try:
                record(case, case.call(base_url=live_server_url, session=session, headers=auth, timeout=TIMEOUT), label)
            finally:
                # Only the key authenticates: a session a call may have opened (login) must not carry over.
                session.cookies.clear()
                _repair(user_id=admin.pk, key_hash=hash_key(raw))

        try:
            call()
        except Unsatisfiable:
            # Nothing to make invalid (no parameters, no body): only the positive cases exist.
            assert mode is schemathesis.GenerationMode.NEGATIVE, label

    known_good = _known_good(world)
    refused: dict[str, str] = {}
    for operation in operations:
        label = f"{operation.method.upper()} {operation.path}"
        for request in known_good.get(label, []):
            case = operation.Case(path_parameters=_path_parameters(operation.path, world) or None, **request)
            response = case.call(base_url=live_server_url, session=session, headers=auth, timeout=TIMEOUT)
            record(case, response, label)
            if response.status_code >= 300:
                refused[label] = f"{response.status_code} {response.text[:200]}"
            session.cookies.clear()
        fuzz(operation, schemathesis.GenerationMode.POSITIVE, POSITIVE_EXAMPLES)
        fuzz(operation, schemathesis.GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES)

    elapsed = time.monotonic() - started
    stateless_calls, stateless_errors = sum(calls.values()), server_errors

    # The stateful phase: chains of calls where each takes the ids the previous answers gave (a label created,
    # then read, edited and deleted), on the same server and world, with the same checks and repairs.
    stateful_started = time.monotonic()
    stateful_calls: dict[str, int] = defaultdict(int)
    stateful = _stateful_machine(
        schema,
        live_server_url=live_server_url,
        session=session,
        auth=auth,
        record=record,
        calls=stateful_calls,
        repair=lambda: _repair(user_id=admin.pk, key_hash=hash_key(raw)),
        own_key_hash=hash_key(raw),
    )
    try:
        stateful.run(
            settings=hypothesis_settings(
                max_examples=STATEFUL_SCENARIOS,
                stateful_step_count=STATEFUL_STEPS,
                derandomize=True,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
                # No shrinking: the chains run against a live server whose state moves on (jobs finish, objects are
                # made), so a replayed chain cannot draw the same steps again.
                phases=(Phase.explicit, Phase.generate),
            )
        )
    except FlakyStrategyDefinition:
        # The same cause inside generation: which steps a chain may take depends on what earlier answers gave (a
        # link followed only from a 2xx), and Hypothesis stops when a chain it replays finds the server changed.
        # Every call made until then was checked like the others; the phase must still have made plenty of them.
        stateful_stopped = True
    else:
        stateful_stopped = False
    assert sum(stateful_calls.values()) >= STATEFUL_MIN_CALLS, (
        f"the stateful phase made only {sum(stateful_calls.values())} calls (stopped early: {stateful_stopped})"
    )
    stateful_elapsed = time.monotonic() - stateful_started
    summary = (
        f"{len(operations)} operations, {sum(calls.values())} calls, {server_errors} answers 5xx, "
        f"{len(failures)} distinct failures, {elapsed + stateful_elapsed:.0f} s; stateless: {stateless_calls} calls "
        f"({stateless_errors} 5xx, {elapsed:.0f} s); stateful: {sum(stateful_calls.values())} calls over "
        f"{len(stateful_calls)} operations in up to {STATEFUL_SCENARIOS} scenarios"
        f"{' (stopped early: the server moved on)' if stateful_stopped else ''} ({server_errors - stateless_errors} "
        f"5xx, {stateful_elapsed:.0f} s); never 2xx: {sorted(set(calls) - succeeded)}"
    )
    print(summary)  # noqa: T201  (the figures the fuzz reports; -s shows them)
    report = "\n\n".join(f"== {label}: {title}\n{detail}" for (label, title), detail in sorted(failures.items()))
    assert not failures, f"{summary}\n\n{report}"
    assert len(calls) == len(operations), "every operation was called"
    assert not refused, f"known-good requests refused: {refused}"
