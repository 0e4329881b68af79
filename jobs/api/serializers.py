"""Jobs API documents in Virtool's shapes."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.schema import described
from core.api.serializers import UserBriefSerializer, job_error
from core.version import get_version
from jobs.constants import ACTIVE_STATES, V2_STATE, JobSize, JobState, JobStateV2
from jobs.models import Job, Task
from jobs.subjects import jobs_subjects
from jobs.workflow import get_workflow


def _user(job: Job) -> dict | None:
    return None if job.user is None else {"id": job.user.pk, "handle": job.user.handle}


def _last(job: Job) -> dict:
    return job.status[-1] if job.status else {}


class JobErrorSerializer(serializers.Serializer):
    """Why a job failed: the exception's type and traceback, and sentences a scientist can act on."""

    type = serializers.CharField()
    traceback = serializers.ListField(child=serializers.CharField())
    details = serializers.ListField(child=serializers.CharField())


class JobStatusSerializer(serializers.Serializer):
    """One record of a job's status history (Virtool's shape)."""

    state = serializers.ChoiceField(choices=JobState.choices)
    stage = serializers.CharField(allow_null=True)
    step_name = serializers.CharField(allow_null=True)
    step_description = serializers.CharField(allow_null=True)
    error = JobErrorSerializer(allow_null=True)
    progress = serializers.IntegerField()
    timestamp = serializers.DateTimeField()


class JobPingSerializer(serializers.Serializer):
    """When the job's worker last said it was alive."""

    pinged_at = serializers.DateTimeField()


class JobSubjectSerializer(serializers.Serializer):
    """An object the job's args name: which arg, what kind of object, its id, name and page (null: none)."""

    arg = serializers.CharField()
    kind = serializers.CharField()
    id = serializers.CharField()
    name = serializers.CharField()
    url = serializers.CharField(allow_null=True)


class JobMinimalSerializer(serializers.Serializer):
    """A job in lists and in documents that embed it (e.g. a sample's `job`)."""

    id = serializers.CharField()
    workflow = serializers.CharField()
    state = serializers.ChoiceField(choices=JobState.choices)
    stage = serializers.SerializerMethodField()
    step_name = serializers.SerializerMethodField()
    progress = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    user = serializers.SerializerMethodField()
    ping = serializers.SerializerMethodField()
    subjects = serializers.SerializerMethodField()

    @extend_schema_field(JobSubjectSerializer(many=True))
    def get_subjects(self, job: Job) -> list[dict]:
        """What the job works on, by name, with a link (lists pass the names of a whole page in the context)."""
        names = self.context.get("subjects")
        if names is None:
            names = jobs_subjects([job])
        return names.get(job.pk, [])

    def get_stage(self, job: Job) -> str | None:
        return _last(job).get("stage")

    def get_step_name(self, job: Job) -> str | None:
        return _last(job).get("step_name")

    @extend_schema_field(UserBriefSerializer(allow_null=True))
    def get_user(self, job: Job) -> dict | None:
        return _user(job)

    @extend_schema_field(JobPingSerializer(allow_null=True))
    def get_ping(self, job: Job) -> dict | None:
        return (
            None
            if job.pinged_at is None
            else {"pinged_at": serializers.DateTimeField().to_representation(job.pinged_at)}
        )


class JobSerializer(JobMinimalSerializer):
    """A job with its arguments, reservation and status history."""

    args = serializers.DictField(help_text="The workflow's arguments (ids of the objects it works on).")
    size = serializers.ChoiceField(choices=JobSize.values)
    proc = serializers.IntegerField()
    mem = serializers.IntegerField()
    # Stored records, sent as they are.
    status = described(JobStatusSerializer(many=True))
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    cancel_requested = serializers.BooleanField()


# Virtool's `counts[state][workflow]`, every state present.
JobCountsSerializer = type(
    "JobCountsSerializer",
    (serializers.Serializer,),
    {
        "__doc__": "How many jobs of each workflow are in each state.",
        **{state: serializers.DictField(child=serializers.IntegerField()) for state in JobState.values},
    },
)


class JobsClearedSerializer(serializers.Serializer):
    """DELETE /jobs: the ids of the jobs removed."""

    removed = serializers.ListField(child=serializers.CharField())


# --- Virtool 36.x's second jobs API (`/api/jobs/v2`) ----------------------------------------------------------------


def _v2_state(job: Job) -> str:
    return str(V2_STATE[JobState(job.state)])


