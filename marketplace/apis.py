"""Marketplace client API (/api/v1/, organization tokens): projects, task import, results, tasks and answers.

The worker API (members) is apis_work.py."""

from __future__ import annotations

import json

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.views import APIView

from coop import validation
from coop.error_codes import CoopErrorCode
from coop.errors import ApplicationError, NotFound
from coop.exports import streamed
from coop.pagination import PAGE_PARAMETERS, page_of, paginated
from coop.permissions import IsClient, client_organization
from marketplace.error_codes import MarketplaceErrorCode

from . import dataset_exports, import_formats, selectors
from .api_params import client_project as _client_project
from .models import Project, Task
from .serializers import (
    ImportOutput,
    ProjectCreatedOutput,
    ProjectDetailOutput,
    ProjectInput,
    ProjectOutput,
)
from .services import exports, importing, projects, task_drafts

# --- Client API ---------------------------------------------------------------------------------


class ProjectListApi(APIView):
    permission_classes = [IsClient]

    @extend_schema(operation_id="v1_projects_list", parameters=PAGE_PARAMETERS, responses=page_of(ProjectOutput, "Project"))
    def get(self, request):
        return paginated(request, selectors.project_list_for_client(organization=client_organization(request)), ProjectOutput, view=self)

    @extend_schema(request=ProjectInput, responses={201: ProjectCreatedOutput})
    def post(self, request):
        data = ProjectInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = request.user if request.user.pk else None
        project = projects.project_create(organization=client_organization(request), created_by=user, **data.validated_data)
        return Response(ProjectCreatedOutput(project).data, status=status.HTTP_201_CREATED)


class ProjectUpdateInput(ProjectInput):
    """Any subset of the project's editable fields; the service checks them against the project as it stands."""

    def validate(self, attrs):
        unknown = set(self.initial_data) - set(self.fields) if isinstance(self.initial_data, dict) else set()
        if "task_type" in attrs or "task_type" in unknown:
            raise serializers.ValidationError({"task_type": "The task type of a project cannot change; create a new project."})
        if unknown:
            raise serializers.ValidationError({key: "Not an editable field." for key in sorted(unknown)})
        return attrs  # overlap vs max_overlap is checked against the stored values by the model's constraint


class ProjectDetailApi(APIView):
    permission_classes = [IsClient]

    @extend_schema(responses=ProjectDetailOutput)
    def get(self, request, project_id: int):
        return Response(ProjectDetailOutput(_client_project(request, project_id)).data)

    @extend_schema(
        request=ProjectUpdateInput,
        responses={200: ProjectDetailOutput, 409: OpenApiResponse(description="only draft projects can be edited (not_draft)")},
    )
    def patch(self, request, project_id: int):
        """Edit a draft. A webhook secret created by setting a first webhook URL is returned once, as at creation."""
        project = _client_project(request, project_id)
        data = ProjectUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        had_secret = bool(project.webhook_secret)
        project = projects.project_update(project=project, **data.validated_data)
        body = ProjectDetailOutput(project).data
        if project.webhook_secret and not had_secret:
            body["webhook_secret"] = project.webhook_secret
        return Response(body)


