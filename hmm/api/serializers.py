"""HMM documents in Virtool's shapes (`hmm` annotations, the `status` document with its `task`) and input."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from core.api.schema import described
from core.api.serializers import IdField, StrictSerializer, UserBriefSerializer
from hmm.constants import INSTALL_WORKFLOW, STATUS_ID
from hmm.models import HMMStatus
from jobs.constants import ACTIVE_STATES, JobState
from jobs.models import Job, Task

COUNTS = {"type": "object", "additionalProperties": {"type": "integer"}, "description": "{name: count}"}
NAMES = {"type": "array", "items": {"type": "string"}}


class HMMMinimalSerializer(serializers.Serializer):
    """An annotation in lists and websocket messages (Virtool's list projection)."""

    id = serializers.CharField()
    cluster = serializers.IntegerField(help_text="vFam cluster number: the profile is vFam_<cluster>.")
    count = serializers.IntegerField(help_text="Protein sequences in the cluster.")
    # Stored JSON, sent as it is.
    names = described(NAMES, help_text="The most common protein names (up to three).")
    families = described(COUNTS, help_text="Virus families of the cluster's sequences, with counts.")


class HMMEntrySerializer(serializers.Serializer):
    """One protein sequence of a cluster."""

    accession = serializers.CharField()
    gi = serializers.CharField()
    name = serializers.CharField()
    organism = serializers.CharField()


class HMMSerializer(HMMMinimalSerializer):
    """A whole annotation."""

    genera = described(COUNTS, help_text="Virus genera of the cluster's sequences, with counts.")
    entries = described(HMMEntrySerializer(many=True))
    length = serializers.IntegerField(help_text="Consensus positions (match states) of the profile.")
    mean_entropy = serializers.FloatField()
    total_entropy = serializers.FloatField()
    hidden = serializers.BooleanField()


class HMMTaskSerializer(serializers.Serializer):
    """Virtool's `task` of an install, read from its job: complete once the data is installed."""

    id = serializers.SerializerMethodField(help_text="Virtool's task id; null for data installed by the command.")
    job_id = serializers.CharField(
        source="pk", allow_null=True, help_text="The install job; null for data installed by the command."
    )
    type = serializers.SerializerMethodField()
    state = serializers.ChoiceField(choices=JobState.values, help_text="The install job's state.")
    complete = serializers.SerializerMethodField()
    progress = serializers.IntegerField()
    step = serializers.SerializerMethodField()
    step_name = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()
    # Fields named like Field.context, Field.source and Serializer.errors: DRF's metaclass moves declared fields off
    # the class, so those attributes stay intact; the stubs cannot tell.
    context = serializers.DictField(  # type: ignore[assignment]
        source="args", help_text="What is installed: the upload's id, name and size."
    )
    count = serializers.SerializerMethodField()
    file_size = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_id(self, job: Job) -> int | None:
        return _task_id(job.pk)

    def get_type(self, job: Job) -> str:
        return INSTALL_WORKFLOW

    def get_complete(self, job: Job) -> bool:
        return job.state == JobState.COMPLETE

    def get_step(self, job: Job) -> str:
        # Virtool's client shows the step with `_` turned into a space; waiting jobs have no step yet.
        return str(_last(job).get("stage") or job.state)

    def get_step_name(self, job: Job) -> str | None:
        return _last(job).get("step_name")

    def get_error(self, job: Job) -> str | None:
        return install_error(job)

    def get_count(self, job: Job) -> int:
        return 0

    def get_file_size(self, job: Job) -> int | None:
        size = job.args.get("size")
        return size if isinstance(size, int) else None


def _task_id(job_id: str | None) -> int | None:
    """Virtool's integer task id of the install job `job_id` (None: no job, or it is gone)."""
    if not job_id:
        return None
    return Task.objects.filter(job_id=job_id).values_list("pk", flat=True).first()


def _last(job: Job) -> dict[str, Any]:
    return job.status[-1] if job.status else {}


def install_error(job: Job) -> str | None:
    """Why an install job did not install anything, in its own words; None while it runs or once it succeeded."""
    if job.state in ACTIVE_STATES or job.state == JobState.COMPLETE:
        return None
    if job.state == JobState.CANCELLED:
        return "The install was cancelled."
    error = next((record["error"] for record in reversed(job.status) if record.get("error")), None)
    details = (error or {}).get("details") or []
    return " ".join(details) or f"The install ended in {job.state}."


def installed_task(installed: dict[str, Any]) -> dict[str, Any]:
    """The complete task of the data in use, from what was installed (its job may be gone, or there was none)."""
    job_id = (installed.get("job") or {}).get("id")
    return {
        "id": _task_id(job_id),
        "job_id": job_id,
        "type": INSTALL_WORKFLOW,
        "state": JobState.COMPLETE.value,
        "complete": True,
        "progress": 100,
        "step": "import_annotations",
        "step_name": "Import annotations",
        "error": None,
        "context": {"name": installed.get("name")},
        "count": 0,
        "file_size": installed.get("size"),
        "created_at": installed.get("created_at"),
    }


class HMMInstalledSerializer(serializers.Serializer):
    """What is installed: its name, source and size, when and by whom; release fields when it came from one."""

    name = serializers.CharField()
    source = serializers.ChoiceField(  # type: ignore[assignment]  # see HMMTaskSerializer.context
        choices=["upload", "archive", "folder", "release"], required=False, help_text="Where the data came from."
    )
    filename = serializers.CharField(required=False)
    size = serializers.IntegerField(required=False, allow_null=True)
    count = serializers.IntegerField(required=False, help_text="Profiles installed.")
    ready = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    user = UserBriefSerializer(allow_null=True)
    job = inline_serializer("HMMUpdateJob", {"id": serializers.CharField()}, allow_null=True, required=False)
    # Release fields (Virtool's `virtool/virtool-hmm` releases), present when installed from one.
    id = serializers.IntegerField(required=False)
    body = serializers.CharField(required=False)
    html_url = serializers.CharField(required=False)
    published_at = serializers.DateTimeField(required=False)
    newer = serializers.BooleanField(required=False)


class HMMReleaseSerializer(serializers.Serializer):
    """The newest release of the `hmm_slug` repository, as the release refresher records it."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    body = serializers.CharField(allow_blank=True, help_text="The release notes.")
    etag = serializers.CharField(required=False, allow_null=True, help_text="GitHub's ETag: the next check sends it.")
    filename = serializers.CharField()
    size = serializers.IntegerField()
    html_url = serializers.CharField(allow_null=True)
    download_url = serializers.CharField()
    published_at = serializers.DateTimeField(allow_null=True)
    content_type = serializers.CharField(required=False, allow_null=True)
    newer = serializers.BooleanField(help_text="Newer than the installed release (true when none is installed).")
    retrieved_at = serializers.DateTimeField(required=False, help_text="When GitHub last answered a check.")


def _public(document: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stored installed/update document without what only this server needs (its folder)."""
    if document is None:
        return None
    return {key: value for key, value in document.items() if key != "folder"}


class HMMStatusSerializer(serializers.Serializer):
    """Virtool's status document `hmm`: what is installed, the newest release, past updates and the install task."""

    id = serializers.SerializerMethodField()
    installed = serializers.SerializerMethodField()
    # Stored JSON, sent as it is.
    release = described(HMMReleaseSerializer(allow_null=True))
    updates = serializers.SerializerMethodField()
    updating = serializers.SerializerMethodField()
    errors = serializers.SerializerMethodField()  # type: ignore[assignment]  # see HMMTaskSerializer.context
    task = serializers.SerializerMethodField()

    def get_id(self, status: HMMStatus) -> str:
        return STATUS_ID

    @extend_schema_field(HMMInstalledSerializer(allow_null=True))
    def get_installed(self, status: HMMStatus) -> dict[str, Any] | None:
        return _public(status.installed)

    @extend_schema_field(HMMInstalledSerializer(many=True))
    def get_updates(self, status: HMMStatus) -> list[dict[str, Any]]:
        return [entry for entry in map(_public, status.updates) if entry is not None]

    def get_updating(self, status: HMMStatus) -> bool:
        job = status.job  # no query when there is none
        return job is not None and job.state in ACTIVE_STATES

    @extend_schema_field(HMMTaskSerializer(allow_null=True))
    def get_task(self, status: HMMStatus) -> dict[str, Any] | None:
        job = status.job  # no query when there is none
        if job is not None and (job.state in ACTIVE_STATES or job.state == JobState.COMPLETE):
            return HMMTaskSerializer(job).data
        if status.installed:
            # Virtool's client reads a complete task as "HMMs are installed" (NuVs may start): after a failed or
            # cancelled reinstall the data installed before is still in use, so the task is the one that installed
            # it. The failure is told in `errors`.
            return installed_task(status.installed)
        return None

    @extend_schema_field(
        {
            **NAMES,
            "description": "What went wrong: the last install that failed, a release that could not be looked up.",
        }
    )
    def get_errors(self, status: HMMStatus) -> list[str]:
        errors = [str(error) for error in status.errors]
        job = status.job  # no query when there is none
        reason = None if job is None else install_error(job)
        if job is not None and reason is not None:
            name = job.args.get("name") or "the HMMs"
            errors.append(
                f"The install of {name} was cancelled."
                if job.state == JobState.CANCELLED
                else f"Installing {name} failed. {reason}"
            )
        return errors


class HMMInstallSerializer(StrictSerializer):
    """POST /hmms/status/updates: the upload (a release archive) to install."""

    upload_id = IdField(required=False, help_text="An upload of type `hmm`: a release archive such as vthmm.tar.gz.")
