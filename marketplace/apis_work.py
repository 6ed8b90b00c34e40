"""Marketplace worker API (/api/v1/work/, members' tokens): the next task (and prefetch), submit, heartbeat,
release, a task's image, my submissions and appeals, my work records."""

from __future__ import annotations

import logging

from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from coop import validation
from coop.errors import ApplicationError, NotFound
from coop.exports import EXPORT_RESPONSES, streamed
from coop.pagination import PAGE_PARAMETERS, page_of, paginated
from coop.permissions import IsMember
from coop.serializing import represent, validated

from . import selectors
from .api_params import records_parameters
from .models import Answer, Assignment
from .prefill import prefill_for
from .serializers import (
    AnswerOutput,
    AssignmentOutput,
    SubmissionOutput,
    SubmitInput,
    WorkOutput,
    work_payload,
)
from .services import claiming, review, submission

logger = logging.getLogger(__name__)



class WorkNextInput(serializers.Serializer):
    project = validation.IdField(required=False)
    count = serializers.IntegerField(
        min_value=1,
        max_value=Assignment.MAX_PREFETCH,
        required=False,
        default=1,
        help_text=f"Prefetch: up to this many leases in `project` at once (1 to {Assignment.MAX_PREFETCH}); the answer "
        "is then {\"leases\": [...]}, each item shaped like a single lease.",
    )

    def validate(self, attrs):
        if attrs.get("count", 1) > 1 and "project" not in attrs:
            raise serializers.ValidationError({"count": ["Prefetching needs a project."]})
        return attrs


class WorkLeasesOutput(serializers.Serializer):
    leases = WorkOutput(many=True)


class WorkNextApi(APIView):
    """Lease the next task (or get back the one you hold). 204 with an `X-Coop-Reason` header when there is none.

    With `count` > 1 (and a project), up to that many leases at once, the ones already held first: a labeling
    screen prefetches the next task while the member works on the current one.
    """

    permission_classes = [IsMember]

    @extend_schema(
        request=WorkNextInput,
        responses={
            200: PolymorphicProxySerializer("WorkNext", serializers=[WorkOutput, WorkLeasesOutput], resource_type_field_name=None),
            204: OpenApiResponse(description="no work; reason in X-Coop-Reason"),
        },
    )
    def post(self, request):
        data = validated(WorkNextInput, request.data)
        project = None
        if "project" in data:
            project = selectors.project_for_work(project_id=data["project"])
            if project is None:
                raise NotFound("No such project.")
        if data["count"] > 1:
            return self._prefetch(request, project, data["count"])
        for _ in range(3):
            claim = claiming.work_next(worker=request.user, project=project)
            if claim.assignment is None:
                response = Response(status=status.HTTP_204_NO_CONTENT)
                response["X-Coop-Reason"] = claim.reason
                return response
            payload = work_payload(claim.assignment)
            problem = validation.json_problem(payload)
            if problem is None:
                break
            # A task stored before import validation refused its text could never render: give the
            # lease straight back (the member never gets that task again) instead of failing every claim.
            logger.error("Task %s cannot be rendered (%s); lease %s released", claim.assignment.task_id, problem, claim.assignment.pk)
            claiming.assignment_release(worker=request.user, assignment_id=claim.assignment.pk)
        else:
            response = Response(status=status.HTTP_204_NO_CONTENT)
            response["X-Coop-Reason"] = "no_tasks_available"
            return response
        return Response(_with_prefill(payload, claim.assignment))

    def _prefetch(self, request, project, count):
        leases, reason = claiming.work_next_many(worker=request.user, project=project, count=count)
        payloads = []
        for lease in leases:
            payload = work_payload(lease)
            if validation.json_problem(payload) is None:
                payloads.append(_with_prefill(payload, lease))
            else:  # never renderable (stored before import validation): given straight back, as above
                logger.error("Task %s cannot be rendered; lease %s released", lease.task_id, lease.pk)
                claiming.assignment_release(worker=request.user, assignment_id=lease.pk)
        if not payloads:
            response = Response(status=status.HTTP_204_NO_CONTENT)
            response["X-Coop-Reason"] = reason or "no_tasks_available"
            return response
        return Response({"leases": payloads})


def _with_prefill(payload: dict, assignment) -> dict:
    prefill = prefill_for(task=assignment.task, project=assignment.project, assignment=assignment)
    if prefill:  # model-assisted labeling: the screen pre-fills it and reports whether it was edited
        payload["task"]["data"]["prefill"] = prefill
    return payload


