"""The documents Virtool's own web client (7.12.0) validates: exact shapes, from its zod schemas and components."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analyses.models import Analysis
from jobs.constants import JobState
from jobs.models import Job
from samples.models import Sample
from subtractions.models import Subtraction
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def make_job(user, workflow: str, state: str = JobState.RUNNING, progress: int = 40) -> Job:
    return Job.objects.create(workflow=workflow, size="small", proc=1, mem=1, state=state, progress=progress, user=user)


def job_document(job: Job) -> dict:
    """The client's nested job schema (`types-*.js`): v1 state names, `user: {id, handle}` required; plus `error`
    (why a failed job failed; null here), which the client's schema lets through."""
    return {
        "id": job.pk,
        "created_at": job.created_at.isoformat().replace("+00:00", "Z"),
        "progress": job.progress,
        "state": job.state,
        "user": {"id": job.user.pk, "handle": job.user.handle},
        "workflow": job.workflow,
        "error": None,
    }


def test_analyses_carry_the_full_job_summary(make_user):
    ada = make_user("ada", permissions=["create_sample"])
    sample = Sample.objects.create(name="Leaf", user=ada, ready=True, all_read=True, all_write=True)
    jobs = [make_job(ada, "pathoscope_bowtie", progress=10 * n) for n in range(3)]
    analyses = [Analysis.objects.create(sample=sample, user=ada, job=job, workflow=job.workflow) for job in jobs]
    client = client_for(ada)
    detail = client.get(f"/api/analyses/{analyses[0].pk}").json()
    assert detail["job"] == job_document(jobs[0])
    with CaptureQueriesContext(connection) as few:
        client.get(f"/api/samples/{sample.pk}/analyses")
    Analysis.objects.create(sample=sample, user=ada, job=make_job(make_user("bo"), "nuvs"), workflow="nuvs")
    with CaptureQueriesContext(connection) as more:
        listed = client.get(f"/api/samples/{sample.pk}/analyses").json()["documents"]
    # The job's user comes with the list's one query, not one query per analysis.
    assert len(more) == len(few)
    assert {a["id"]: a["job"] for a in listed}[analyses[1].pk] == job_document(jobs[1])
    assert all(set(a["job"]) == {"id", "created_at", "progress", "state", "user", "workflow", "error"} for a in listed)


def test_subtractions_carry_the_full_job_summary(make_user):
    ada = make_user("ada")
    job = make_job(ada, "create_subtraction", state=JobState.WAITING, progress=3)
    subtraction = Subtraction.objects.create(name="Grapevine", user=ada, job=job)
    Subtraction.objects.create(name="Arabidopsis", user=ada, job=make_job(ada, "create_subtraction"))
    client = client_for(ada)
    assert client.get(f"/api/subtractions/{subtraction.pk}").json()["job"] == job_document(job)
    with CaptureQueriesContext(connection) as few:
        client.get("/api/subtractions")
    Subtraction.objects.create(name="Tomato", user=ada, job=make_job(make_user("bo"), "create_subtraction"))
    with CaptureQueriesContext(connection) as more:
        listed = client.get("/api/subtractions").json()["documents"]
    assert len(more) == len(few)
    assert {s["name"]: s["job"] for s in listed}["Grapevine"] == job_document(job)


USER_KEYS = {
    "id",
    "handle",
    "active",
    "administrator_role",
    "force_reset",
    "groups",
    "primary_group",
    "permissions",
    "last_password_change",
}


