"""References API: input serializers and the output documents (Virtool's shapes)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from core.api.schema import described
from core.api.serializers import (
    IdField,
    JobSummarySerializer,
    NamedSerializer,
    StrictSerializer,
    UserBriefSerializer,
    job_summary,
)
from jobs.api.serializers import TaskSerializer
from jobs.constants import ACTIVE_STATES
from otus.api.serializers import ContributorSerializer
from references.call_rules import CALL_RULE_HELP, MAX_MIN_MEDIAN_DEPTH, MAX_MIN_READS, call_rules_effective
from references.constants import DataType
from references.models import Reference, ReferenceMember

if TYPE_CHECKING:
    from otus.selectors import Contributor
    from users.models import User


def user_brief(user: User | None) -> dict | None:
    """`{id, handle}` of a user, or None."""
    return {"id": user.pk, "handle": user.handle} if user is not None else None


class ReferenceUserMemberSerializer(serializers.Serializer):
    """A user member of a reference with its rights."""

    id = serializers.IntegerField(source="user_id")
    handle = serializers.CharField(source="user.handle")
    build = serializers.BooleanField()
    modify = serializers.BooleanField()
    modify_otu = serializers.BooleanField()
    remove = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class ReferenceGroupMemberSerializer(serializers.Serializer):
    """A group member of a reference with its rights."""

    id = serializers.IntegerField(source="group_id")
    name = serializers.CharField(source="group.name")
    build = serializers.BooleanField()
    modify = serializers.BooleanField()
    modify_otu = serializers.BooleanField()
    remove = serializers.BooleanField()
    created_at = serializers.DateTimeField()


def member_document(member: ReferenceMember) -> dict[str, Any]:
    """A user or group member with its rights."""
    serializer = ReferenceUserMemberSerializer if member.user_id else ReferenceGroupMemberSerializer
    return serializer(member).data


class TargetDocumentSerializer(serializers.Serializer):
    """A barcode target."""

    name = serializers.CharField()
    description = serializers.CharField()
    # A field named like Field.required: DRF moves declared fields off the class, the stubs cannot tell.
    required = serializers.BooleanField()  # type: ignore[assignment]
    length = serializers.IntegerField(allow_null=True)


class LatestBuildSerializer(serializers.Serializer):
    """The newest ready index of a reference."""

    id = serializers.CharField()
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    user = UserBriefSerializer(allow_null=True)
    has_json = serializers.BooleanField()


class InternalControlSerializer(serializers.Serializer):
    """The OTU a reference names as its internal control (`name` null once the OTU is gone)."""

    id = serializers.CharField()
    name = serializers.CharField(allow_null=True)


class CallRulesSerializer(serializers.Serializer):
    """The call rules in force on a reference: the ones set on it, the defaults for the rest."""

    min_reads = serializers.IntegerField(help_text=CALL_RULE_HELP["min_reads"])
    min_coverage = serializers.FloatField(help_text=CALL_RULE_HELP["min_coverage"])
    min_median_depth = serializers.FloatField(help_text=CALL_RULE_HELP["min_median_depth"])
    min_weight = serializers.FloatField(help_text=CALL_RULE_HELP["min_weight"])


class ImportedFromSerializer(serializers.Serializer):
    """The upload a reference was imported from."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    user = inline_serializer("ImportedFromUser", {"id": serializers.IntegerField(allow_null=True)})


class ReleaseSerializer(serializers.Serializer):
    """A GitHub release of a remote reference, as Virtool keeps it (`newer` and `retrieved_at` by the refresher)."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    body = serializers.CharField()
    etag = serializers.CharField(allow_null=True, required=False)
    filename = serializers.CharField()
    size = serializers.IntegerField()
    html_url = serializers.CharField(allow_null=True)
    download_url = serializers.CharField()
    published_at = serializers.CharField(allow_null=True)
    content_type = serializers.CharField(allow_null=True)
    newer = serializers.BooleanField(required=False)
    retrieved_at = serializers.CharField(required=False)


class ReleaseEntrySerializer(serializers.Serializer):
    """An install or update of a remote reference: the release, who asked for it, when, and whether it is done."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    body = serializers.CharField()
    filename = serializers.CharField()
    size = serializers.IntegerField()
    html_url = serializers.CharField(allow_null=True)
    download_url = serializers.CharField()
    published_at = serializers.CharField(allow_null=True)
    content_type = serializers.CharField(allow_null=True)
    created_at = serializers.CharField()
    ready = serializers.BooleanField()
    user = inline_serializer("ReleaseEntryUser", {"id": serializers.IntegerField()}, allow_null=True)


class PlannedOTUSerializer(serializers.Serializer):
    """An OTU here that a release changes (`local_changes`: edited here since it last came from the release)."""

    id = serializers.CharField()
    name = serializers.CharField()
    local_changes = serializers.BooleanField()


