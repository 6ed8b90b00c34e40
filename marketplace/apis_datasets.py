"""/api/v1/projects/<id>/answers/, …/preferences/ and …/datasheet/: data for training pipelines, and who made it.

Answers and preference pairs are labelled data: a declared purpose the DUA permits is required and the export
is logged with the rows sent (services/exports.py). The datasheet holds aggregates only.
"""

from __future__ import annotations

import json

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from coop.exports import streamed
from coop.permissions import IsClient, IsMember

from . import agreement, dataset_exports
from .apis import _client_project, described_by_datasheet, export_format, export_since
from .datasheet import project_datasheet
from .pseudonyms import worker_pseudonym
from .services import exports

PURPOSE = OpenApiParameter("purpose", str, required=True, description="the declared purpose (checked against the DUA)")
FORMAT = OpenApiParameter("format", str, enum=["jsonl", "csv"], description="jsonl (default) or csv")
STREAMED = {(200, "application/x-ndjson"): OpenApiTypes.STR, (200, "text/csv"): OpenApiTypes.STR}


def json_cells(row: dict) -> dict:
    """CSV cells of a row: objects (an answer's payload) as compact JSON."""
    return {key: json.dumps(value, separators=(",", ":")) if isinstance(value, dict) else value for key, value in row.items()}


def answers_stream(*, project, fmt: str, entry, since=None):
    """The streamed answers file (JSON Lines or CSV), counted into its export log `entry`."""
    lines = dataset_exports.answer_lines(project=project, since=since) if fmt != "csv" else None  # built by PostgreSQL
    rows = exports.export_rows_counted(lines or dataset_exports.answer_rows(project=project, since=since), entry=entry)
    return streamed(
        fmt, rows, fields=dataset_exports.ANSWER_FIELDS, filename=f"project-{project.pk}-answers", prepare_csv=json_cells, encoded=lines is not None
    )


class ProjectAnswersExportApi(APIView):
    """Every individual answer (not only the consensus label), workers as pseudonyms, oldest first; streamed."""

    permission_classes = [IsClient]

    @extend_schema(
        parameters=[PURPOSE, FORMAT, OpenApiParameter("since", OpenApiTypes.DATETIME, description="only answers submitted after this time")],
        responses=STREAMED,
    )
    def get(self, request, project_id: int):
        project = _client_project(request, project_id)
        fmt, since = export_format(request), export_since(request)
        entry = exports.export_begin(project=project, purpose=request.query_params.get("purpose", ""))
        response = answers_stream(project=project, fmt=fmt, entry=entry, since=since)
        return described_by_datasheet(request, response, project)


class ProjectPreferencesApi(APIView):
    """Preference pairs {"prompt", "chosen", "rejected"} (TRL's reward/DPO format) from a pairwise project; ties left out."""

    permission_classes = [IsClient]

    @extend_schema(
        parameters=[
            PURPOSE,
            FORMAT,
            OpenApiParameter("source", str, enum=list(dataset_exports.PREFERENCE_SOURCES),
                             description="labels (default): one pair per task, from the consensus; answers: one per accepted answer"),
        ],
        responses={**STREAMED, 409: OpenApiResponse(description="not_a_preference_project")},
    )
    def get(self, request, project_id: int):
        project = _client_project(request, project_id)
        fmt, source = export_format(request), request.query_params.get("source", "labels")
        dataset_exports.preference_check(project, source)
        entry = exports.export_begin(project=project, purpose=request.query_params.get("purpose", ""))
        rows = exports.export_rows_counted(dataset_exports.preference_rows(project=project, source=source), entry=entry)
        response = streamed(fmt, rows, fields=dataset_exports.PREFERENCE_FIELDS, filename=f"project-{project.pk}-preferences")
        return described_by_datasheet(request, response, project)


class ProjectDatasheetApi(APIView):
    """The project's datasheet: raters in aggregate (cells under 5 suppressed), their pay, the DUA, dates."""

    permission_classes = [IsClient]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, project_id: int):
        return Response(project_datasheet(project=_client_project(request, project_id)))


class ProjectAgreementApi(APIView):
    """Agreement by the type's measure (Krippendorff's alpha, Kendall's W) for the project and per worker (pseudonyms)."""

    permission_classes = [IsClient]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, project_id: int):
        project = _client_project(request, project_id)
        workers = [
            {"worker": worker_pseudonym(organization_id=project.organization_id, worker_id=worker_id), **figures}
            for worker_id, figures in sorted(agreement.worker_agreement(project=project).items())
        ]
        return Response({"project": agreement.project_agreement(project=project), "workers": workers})


class MyAgreementApi(APIView):
    """Your own agreement with the accepted labels, per project you worked on."""

    permission_classes = [IsMember]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response({"projects": agreement.member_agreement(worker=request.user)})
