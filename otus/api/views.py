"""OTUs, isolates, sequences and history API (/otus, /history, and a reference's /otus and /history); writes need
the reference right `modify_otu`."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.pagination import VirtoolPagination, query_bool, query_int
from core.api.schema import FIND, LOCATION, PAGE_PARAMETERS, error_responses, int_parameter, one_of, page_serializer
from core.api.serializers import created, validated
from core.errors import NotFound
from otus import selectors, services
from otus.api.serializers import (
    ChangeMinimalSerializer,
    ChangeSerializer,
    GenBankRecordSerializer,
    IsolateCreateSerializer,
    IsolateDocumentSerializer,
    IsolateUpdateSerializer,
    OTUCreateSerializer,
    OTUMinimalSerializer,
    OTUSerializer,
    OTUUpdateSerializer,
    SequenceCreateSerializer,
    SequenceDocumentSerializer,
    SequenceUpdateSerializer,
    isolate_out,
    otu_out,
    sequence_row_out,
)
from otus.genbank import ACCESSION_PATTERN, genbank_fetch
from otus.models import OTU
from references.selectors import reference_get, reference_require
from users.authentication import request_user


def _writable(request: Request, otu_id: str) -> OTU:
    otu = selectors.otu_get(otu_id=otu_id)
    reference_require(user=request_user(request), reference=otu.reference, right="modify_otu")
    return otu


def _otu_document(otu_id: str) -> dict:
    joined = selectors.otu_joined(otu_id=otu_id)
    if joined is None:
        raise NotFound("OTU does not exist")
    return otu_out(joined, most_recent_change=selectors.history_list(otu_id=otu_id).first())


def _isolate_document(otu_id: str, isolate_id: str) -> dict:
    joined = selectors.otu_joined(otu_id=otu_id)
    isolate = next((i for i in (joined or {}).get("isolates", []) if i["id"] == isolate_id), None)
    if isolate is None:
        raise NotFound("Isolate does not exist")
    return isolate_out(isolate)


def _fasta(body: str, filename: str) -> HttpResponse:
    response = HttpResponse(body + "\n", content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class OTUView(APIView):
    """GET/PATCH/DELETE /otus/{id} (GET ?version=N: the OTU as it was at version N)."""

    @extend_schema(
        parameters=[int_parameter("version", minimum=0, description="An earlier version.")],
        responses=OTUSerializer,
    )
    def get(self, request: Request, otu_id: str) -> Response:
        if "version" in request.query_params:
            version = query_int(request, "version", 0, minimum=0)
            document = selectors.otu_at_version(otu_id=otu_id, version=version)
            if document is None:
                raise NotFound("OTU did not exist at that version")
            return Response(otu_out(document))
        return Response(_otu_document(otu_id))

    @extend_schema(request=OTUUpdateSerializer, responses=OTUSerializer)
    def patch(self, request: Request, otu_id: str) -> Response:
        _writable(request, otu_id)
        services.otu_update(otu_id=otu_id, data=validated(OTUUpdateSerializer, request), user=request_user(request))
        return Response(_otu_document(otu_id))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, otu_id: str) -> Response:
        _writable(request, otu_id)
        services.otu_remove(otu_id=otu_id, user=request_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class OTUFastaView(APIView):
    """GET /otus/{id}.fa: every sequence of every isolate."""

    @extend_schema(responses={(200, "text/plain"): OpenApiTypes.STR})
    def get(self, request: Request, otu_id: str) -> HttpResponse:
        joined = selectors.otu_joined(otu_id=otu_id)
        if joined is None:
            raise NotFound("OTU does not exist")
        entries = [
            selectors.fasta_entry(joined["name"], isolate, s["_id"], s["sequence"])
            for isolate in joined["isolates"]
            for s in isolate["sequences"]
        ]
        return _fasta("\n".join(entries), selectors.fasta_filename(joined["name"]))


class OTUHistoryView(APIView):
    """GET /otus/{id}/history: every change of one OTU, newest first."""

    @extend_schema(responses=ChangeSerializer(many=True))
    def get(self, request: Request, otu_id: str) -> Response:
        changes = selectors.history_list(otu_id=otu_id)
        if not changes.exists() and not OTU.objects.filter(pk=otu_id).exists():
            raise NotFound("OTU does not exist")
        return Response(ChangeSerializer(changes, many=True).data)


class IsolatesView(APIView):
    """GET/POST /otus/{id}/isolates."""

    @extend_schema(operation_id="isolates_list", responses=IsolateDocumentSerializer(many=True))
    def get(self, request: Request, otu_id: str) -> Response:
        joined = selectors.otu_joined(otu_id=otu_id)
        if joined is None:
            raise NotFound("OTU does not exist")
        return Response([isolate_out(i) for i in joined["isolates"]])

    @extend_schema(request=IsolateCreateSerializer, responses={201: IsolateDocumentSerializer}, parameters=[LOCATION])
    def post(self, request: Request, otu_id: str) -> Response:
        _writable(request, otu_id)
        isolate = services.isolate_add(
            otu_id=otu_id, data=validated(IsolateCreateSerializer, request), user=request_user(request)
        )
        return created(_isolate_document(otu_id, isolate["id"]), f"/api/otus/{otu_id}/isolates/{isolate['id']}")


class IsolateView(APIView):
    """GET/PATCH/DELETE /otus/{id}/isolates/{iid}."""

    @extend_schema(responses=IsolateDocumentSerializer)
    def get(self, request: Request, otu_id: str, isolate_id: str) -> Response:
        return Response(_isolate_document(otu_id, isolate_id))

    @extend_schema(request=IsolateUpdateSerializer, responses=IsolateDocumentSerializer)
    def patch(self, request: Request, otu_id: str, isolate_id: str) -> Response:
        _writable(request, otu_id)
        data = validated(IsolateUpdateSerializer, request)
        services.isolate_update(otu_id=otu_id, isolate_id=isolate_id, data=data, user=request_user(request))
        return Response(_isolate_document(otu_id, isolate_id))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, otu_id: str, isolate_id: str) -> Response:
        _writable(request, otu_id)
        services.isolate_remove(otu_id=otu_id, isolate_id=isolate_id, user=request_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class IsolateDefaultView(APIView):
    """PUT /otus/{id}/isolates/{iid}/default."""

    @extend_schema(request=None, responses=IsolateDocumentSerializer)
    def put(self, request: Request, otu_id: str, isolate_id: str) -> Response:
        _writable(request, otu_id)
        services.isolate_set_default(otu_id=otu_id, isolate_id=isolate_id, user=request_user(request))
        return Response(_isolate_document(otu_id, isolate_id))


class IsolateFastaView(APIView):
    """GET /otus/{id}/isolates/{iid}.fa."""

    @extend_schema(responses={(200, "text/plain"): OpenApiTypes.STR})
    def get(self, request: Request, otu_id: str, isolate_id: str) -> HttpResponse:
        otu = selectors.otu_get(otu_id=otu_id)
        isolate = selectors.isolate_get(otu=otu, isolate_id=isolate_id)
        entries = [
            selectors.fasta_entry(otu.name, isolate, s.pk, s.sequence)
            for s in otu.sequences.filter(isolate_id=isolate_id).order_by("position", "id")
        ]
        from otus.documents import isolate_name

        return _fasta("\n".join(entries), selectors.fasta_filename(otu.name, isolate_name(isolate)))


class SequencesView(APIView):
    """GET/POST /otus/{id}/isolates/{iid}/sequences."""

    @extend_schema(operation_id="sequences_list", responses=SequenceDocumentSerializer(many=True))
    def get(self, request: Request, otu_id: str, isolate_id: str) -> Response:
        return Response(_isolate_document(otu_id, isolate_id)["sequences"])

    @extend_schema(request=SequenceCreateSerializer, responses={201: SequenceDocumentSerializer}, parameters=[LOCATION])
    def post(self, request: Request, otu_id: str, isolate_id: str) -> Response:
        _writable(request, otu_id)
        data = validated(SequenceCreateSerializer, request)
        sequence = services.sequence_create(otu_id=otu_id, isolate_id=isolate_id, data=data, user=request_user(request))
        return created(sequence_row_out(sequence), f"/api/otus/{otu_id}/isolates/{isolate_id}/sequences/{sequence.pk}")


class SequenceView(APIView):
    """GET/PATCH/DELETE /otus/{id}/isolates/{iid}/sequences/{sid}."""

    @extend_schema(responses=SequenceDocumentSerializer)
    def get(self, request: Request, otu_id: str, isolate_id: str, sequence_id: str) -> Response:
        sequence = selectors.sequence_get(otu_id=otu_id, isolate_id=isolate_id, sequence_id=sequence_id)
        return Response(sequence_row_out(sequence))

    @extend_schema(request=SequenceUpdateSerializer, responses=SequenceDocumentSerializer)
    def patch(self, request: Request, otu_id: str, isolate_id: str, sequence_id: str) -> Response:
        _writable(request, otu_id)
        data = validated(SequenceUpdateSerializer, request)
        sequence = services.sequence_update(
            otu_id=otu_id, isolate_id=isolate_id, sequence_id=sequence_id, data=data, user=request_user(request)
        )
        return Response(sequence_row_out(sequence))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, otu_id: str, isolate_id: str, sequence_id: str) -> Response:
        _writable(request, otu_id)
        services.sequence_remove(
            otu_id=otu_id, isolate_id=isolate_id, sequence_id=sequence_id, user=request_user(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class SequenceFastaView(APIView):
    """GET /otus/{id}/isolates/{iid}/sequences/{sid}.fa."""

    @extend_schema(responses={(200, "text/plain"): OpenApiTypes.STR})
    def get(self, request: Request, otu_id: str, isolate_id: str, sequence_id: str) -> HttpResponse:
        otu = selectors.otu_get(otu_id=otu_id)
        isolate = selectors.isolate_get(otu=otu, isolate_id=isolate_id)
        sequence = selectors.sequence_get(otu_id=otu_id, isolate_id=isolate_id, sequence_id=sequence_id)
        from otus.documents import isolate_name

        return _fasta(
            selectors.fasta_entry(otu.name, isolate, sequence.pk, sequence.sequence),
            selectors.fasta_filename(otu.name, isolate_name(isolate), sequence.pk),
        )


class HistoryView(APIView):
    """GET /history: every change, newest first."""

    @extend_schema(
        operation_id="history_list",
        parameters=PAGE_PARAMETERS,
        responses=page_serializer("ChangePage", ChangeMinimalSerializer),
    )
    def get(self, request: Request) -> Response:
        paginator = VirtoolPagination()
        queryset = selectors.history_list()
        page = paginator.paginate(request=request, queryset=queryset, total_queryset=queryset)
        return paginator.get_paginated_response(ChangeMinimalSerializer(page["objects"], many=True).data)


class ChangeView(APIView):
    """GET /history/{id}; DELETE reverts it and every later change of its OTU (right `modify_otu`)."""

    @extend_schema(responses=ChangeSerializer)
    def get(self, request: Request, change_id: str) -> Response:
        return Response(ChangeSerializer(selectors.change_get(change_id=change_id)).data)

    @extend_schema(responses={204: None, **error_responses(409)})
    def delete(self, request: Request, change_id: str) -> Response:
        change = selectors.change_get(change_id=change_id)
        reference_require(user=request_user(request), reference=change.reference, right="modify_otu")
        services.change_revert(change=change)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReferenceOTUsView(APIView):
    """GET /refs/{id}/otus (search by name or abbreviation), POST (right `modify_otu`)."""

    @extend_schema(
        operation_id="refs_otus_list",
        parameters=[
            FIND,
            OpenApiParameter("verified", bool),
            OpenApiParameter("names", bool, description="Answer with a bare list of `{id, name}`."),
            *PAGE_PARAMETERS,
        ],
        responses=one_of(
            "OTUList",
            page_serializer(
                "OTUPage",
                OTUMinimalSerializer,
                modified_count=serializers.IntegerField(help_text="OTUs with changes not built into an index."),
            ),
            inline_serializer("OTUName", {"id": serializers.CharField(), "name": serializers.CharField()}, many=True),
        ),
    )
    def get(self, request: Request, ref_id: str) -> Response:
        reference = reference_get(reference_id=ref_id)
        queryset = selectors.otu_list(
            reference_id=reference.pk,
            find=request.query_params.get("find", ""),
            verified=query_bool(request, "verified"),
        )
        if query_bool(request, "names"):
            return Response([{"id": otu.pk, "name": otu.name} for otu in queryset.only("id", "name")])
        paginator = VirtoolPagination()
        page = paginator.paginate(
            request=request, queryset=queryset, total_queryset=selectors.otu_list(reference_id=reference.pk)
        )
        response = paginator.get_paginated_response(OTUMinimalSerializer(page["objects"], many=True).data)
        response.data["modified_count"] = (
            selectors.history_list(reference_id=reference.pk, unbuilt=True).values("otu_id").distinct().count()
        )
        return response

    @extend_schema(request=OTUCreateSerializer, responses={201: OTUSerializer}, parameters=[LOCATION])
    def post(self, request: Request, ref_id: str) -> Response:
        reference = reference_get(reference_id=ref_id)
        user = request_user(request)
        reference_require(user=user, reference=reference, right="modify_otu")
        otu = services.otu_create(reference=reference, data=validated(OTUCreateSerializer, request), user=user)
        joined = selectors.otu_joined(otu_id=otu.pk)
        assert joined is not None  # the OTU was just created
        change = selectors.history_list(otu_id=otu.pk).first()
        return created(otu_out(joined, most_recent_change=change), f"/api/otus/{otu.pk}")


class ReferenceHistoryView(APIView):
    """GET /refs/{id}/history?unbuilt=true|false."""

    @extend_schema(
        operation_id="refs_history_list",
        parameters=[OpenApiParameter("unbuilt", bool), *PAGE_PARAMETERS],
        responses=page_serializer("ChangePage", ChangeMinimalSerializer),
    )
    def get(self, request: Request, ref_id: str) -> Response:
        reference = reference_get(reference_id=ref_id)
        queryset = selectors.history_list(reference_id=reference.pk, unbuilt=query_bool(request, "unbuilt"))
        paginator = VirtoolPagination()
        page = paginator.paginate(
            request=request, queryset=queryset, total_queryset=selectors.history_list(reference_id=reference.pk)
        )
        return paginator.get_paginated_response(ChangeMinimalSerializer(page["objects"], many=True).data)


class GenBankView(APIView):
    """GET /genbank/{accession}: the NCBI nuccore record of an accession, to fill a new sequence with."""

    @extend_schema(
        operation_id="genbank_retrieve",
        parameters=[
            OpenApiParameter(
                "accession",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                pattern=ACCESSION_PATTERN,
                description="A GenBank accession, with or without its version (`NC_005267.1`), or a GI number.",
            )
        ],
        responses={200: GenBankRecordSerializer, **error_responses(400, 502)},
    )
    def get(self, request: Request, accession: str) -> Response:
        return Response(GenBankRecordSerializer(genbank_fetch(accession=accession)).data)