class ReleasePreviewSerializer(serializers.Serializer):
    """What installing the newest known release of a remote reference would change."""

    release = ReleaseSerializer()
    installed = ReleaseEntrySerializer(allow_null=True)
    updated = PlannedOTUSerializer(many=True)
    created = inline_serializer(
        "ReleaseNewOTU", {"remote_id": serializers.CharField(), "name": serializers.CharField()}, many=True
    )
    removed = PlannedOTUSerializer(many=True)
    kept = PlannedOTUSerializer(many=True)
    unchanged = serializers.IntegerField()


class RemotesFromSerializer(serializers.Serializer):
    """Where a remote reference comes from, and what went wrong when its releases were last checked."""

    slug = serializers.CharField()
    # A field named like Serializer.errors: DRF moves declared fields off the class, the stubs cannot tell.
    errors = serializers.ListField(child=serializers.CharField())  # type: ignore[assignment]


class ReferenceMinimalSerializer(serializers.Serializer):
    """A reference in lists and websocket messages, with its computed counts and latest build."""

    id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    data_type = serializers.ChoiceField(choices=DataType.values)
    organism = serializers.CharField()
    created_at = serializers.DateTimeField()
    user = serializers.SerializerMethodField()
    internal_control = serializers.SerializerMethodField()
    call_rules = serializers.SerializerMethodField()
    restrict_source_types = serializers.BooleanField()
    # Stored JSON, sent as it is.
    source_types = described({"type": "array", "items": {"type": "string"}})
    targets = described(TargetDocumentSerializer(many=True, allow_null=True))
    cloned_from = described(NamedSerializer(allow_null=True))
    imported_from = described(ImportedFromSerializer(allow_null=True))
    remotes_from = described(RemotesFromSerializer(allow_null=True))
    installed = described(ReleaseEntrySerializer(allow_null=True))
    release = described(ReleaseSerializer(allow_null=True))
    updating = serializers.SerializerMethodField()
    ready = serializers.BooleanField()
    task = serializers.SerializerMethodField()
    job = serializers.SerializerMethodField()
    # Annotated by references.selectors.reference_queryset, which every caller reads references through.
    otu_count = serializers.IntegerField()
    unbuilt_change_count = serializers.IntegerField()
    latest_build = serializers.SerializerMethodField()
    users = serializers.SerializerMethodField()
    groups = serializers.SerializerMethodField()

    @extend_schema_field(UserBriefSerializer(allow_null=True))
    def get_user(self, reference: Reference) -> dict | None:
        return user_brief(reference.user)

    @extend_schema_field(InternalControlSerializer(allow_null=True))
    def get_internal_control(self, reference: Reference) -> dict | None:
        from otus.models import OTU

        if not reference.internal_control:
            return None
        name = OTU.objects.filter(pk=reference.internal_control).values_list("name", flat=True).first()
        return {"id": reference.internal_control, "name": name}

    @extend_schema_field(CallRulesSerializer)
    def get_call_rules(self, reference: Reference) -> dict:
        return call_rules_effective(reference.call_rules)

    def get_updating(self, reference: Reference) -> bool:
        """A remote update is running (the client shows its task's progress instead of the release)."""
        job = reference.job  # no query when there is none
        return job is not None and job.workflow == "update_remote_reference" and job.state in ACTIVE_STATES

    @extend_schema_field(TaskSerializer(allow_null=True))
    def get_task(self, reference: Reference) -> dict | None:
        """Virtool's task that filled the reference (import, clone), as `/api/tasks/{id}` shows it."""
        job = reference.job  # no query when there is none
        # A job that is not a task has no `virtool_task` (the missing reverse row raises an AttributeError).
        task = None if job is None else getattr(job, "virtool_task", None)
        return None if task is None else TaskSerializer(task).data

    @extend_schema_field(JobSummarySerializer(allow_null=True))
    def get_job(self, reference: Reference) -> dict | None:
        return job_summary(reference.job)

    @extend_schema_field(LatestBuildSerializer(allow_null=True))
    def get_latest_build(self, reference: Reference) -> dict | None:
        from indexes.models import Index

        builds = self.context.get("latest_builds")  # a list reads them for all its rows at once
        if builds is not None:
            latest = builds.get(reference.pk)
        else:
            latest = (
                Index.objects.filter(reference=reference, ready=True)
                .select_related("user")
                .order_by("-version")
                .first()
            )
        return None if latest is None else LatestBuildSerializer(latest).data

    @extend_schema_field(ReferenceUserMemberSerializer(many=True))
    def get_users(self, reference: Reference) -> list[dict]:
        return [member_document(m) for m in reference.members.all() if m.user_id]

    @extend_schema_field(ReferenceGroupMemberSerializer(many=True))
    def get_groups(self, reference: Reference) -> list[dict]:
        return [member_document(m) for m in reference.members.all() if m.group_id]