@pytest.mark.parametrize("path", ["/api/users", "/api/admin/users"])
def test_user_lists_answer_items_and_documents_with_the_clients_filters(admin_client, make_user, path):
    from django.contrib.auth.models import Group

    lab = Group.objects.create(name="lab")
    make_user("fred", role="users", primary_group=lab)
    make_user("freda").groups.add(lab)
    make_user("gone", is_active=False)
    # The users page: `?page=1&per_page=25&term=&active=true`; it reads items, page and page_count.
    body = admin_client.get(f"{path}?page=1&per_page=25&term=&active=true").json()
    assert set(body) == {"items", "documents", "found_count", "total_count", "page", "page_count", "per_page"}
    assert body["items"] == body["documents"]
    assert [u["handle"] for u in body["items"]] == ["admin", "fred", "freda"]
    assert (body["found_count"], body["total_count"], body["page"], body["page_count"], body["per_page"]) == (
        3,
        4,
        1,
        1,
        25,
    )
    assert all(set(u) == USER_KEYS for u in body["items"])
    fred = body["items"][1]
    assert fred["administrator_role"] == "users"
    assert fred["primary_group"] == {"id": lab.pk, "name": "lab"}
    assert body["items"][2]["groups"] == [{"id": lab.pk, "name": "lab"}]
    assert body["items"][2]["primary_group"] is None
    # `term` filters like `find`; deactivated users are their own tab.
    assert [u["handle"] for u in admin_client.get(f"{path}?term=fre").json()["items"]] == ["fred", "freda"]
    assert [u["handle"] for u in admin_client.get(f"{path}?active=false").json()["items"]] == ["gone"]
    # The administrators page lists `administrator=true`; its grant dialog picks among `administrator=false`.
    admins = admin_client.get(f"{path}?page=1&per_page=25&term=&administrator=true").json()
    assert [u["handle"] for u in admins["items"]] == ["admin", "fred"]
    assert admins["found_count"] == 2
    others = admin_client.get(f"{path}?page=1&per_page=25&term=fre&administrator=false").json()
    assert [u["handle"] for u in others["items"]] == ["freda"]
    bad = admin_client.get(f"{path}?administrator=maybe")
    assert bad.status_code == 400
    assert "administrator" in str(bad.json())


SAMPLE_LIST_KEYS = {
    "latest_calls",
    "id",
    "name",
    "host",
    "isolate",
    "library_type",
    "paired",
    "ready",
    "is_legacy",
    "created_at",
    "labels",
    "user",
    "job",
    "workflows",
    "nuvs",
    "pathoscope",
}


def analyse(sample: Sample, workflow: str, *, ready: bool) -> Analysis:
    job = make_job(sample.user, workflow, state=JobState.COMPLETE if ready else JobState.RUNNING)
    return Analysis.objects.create(sample=sample, user=sample.user, job=job, workflow=workflow, ready=ready)


def test_sample_summaries_carry_workflows_and_legacy_tags_without_a_query_per_sample(make_user):
    ada = make_user("ada")
    client = client_for(ada)
    fresh = Sample.objects.create(name="Fresh", user=ada, ready=True, all_read=True)
    done = Sample.objects.create(name="Done", user=ada, ready=True, all_read=True)
    analyse(done, "pathoscope_bowtie", ready=True)
    analyse(done, "pathoscope_bowtie", ready=False)
    analyse(done, "nuvs", ready=False)
    amplicon = Sample.objects.create(name="Amp", user=ada, ready=True, library_type="amplicon", all_read=True)
    client.get("/api/samples")  # the session's first request does its own reads
    with CaptureQueriesContext(connection) as few:
        client.get("/api/samples")
    for n in range(3):
        more_sample = Sample.objects.create(name=f"More {n}", user=ada, ready=True, all_read=True)
        analyse(more_sample, "nuvs", ready=True)
    with CaptureQueriesContext(connection) as more:
        body = client.get("/api/samples").json()
    assert len(more) == len(few)
    documents = {sample["name"]: sample for sample in body["documents"]}
    assert all(set(sample) == SAMPLE_LIST_KEYS for sample in body["documents"])
    assert documents["Fresh"]["workflows"] == {
        "aodp": "incompatible",
        "iimi": "none",
        "nuvs": "none",
        "pathoscope": "none",
    }
    assert (documents["Fresh"]["nuvs"], documents["Fresh"]["pathoscope"]) == (False, False)
    assert documents["Done"]["workflows"] == {
        "aodp": "incompatible",
        "iimi": "none",
        "nuvs": "pending",
        "pathoscope": "complete",
    }
    assert (documents["Done"]["nuvs"], documents["Done"]["pathoscope"]) == ("ip", True)
    assert documents["Amp"]["workflows"] == {
        "aodp": "none",
        "iimi": "incompatible",
        "nuvs": "incompatible",
        "pathoscope": "incompatible",
    }
    assert documents["More 0"]["workflows"]["nuvs"] == "complete"
    # The sample's own document says the same.
    detail = client.get(f"/api/samples/{done.pk}").json()
    assert (detail["workflows"], detail["nuvs"], detail["pathoscope"]) == (
        documents["Done"]["workflows"],
        "ip",
        True,
    )
    assert client.get(f"/api/samples/{amplicon.pk}").json()["workflows"]["aodp"] == "none"
    assert client.get(f"/api/samples/{fresh.pk}").json()["notes"] == ""


