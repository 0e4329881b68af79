"""Base input serializers: unknown fields and explicit nulls are refused per field, as Virtool does."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from core.constants import DB_INT_MAX, DB_INT_MIN, TEXT_MAX_LENGTH, SampleGroupSetting
from core.models import InstanceSettings

# Input serializers validate request bodies into dicts and are never bound to an instance; the output ones here
# describe documents that are dicts or rows alike (a user brief is `{id, handle}` or a `User`).
AnySerializer = serializers.Serializer[Any]


def bound_field(field: serializers.Field[Any, Any, Any, Any]) -> None:
    """Give a field without limits of its own the defaults: text at most TEXT_MAX_LENGTH characters, integers
    within the database's 64-bit range (so no input reaches the database unbounded); list and dict children too.
    The limits are set where DRF and the schema read them, with DRF's own validators and messages."""
    if isinstance(field, serializers.ListField | serializers.DictField):
        bound_field(field.child)
    elif isinstance(field, serializers.CharField) and field.max_length is None:
        field.max_length = TEXT_MAX_LENGTH
        message = field.error_messages["max_length"].format(max_length=TEXT_MAX_LENGTH)
        field.validators.append(MaxLengthValidator(TEXT_MAX_LENGTH, message=message))
    elif isinstance(field, serializers.IntegerField):
        if field.max_value is None:
            field.max_value = DB_INT_MAX
            message = field.error_messages["max_value"].format(max_value=DB_INT_MAX)
            field.validators.append(MaxValueValidator(DB_INT_MAX, message=message))
        if field.min_value is None:
            field.min_value = DB_INT_MIN
            message = field.error_messages["min_value"].format(min_value=DB_INT_MIN)
            field.validators.append(MinValueValidator(DB_INT_MIN, message=message))


class StrictSerializer(AnySerializer):
    """An input serializer that rejects fields it does not declare and nulls it does not allow, and bounds every
    text and integer field that has no limit of its own (`bound_field`)."""

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        for field in fields.values():
            bound_field(field)
        return fields

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": [serializers.ErrorDetail("Expected a JSON object", code="type_error.dict")]}
            )
        errors = {}
        for key in data:
            if key not in self.fields or self.fields[key].read_only:
                errors[key] = [serializers.ErrorDetail("extra fields not permitted", code="unknown")]
        for key, value in data.items():
            field = self.fields.get(key)
            if value is None and field is not None and not field.allow_null:
                errors[key] = [serializers.ErrorDetail("Value may not be null", code="null")]
        if errors:
            raise serializers.ValidationError(errors)
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            _type_codes(self, exc.detail)
            raise