class ReferenceSerializer(ReferenceMinimalSerializer):
    """A reference with who contributed to it and, for a remote reference, every install and update."""

    contributors = serializers.SerializerMethodField()
    updates = described(ReleaseEntrySerializer(many=True))

    @extend_schema_field(ContributorSerializer(many=True))
    def get_contributors(self, reference: Reference) -> list[Contributor]:
        from otus.selectors import contributors, history_list

        return contributors(queryset=history_list(reference_id=reference.pk))


def reference_document(reference: Reference, *, detail: bool = True) -> dict[str, Any]:
    """A reference as Virtool returns it, with computed `otu_count`, `unbuilt_change_count`, `latest_build`."""
    return (ReferenceSerializer if detail else ReferenceMinimalSerializer)(reference).data


# A reference's description (Virtool sets no limit); other free text gets core's TEXT_MAX_LENGTH.
DESCRIPTION_MAX_LENGTH = 10_000


class TargetSerializer(StrictSerializer):
    """A barcode target."""

    name = serializers.CharField(max_length=100)
    description = serializers.CharField(allow_blank=True, required=False, default="")
    # A field named like Field.required: DRF moves declared fields off the class, the stubs cannot tell.
    required = serializers.BooleanField(required=False, default=False)  # type: ignore[assignment]
    length = serializers.IntegerField(required=False, allow_null=True, default=None)


class ReferenceCreateSerializer(StrictSerializer):
    """POST /refs: an empty reference, or one of `import_from` (upload), `clone_from` (reference id) or `remote_from`
    (a GitHub repository of VIRTOOL_REMOTE_REFERENCES, with an optional `release_id`)."""

    name = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")
    description = serializers.CharField(allow_blank=True, max_length=DESCRIPTION_MAX_LENGTH, required=False, default="")
    data_type = serializers.ChoiceField(choices=DataType.values, required=False, default="genome")
    organism = serializers.CharField(allow_blank=True, required=False, default="")
    import_from = serializers.CharField(required=False)
    clone_from = serializers.CharField(required=False)
    release_id = serializers.IntegerField(required=False, min_value=1, allow_null=True)
    remote_from = serializers.CharField(required=False)

    def validate_remote_from(self, value: str) -> str:
        allowed = settings.VIRTOOL_REMOTE_REFERENCES
        if value not in allowed:
            raise serializers.ValidationError(f"Only {', '.join(allowed)} may be installed as a remote reference")
        return value

    def validate(self, attrs: dict) -> dict:
        sources = [key for key in ("import_from", "clone_from", "remote_from") if attrs.get(key)]
        if len(sources) > 1:
            raise serializers.ValidationError(
                f"Give only one of import_from, clone_from and remote_from, not {sources}"
            )
        if attrs.get("release_id") is not None and not attrs.get("remote_from"):
            raise serializers.ValidationError({"release_id": ["release_id goes with remote_from"]})
        return attrs


class CallRulesUpdateSerializer(StrictSerializer):
    """The call rules to change; a rule given as null goes back to its default."""

    min_reads = serializers.IntegerField(
        min_value=0, max_value=MAX_MIN_READS, required=False, allow_null=True, help_text=CALL_RULE_HELP["min_reads"]
    )
    min_coverage = serializers.FloatField(
        min_value=0, max_value=1, required=False, allow_null=True, help_text=CALL_RULE_HELP["min_coverage"]
    )
    min_median_depth = serializers.FloatField(
        min_value=0,
        max_value=MAX_MIN_MEDIAN_DEPTH,
        required=False,
        allow_null=True,
        help_text=CALL_RULE_HELP["min_median_depth"],
    )
    min_weight = serializers.FloatField(
        min_value=0, max_value=1, required=False, allow_null=True, help_text=CALL_RULE_HELP["min_weight"]
    )


class ReferenceUpdateSerializer(StrictSerializer):
    """PATCH /refs/{id}."""

    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(allow_blank=True, max_length=DESCRIPTION_MAX_LENGTH, required=False)
    organism = serializers.CharField(allow_blank=True, required=False)
    internal_control = serializers.CharField(allow_blank=True, allow_null=True, required=False)
    restrict_source_types = serializers.BooleanField(required=False)
    source_types = serializers.ListField(child=serializers.CharField(max_length=50), required=False)
    targets = TargetSerializer(many=True, required=False)
    call_rules = CallRulesUpdateSerializer(
        required=False,
        allow_null=True,
        help_text="Rules of the PathoScope calls: the rules given change, null resets them all to the defaults.",
    )


class RightsSerializer(StrictSerializer):
    """Member rights."""

    build = serializers.BooleanField(required=False)
    modify = serializers.BooleanField(required=False)
    modify_otu = serializers.BooleanField(required=False)
    remove = serializers.BooleanField(required=False)


class UserMemberCreateSerializer(RightsSerializer):
    """POST /refs/{id}/users."""

    user_id = IdField()


class GroupMemberCreateSerializer(RightsSerializer):
    """POST /refs/{id}/groups."""

    group_id = IdField()