def test_sample_list_workflows_filter(make_user):
    ada = make_user("ada")
    client = client_for(ada)
    Sample.objects.create(name="Fresh", user=ada, ready=True)
    done = Sample.objects.create(name="Done", user=ada, ready=True)
    analyse(done, "pathoscope_bowtie", ready=True)
    running = Sample.objects.create(name="Running", user=ada, ready=True)
    analyse(running, "pathoscope_bowtie", ready=False)
    analyse(running, "nuvs", ready=True)

    def names(query: str) -> set[str]:
        response = client.get(f"/api/samples?{query}")
        assert response.status_code == 200, response.json()
        return {sample["name"] for sample in response.json()["documents"]}

    assert names("workflows=pathoscope:ready") == {"Done"}
    assert names("workflows=pathoscope:pending") == {"Running"}
    assert names("workflows=pathoscope:none") == {"Fresh"}
    # Alternatives for one workflow, all of the workflows at once.
    assert names("workflows=pathoscope:ready&workflows=pathoscope:none") == {"Done", "Fresh"}
    assert names("workflows=pathoscope:pending&workflows=nuvs:ready") == {"Running"}
    assert names("workflows=pathoscope:ready&workflows=nuvs:ready") == set()
    assert names("workflows=pathoscope:ready%20nuvs:none") == {"Done"}
    bad = client.get("/api/samples?workflows=pathoscope:maybe")
    assert bad.status_code == 400
    assert "workflows" in str(bad.json())
    assert "pathoscope:maybe" in str(bad.json())


def test_analyses_tell_the_samples_interface_when_a_samples_workflows_change(
    make_user, channel_reader, django_capture_on_commit_callbacks
):
    from analyses import services
    from core import events

    ada = make_user("ada")
    reader = channel_reader().join(events.user_group(ada.pk))
    sample = Sample.objects.create(name="Leaf", user=ada, ready=True)
    analysis = analyse(sample, "nuvs", ready=False)
    with django_capture_on_commit_callbacks(execute=True):
        services.analysis_finish(analysis_id=analysis.pk, results={"hits": []})
    Job.objects.filter(pk=analysis.job_id).update(state=JobState.COMPLETE)
    with django_capture_on_commit_callbacks(execute=True):
        services.analysis_delete(analysis=Analysis.objects.get(pk=analysis.pk))
    states = [
        message["data"]["workflows"]["nuvs"]
        for message in reader.messages()
        if message["interface"] == "samples" and message["operation"] == "update"
    ]
    assert states == ["complete", "none"]


def test_subtraction_list_and_page_give_what_the_client_reads(make_user, settings, tmp_path):
    from subtractions.selectors import subtractions_path

    settings.DATA_PATH = tmp_path
    ada = make_user("ada")
    job = make_job(ada, "create_subtraction", state=JobState.COMPLETE, progress=100)
    gc = {"a": 0.25, "c": 0.25, "g": 0.25, "t": 0.249, "n": 0.001}
    upload = {"id": 4, "name": "a.fa"}
    subtraction = Subtraction.objects.create(
        name="Grapevine", nickname="Vitis", user=ada, job=job, ready=True, count=3, gc=gc, file=upload
    )
    Sample.objects.create(name="Leaf", user=ada, ready=True).subtractions.add(subtraction)
    folder = subtractions_path(subtraction.pk)
    folder.mkdir(parents=True)
    (folder / "subtraction.fa.gz").write_bytes(b"x" * 10)
    client = client_for(ada)
    # The list page: `?page=1&per_page=25&find=`, reading documents, total_count, page, page_count.
    page = client.get("/api/subtractions?page=1&per_page=25&find=").json()
    assert {"documents", "total_count", "page", "page_count"} <= set(page)
    assert page["documents"] == [
        {
            "id": subtraction.pk,
            "name": "Grapevine",
            "nickname": "Vitis",
            "ready": True,
            "count": 3,
            "gc": gc,
            "file": {"id": 4, "name": "a.fa"},
            "created_at": subtraction.created_at.isoformat().replace("+00:00", "Z"),
            "user": {"id": ada.pk, "handle": "ada"},
            "job": job_document(job),
            "linked_samples": [{"id": Sample.objects.get().pk, "name": "Leaf"}],
        }
    ]
    # Its page links each file as `/api${download_url}`, so download_url is the path under /api (Virtool's).
    detail = client.get(f"/api/subtractions/{subtraction.pk}").json()
    assert detail["files"] == [
        {
            "name": "subtraction.fa.gz",
            "type": "fasta",
            "size": 10,
            "download_url": f"/subtractions/{subtraction.pk}/files/subtraction.fa.gz",
        }
    ]
    assert client.get(f"/api{detail['files'][0]['download_url']}").status_code == 200