class _RawStreamParser(BaseParser):
    """Leaves the body unread so the import can stream it; accepts JSON and JSON Lines."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):  # pragma: no cover - never called
        return {}


JSONL_TYPES = ("application/x-ndjson", "application/jsonl", "application/x-jsonlines", "application/json-lines")


class ProjectTasksImportApi(APIView):
    """Bulk import: `{"tasks": [...]}` as application/json, one task per line as application/x-ndjson, or text/csv with a header.

    CSV columns: `external_id`, optional `gold`, and the task type's data columns (text, image, hint, prompt, response_a, response_b).
    """

    permission_classes = [IsClient]
    parser_classes = [_RawStreamParser]

    @extend_schema(
        request={"application/json": OpenApiTypes.OBJECT, "application/x-ndjson": OpenApiTypes.STR, "text/csv": OpenApiTypes.STR},
        responses={201: ImportOutput, 409: OpenApiResponse(description="project status refuses imports"), 422: OpenApiResponse(description="rows rejected (listed with line numbers)")},
    )
    def post(self, request, project_id: int):
        project = _client_project(request, project_id)
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length <= 0:
            raise ApplicationError("The request body is empty.", code=MarketplaceErrorCode.EMPTY_IMPORT, status=400)
        if length > settings.TASK_IMPORT_MAX_BYTES:
            raise ApplicationError(
                f"The import is larger than {settings.TASK_IMPORT_MAX_BYTES // 2**20} MB; split it.", code=CoopErrorCode.TOO_LARGE, status=413
            )
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        stream = request._request  # the raw Django request is a file-like stream of the body
        if content_type in JSONL_TYPES:
            rows = importing.iter_jsonl_rows(iter(stream.readline, b""))
        elif content_type == "application/json":
            rows = importing.iter_json_rows(stream)
        elif content_type == "text/csv":
            rows = import_formats.iter_csv_rows(iter(stream.readline, b""))
        else:
            raise ApplicationError(
                "Send application/json, application/x-ndjson or text/csv.", code=CoopErrorCode.UNSUPPORTED_MEDIA_TYPE, status=415
            )
        report = importing.tasks_import(project=project, rows=rows)
        project.refresh_from_db()
        body = {"imported": report.imported, "gold": report.gold, "project": ProjectDetailOutput(project).data}
        return Response(body, status=status.HTTP_201_CREATED)


class _ProjectActionApi(APIView):
    permission_classes = [IsClient]
    transition = None

    @extend_schema(request=None, responses={200: ProjectOutput, 409: OpenApiResponse(description="refused: reason code in error.code"), 422: OpenApiResponse(description="refused: reason code in error.code")})
    def post(self, request, project_id: int):
        project = type(self).transition(project=_client_project(request, project_id))
        return Response(ProjectOutput(project).data)


class ProjectPublishApi(_ProjectActionApi):
    transition = staticmethod(projects.project_publish)


class ProjectPauseApi(_ProjectActionApi):
    transition = staticmethod(projects.project_pause)


class ProjectCancelApi(_ProjectActionApi):
    transition = staticmethod(projects.project_cancel)


class ResumeVoteInput(serializers.Serializer):
    statement = serializers.CharField(max_length=4000, help_text="What changed since the pause; the members read it before they vote.")


class ResumeVoteOutput(serializers.Serializer):
    proposal_id = serializers.IntegerField(source="pk")
    title = serializers.CharField()
    status = serializers.CharField()
    opens_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField()


class ProjectResumeVoteApi(APIView):
    """Ask the members to lift a pause by the members or a steward (your own pauses you lift by publishing)."""

    permission_classes = [IsClient]

    @extend_schema(
        request=ResumeVoteInput,
        responses={
            201: ResumeVoteOutput,
            409: OpenApiResponse(description="not paused by members or a steward (resume_needs_no_vote), or a vote is already open"),
        },
    )
    def post(self, request, project_id: int):
        project = _client_project(request, project_id)
        data = ResumeVoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        proposal = projects.project_resume_propose(project=project, statement=data.validated_data["statement"])
        return Response(ResumeVoteOutput(proposal).data, status=status.HTTP_201_CREATED)


class ProjectResultsApi(APIView):
    """Accepted labels, one line per task, streamed in constant memory as JSON Lines (default) or CSV."""

    permission_classes = [IsClient]
    CSV_FIELDS = ["task_id", "external_id", "label", "agreement", "method", "accepted_at", "annotators"]

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=["jsonl", "csv"], description="jsonl (default) or csv"),
            OpenApiParameter("since", OpenApiTypes.DATETIME, description="only labels accepted after this time"),
            OpenApiParameter("purpose", str, description="the declared purpose of this export (checked against the DUA)"),
        ],
        responses={(200, "application/x-ndjson"): OpenApiTypes.STR, (200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request, project_id: int):
        project = _client_project(request, project_id)
        fmt, since = export_format(request), export_since(request)
        entry = exports.export_begin(project=project, purpose=request.query_params.get("purpose", ""))
        return described_by_datasheet(request, results_stream(project=project, fmt=fmt, since=since, entry=entry), project)


def described_by_datasheet(request, response, project: Project):
    """Every export names its datasheet: `Link: <…/datasheet/>; rel="describedby"`."""
    response["Link"] = f'<{request.build_absolute_uri(f"/api/v1/projects/{project.pk}/datasheet/")}>; rel="describedby"'
    return response


def export_format(request) -> str:
    """?format=jsonl|csv (default from the Accept header, else jsonl)."""
    default = "csv" if "text/csv" in request.headers.get("Accept", "") else "jsonl"
    fmt = request.query_params.get("format", default)
    if fmt not in ("jsonl", "csv"):
        raise ApplicationError("format must be jsonl or csv.", fields={"format": ["jsonl or csv"]}, status=400)
    return fmt


def export_since(request):
    """?since=<ISO 8601 date-time>, or None."""
    if not request.query_params.get("since"):
        return None
    since = validation.datetime_or_none(request.query_params["since"])
    if since is None:
        raise ApplicationError("'since' must be an ISO 8601 date-time.", fields={"since": ["Invalid date-time."]}, status=400)
    return since


def results_stream(*, project: Project, fmt: str, entry, since=None):
    """The streamed results file (JSON Lines or CSV) of a project, counted into its export log `entry` (export_begin)."""
    lines = dataset_exports.label_lines(project=project, since=since) if fmt != "csv" else None  # built by PostgreSQL
    return streamed(
        fmt,
        exports.export_rows_counted(lines or dataset_exports.label_rows(project=project, since=since), entry=entry),
        fields=ProjectResultsApi.CSV_FIELDS,
        encoded=lines is not None,
        filename=f"project-{project.pk}-results",
        prepare_csv=lambda row: {
            **row,
            "label": json.dumps(row["label"], separators=(",", ":")),
            "annotators": " ".join(row["annotators"]),
        },
    )


class TaskOutput(serializers.ModelSerializer):
    has_image = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = ["id", "external_id", "data", "has_image", "is_gold", "gold", "state", "answer_count", "required_answers", "created_at"]

    def get_has_image(self, task) -> bool:
        return bool(task.image)


class TaskPageOutput(serializers.Serializer):
    results = TaskOutput(many=True)
    next = serializers.CharField(allow_null=True, help_text="The URL of the next page, or null on the last page.")


class TaskListInput(serializers.Serializer):
    state = serializers.ChoiceField(choices=Task.State.choices, required=False)
    gold = serializers.BooleanField(required=False, allow_null=True, default=None)
    external_id = serializers.CharField(max_length=200, required=False)
    after = serializers.IntegerField(min_value=0, required=False, default=0, help_text="Return tasks with an id above this one.")
    limit = serializers.IntegerField(min_value=1, max_value=500, required=False, default=100)


class ProjectTasksApi(ProjectTasksImportApi):
    """GET: the project's tasks in id order, filtered, a page at a time (keyset paging: constant cost at any depth). POST: import."""

    @extend_schema(
        operation_id="v1_projects_tasks_list",
        parameters=[TaskListInput],
        responses={200: TaskPageOutput, 404: OpenApiResponse(description="not one of your projects")},
    )
    def get(self, request, project_id: int):
        project = _client_project(request, project_id)
        params = TaskListInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        tasks = selectors.tasks_page(project=project, **params.validated_data)
        limit = params.validated_data["limit"]
        next_url = None
        if len(tasks) > limit:
            tasks = tasks[:limit]
            query = request.query_params.copy()
            query["after"] = str(tasks[-1].pk)
            next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        return Response({"results": TaskOutput(tasks, many=True).data, "next": next_url})