class IdField(serializers.IntegerField):
    """An integer id in a body, refused (naming the field) outside the 64-bit range of the database's columns."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", DB_INT_MIN)
        kwargs.setdefault("max_value", DB_INT_MAX)
        super().__init__(**kwargs)


# pydantic-v1 type codes for a value of the wrong type, by field class (DRF only says "invalid").
_INVALID_TYPE_CODES = (
    (serializers.BooleanField, "type_error.bool"),
    (serializers.IntegerField, "type_error.integer"),
    (serializers.FloatField, "type_error.float"),
    (serializers.EmailField, "value_error.email"),
    (serializers.CharField, "type_error.str"),
)


def _type_codes(serializer: AnySerializer, detail: Any) -> None:
    if not isinstance(detail, dict):
        return
    for name, errors in detail.items():
        field = serializer.fields.get(name)
        code = next((code for cls, code in _INVALID_TYPE_CODES if isinstance(field, cls)), None)
        if code and isinstance(errors, list):
            detail[name] = [
                serializers.ErrorDetail(str(error), code=code) if getattr(error, "code", "") == "invalid" else error
                for error in errors
            ]


def validated(serializer_class: type[AnySerializer], request: Request, **kwargs: Any) -> dict[str, Any]:
    """Validate the request body with `serializer_class` and return the validated data (400 otherwise)."""
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def created(data: Any, location: str) -> Response:
    """A 201 response carrying `Location`, as every Virtool create does."""
    response = Response(data, status=201)
    response["Location"] = location
    return response


class UserBriefSerializer(AnySerializer):
    """`{id, handle}` of a user, as documents name their creator."""

    id = serializers.IntegerField()
    handle = serializers.CharField()


class FileDocumentSerializer(AnySerializer):
    """A file of a build present on disk."""

    name = serializers.CharField()
    type = serializers.CharField()
    size = serializers.IntegerField()
    download_url = serializers.CharField(
        help_text="The path under /api, as Virtool gives it: `/subtractions/{id}/files/{name}`."
    )


class NamedSerializer(AnySerializer):
    """`{id, name}`."""

    id = serializers.CharField()
    name = serializers.CharField()


class JobSummarySerializer(AnySerializer):
    """The job nested in samples, analyses, subtractions, indexes and references, as Virtool's client checks it
    (v1 state names)."""

    id = serializers.CharField()
    created_at = serializers.DateTimeField()
    progress = serializers.IntegerField()
    state = serializers.CharField()
    user = UserBriefSerializer(allow_null=True)
    workflow = serializers.CharField()
    error = serializers.CharField(
        allow_null=True, help_text="Why the job did not finish its work, in words; null while it runs or once it did."
    )


# Job states that end without the work done, and what each says when the job's own error gives no words
# (`{noun}`: "job", or "task" for what Virtool calls a task).
_ENDED_WITHOUT_WORK = {
    "cancelled": "The {noun} was cancelled.",
    "error": "The {noun} failed.",
    "terminated": "The {noun} was stopped: the worker running it went away.",
    "timeout": "The {noun} ran out of time.",
}


def job_error(job: Any, *, noun: str = "job") -> str | None:
    """Why a job (a `jobs.Job`) ended without doing its work, from its last error record; None otherwise."""
    fallback = _ENDED_WITHOUT_WORK.get(job.state)
    if fallback is None:
        return None
    fallback = fallback.format(noun=noun)
    if job.state == "cancelled":
        return fallback
    error = next((record["error"] for record in reversed(job.status or []) if record.get("error")), None)
    details = [str(line) for line in (error or {}).get("details") or []]
    return " ".join(details) or fallback


def job_summary(job: Any) -> dict[str, Any] | None:
    """`{id, created_at, progress, state, user: {id, handle}, workflow, error}` of a job (a `jobs.Job`), or None.
    Virtool's summary plus `error` (why a failed job failed). Selectors `select_related("job__user")` so that lists
    cost no query per row."""
    if job is None:
        return None
    user = job.user
    return {
        "id": job.pk,
        "created_at": serializers.DateTimeField().to_representation(job.created_at),
        "progress": job.progress,
        "state": job.state,
        "user": {"id": user.pk, "handle": user.handle} if user is not None else None,
        "workflow": job.workflow,
        "error": job_error(job),
    }


class SettingsSerializer(serializers.Serializer[InstanceSettings]):
    """Instance settings with Virtool's keys."""

    default_source_types = serializers.ListField(child=serializers.CharField())
    enable_api = serializers.BooleanField()
    enable_sentry = serializers.BooleanField()
    hmm_slug = serializers.CharField()
    minimum_password_length = serializers.IntegerField()
    sample_all_read = serializers.BooleanField()
    sample_all_write = serializers.BooleanField()
    sample_group = serializers.CharField(allow_null=True)
    sample_group_read = serializers.BooleanField()
    sample_group_write = serializers.BooleanField()
    sample_unique_names = serializers.BooleanField()


class SettingsUpdateSerializer(StrictSerializer):
    """PATCH /settings: any subset of the keys."""

    # The instance always offers at least one source type (the model refuses an empty list).
    default_source_types = serializers.ListField(
        child=serializers.CharField(min_length=1), allow_empty=False, required=False
    )
    enable_api = serializers.BooleanField(required=False)
    enable_sentry = serializers.BooleanField(required=False)
    hmm_slug = serializers.RegexField(r"^[\w.-]+/[\w.-]+$", max_length=200, required=False)
    minimum_password_length = serializers.IntegerField(min_value=1, max_value=128, required=False)
    sample_all_read = serializers.BooleanField(required=False)
    sample_all_write = serializers.BooleanField(required=False)
    sample_group = serializers.ChoiceField(choices=SampleGroupSetting.values, allow_null=True, required=False)
    sample_group_read = serializers.BooleanField(required=False)
    sample_group_write = serializers.BooleanField(required=False)
    sample_unique_names = serializers.BooleanField(required=False)


class RootSerializer(serializers.Serializer[Mapping[str, Any]]):
    """GET /api: what a client needs before it signs in."""

    endpoints = serializers.DictField(child=serializers.CharField(), help_text="Each resource's path.")
    first_user = serializers.BooleanField(help_text="True until the first user is created (PUT /api/users/first).")
    version = serializers.CharField()
    dev = serializers.BooleanField()


class InstanceMessageSerializer(serializers.Serializer[Mapping[str, Any]]):
    """The banner shown to every user."""

    message = serializers.CharField()
    color = serializers.CharField()
    active = serializers.BooleanField()


class InstanceMessageUpdateSerializer(StrictSerializer):
    """PUT/PATCH /instance_message."""

    message = serializers.CharField(allow_blank=True, max_length=2000, required=False)
    color = serializers.RegexField(r"^(#[0-9a-fA-F]{3,8}|[a-z]{3,16})?$", required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)