class JobClaimSerializer(serializers.Serializer):
    """Who runs the job: the Celery node (`runner_id`) and what it reserved (our workers run no images)."""

    cpu = serializers.IntegerField()
    mem = serializers.IntegerField()
    runner_id = serializers.CharField()
    image = serializers.CharField(help_text="Empty: jobs run on the worker's own tools, not in a container image.")
    runtime_version = serializers.CharField()
    workflow_version = serializers.CharField()


class JobStepSerializer(serializers.Serializer):
    """One step of the job's workflow and when the job started it (null: not yet)."""

    id = serializers.CharField(help_text="The step's function name (v1 `stage`).")
    name = serializers.CharField()
    description = serializers.CharField()
    started_at = serializers.DateTimeField(allow_null=True)


class JobV2MinimalSerializer(serializers.Serializer):
    """A job in `/api/jobs/v2` lists: v2 state names, and always a user."""

    id = serializers.CharField()
    workflow = serializers.CharField()
    state = serializers.SerializerMethodField()
    progress = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    user = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ChoiceField(choices=JobStateV2.choices))
    def get_state(self, job: Job) -> str:
        return _v2_state(job)

    @extend_schema_field(UserBriefSerializer())
    def get_user(self, job: Job) -> dict | None:
        return _user(job)


class JobV2Serializer(JobV2MinimalSerializer):
    """`/api/jobs/v2/{id}`: the job with its arguments, claim and steps."""

    args = serializers.DictField(help_text="The workflow's arguments (ids of the objects it works on).")
    claim = serializers.SerializerMethodField()
    claimed_at = serializers.DateTimeField(source="started_at", allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    steps = serializers.SerializerMethodField()

    @extend_schema_field(JobClaimSerializer(allow_null=True))
    def get_claim(self, job: Job) -> dict | None:
        if not job.worker:
            return None
        return {
            "cpu": job.proc,
            "mem": job.mem,
            "runner_id": job.worker,
            "image": "",
            "runtime_version": get_version(),
            "workflow_version": get_version(),
        }

    @extend_schema_field(JobStepSerializer(many=True, allow_null=True))
    def get_steps(self, job: Job) -> list[dict] | None:
        try:
            steps = get_workflow(job.workflow).steps()
        except KeyError:  # a workflow no longer installed
            return None
        started: dict[str, str] = {}
        for record in job.status:
            stage = record.get("stage")
            if stage and stage not in started:
                started[stage] = record.get("timestamp")
        return [
            {"id": s.name, "name": s.display_name, "description": s.description, "started_at": started.get(s.name)}
            for s in steps
        ]


JobCountsV2Serializer = type(
    "JobCountsV2Serializer",
    (serializers.Serializer,),
    {
        "__doc__": "How many jobs of each workflow are in each v2 state.",
        **{state: serializers.DictField(child=serializers.IntegerField()) for state in JobStateV2.values},
    },
)


# --- Virtool's tasks (`/api/tasks`): the engine work Virtool does not call a job ------------------------------------


def task_error(job: Job) -> str | None:
    """Why a task's job did not finish its work, in its own words; None while it runs or once it succeeded."""
    return job_error(job, noun="task")


class TaskSerializer(serializers.Serializer):
    """Virtool's task document, read from the task's job: `complete` once the job has finished (`error` says
    why when it failed), `step` the current step's function name (the state before the first step)."""

    id = serializers.IntegerField()
    type = serializers.SerializerMethodField()
    complete = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()
    step = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()
    # Named like Field.context: DRF's metaclass moves declared fields off the class; the stubs cannot tell.
    context = serializers.SerializerMethodField()  # type: ignore[assignment]
    count = serializers.SerializerMethodField()
    file_size = serializers.SerializerMethodField()
    created_at = serializers.SerializerMethodField()

    def get_type(self, task: Task) -> str:
        return task.job.workflow

    def get_complete(self, task: Task) -> bool:
        return task.job.state not in ACTIVE_STATES

    def get_progress(self, task: Task) -> int:
        return task.job.progress

    def get_step(self, task: Task) -> str:
        return str(_last(task.job).get("stage") or task.job.state)

    def get_error(self, task: Task) -> str | None:
        return task_error(task.job)

    @extend_schema_field(serializers.DictField())
    def get_context(self, task: Task) -> dict:
        return dict(task.job.args)

    def get_count(self, task: Task) -> int:
        return 0

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_file_size(self, task: Task) -> int | None:
        size = task.job.args.get("size")
        return size if isinstance(size, int) else None

    @extend_schema_field(serializers.DateTimeField())
    def get_created_at(self, task: Task) -> str:
        return serializers.DateTimeField().to_representation(task.job.created_at)