def _client_task(project: Project, task_id) -> Task:
    task = Task.objects.filter(project=project, pk=task_id).first()
    if task is None:
        raise NotFound("No such task in this project.")
    return task


class TaskDetailApi(APIView):
    permission_classes = [IsClient]

    @extend_schema(responses=TaskOutput)
    def get(self, request, project_id: int, task_id: int):
        return Response(TaskOutput(_client_task(_client_project(request, project_id), task_id)).data)

    @extend_schema(request=None, responses={204: None, 409: OpenApiResponse(description="the project is not a draft (not_draft)")})
    def delete(self, request, project_id: int, task_id: int):
        project = _client_project(request, project_id)
        task = _client_task(project, task_id)
        task_drafts.tasks_delete_draft(project=project, task_ids=[task.pk])
        return Response(status=status.HTTP_204_NO_CONTENT)


class TaskAnswerOutput(serializers.Serializer):
    id = serializers.IntegerField()
    worker = serializers.CharField(help_text="The worker's pseudonymous id, as in results exports.")
    payload = serializers.DictField()
    status = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    active_seconds = serializers.IntegerField()


class TaskAnswersOutput(serializers.Serializer):
    task = TaskOutput()
    label = serializers.DictField(allow_null=True)
    answers = TaskAnswerOutput(many=True)


class TaskAnswersApi(APIView):
    """Every answer to one task (workers pseudonymous) and its label. Labelled data: a declared purpose the DUA permits is required and the export is logged."""

    permission_classes = [IsClient]

    @extend_schema(
        parameters=[OpenApiParameter("purpose", str, required=True, description="the declared purpose (checked against the DUA)")],
        responses={200: TaskAnswersOutput},
    )
    def get(self, request, project_id: int, task_id: int):
        project = _client_project(request, project_id)
        task = _client_task(project, task_id)
        entry = exports.export_begin(project=project, purpose=request.query_params.get("purpose", ""))
        answers = selectors.task_answers_for_client(task=task)
        exports.export_finish(entry=entry, rows=len(answers["answers"]))
        return Response(TaskAnswersOutput(answers).data)