class AssignmentSubmitApi(APIView):
    permission_classes = [IsMember]

    @extend_schema(
        request=SubmitInput,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=True)],
        responses={201: AnswerOutput, 200: AnswerOutput},
    )
    def post(self, request, assignment_id: int):
        data = validated(SubmitInput, request.data)
        answer, created = submission.assignment_submit(
            worker=request.user,
            assignment_id=assignment_id,
            payload=data["answer"],
            idempotency_key=request.headers.get("Idempotency-Key", ""),
            active_seconds=data.get("active_seconds"),
            prefilled=data.get("prefilled", ""),
        )
        response = Response(represent(AnswerOutput, answer), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
        if not created:
            response["Idempotent-Replayed"] = "true"
        return response


class HeartbeatInput(serializers.Serializer):
    active_seconds = serializers.IntegerField(min_value=0, max_value=3600, required=False, default=0)


class AssignmentHeartbeatApi(APIView):
    permission_classes = [IsMember]

    @extend_schema(request=HeartbeatInput, responses=AssignmentOutput)
    def post(self, request, assignment_id: int):
        data = validated(HeartbeatInput, request.data)
        assignment = claiming.assignment_heartbeat(
            worker=request.user, assignment_id=assignment_id, active_seconds=data["active_seconds"]
        )
        return Response(represent(AssignmentOutput, assignment))


class AssignmentReleaseApi(APIView):
    permission_classes = [IsMember]

    @extend_schema(request=None, responses=AssignmentOutput)
    def post(self, request, assignment_id: int):
        assignment = claiming.assignment_release(worker=request.user, assignment_id=assignment_id)
        return Response(represent(AssignmentOutput, assignment))


class AssignmentImageApi(APIView):
    """The task image, only for the worker who holds (or held) the lease."""

    permission_classes = [IsMember]

    @extend_schema(responses={(200, "image/png"): OpenApiTypes.BINARY})
    def get(self, request, assignment_id: int):
        assignment = Assignment.objects.select_related("task").filter(pk=assignment_id, worker=request.user).first()
        if assignment is None or not assignment.task.image:
            raise Http404
        return FileResponse(assignment.task.image.open("rb"))


class SubmissionListApi(APIView):
    permission_classes = [IsMember]

    @extend_schema(operation_id="v1_work_submissions_list", parameters=PAGE_PARAMETERS, responses=page_of(SubmissionOutput, "Submission"))
    def get(self, request):
        return paginated(request, selectors.submissions_of(worker=request.user), SubmissionOutput, view=self)


class AppealInput(serializers.Serializer):
    reason = serializers.CharField(max_length=4000)


class AnswerAppealApi(APIView):
    permission_classes = [IsMember]

    @extend_schema(request=AppealInput, responses=AnswerOutput)
    def post(self, request, answer_id: int):
        data = AppealInput(data=request.data)
        data.is_valid(raise_exception=True)
        answer = Answer.objects.filter(pk=answer_id, worker=request.user).first()
        if answer is None:
            raise NotFound("No such answer.")
        return Response(represent(AnswerOutput, review.answer_appeal_file(worker=request.user, answer=answer, reason=data.validated_data["reason"])))


class WorkRecordsApi(APIView):
    """My work records: every assignment with project, client, DUA, times, active time, pay, status and feedback."""

    permission_classes = [IsMember]

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=["json", "csv", "jsonl"], description="json (default), csv or jsonl"),
            OpenApiParameter("from", OpenApiTypes.DATE, description="first day (by lease start)"),
            OpenApiParameter("to", OpenApiTypes.DATE, description="last day"),
            OpenApiParameter("kind", str, enum=["assignments", "bonuses"], description="assignments (default) or bonuses"),
        ],
        responses=EXPORT_RESPONSES,
    )
    def get(self, request):
        fmt, date_from, date_to = records_parameters(request.query_params)
        kind = request.query_params.get("kind", "assignments")
        if kind == "bonuses":
            from .expert.selectors import BONUS_FIELDS, bonus_records

            rows = bonus_records(member=request.user, date_from=date_from, date_to=date_to)
            return streamed(fmt, rows, fields=BONUS_FIELDS, filename="my-bonuses")
        if kind != "assignments":
            raise ApplicationError("kind must be assignments or bonuses.", fields={"kind": ["assignments or bonuses"]}, status=400)
        rows = selectors.work_records(worker=request.user, date_from=date_from, date_to=date_to)
        return streamed(fmt, rows, fields=selectors.RECORD_FIELDS, filename="my-work-records")


