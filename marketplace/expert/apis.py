"""/api/v1/ of expert work: qualifications and their tests, nominations, rate-card proposals, the signed export,
accuracy, and client bonuses. HTTP only: every rule is in the services."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from coop.error_codes import CoopErrorCode
from coop.errors import Forbidden, NotFound
from coop.models import Membership
from coop.permissions import IsClient, IsMember, client_organization
from coop.validation import DecimalStringField, RefuseUnknownFieldsMixin, text_validator

from .. import selectors as marketplace_selectors
from ..pseudonyms import worker_pseudonym
from . import accuracy, bonuses, qualifications, rate_cards, selectors
from .models import Qualification, QualificationAttempt


def _qualification(slug: str) -> Qualification:
    qualification = Qualification.objects.filter(slug=slug, is_active=True).first()
    if qualification is None:
        raise NotFound("No such qualification.")
    return qualification


class QualificationOutput(serializers.ModelSerializer):
    sponsor = serializers.CharField(source="sponsor.slug", default=None)
    items = serializers.IntegerField(source="items.count")

    class Meta:
        model = Qualification
        fields = ["slug", "name", "description", "tier", "sponsor", "pass_mark", "retry_delay_hours", "valid_days",
                  "test_pay", "test_estimated_seconds", "currency", "items"]


class TestItemInput(serializers.Serializer):
    task_type = serializers.CharField()
    data = serializers.DictField()
    gold = serializers.JSONField()
    choices = serializers.ListField(child=serializers.CharField(max_length=100, validators=[text_validator]), required=False, max_length=50)
    case_sensitive = serializers.BooleanField(required=False)
    explanation = serializers.CharField(required=False, allow_blank=True, max_length=5000, validators=[text_validator])


class QualificationInput(RefuseUnknownFieldsMixin, serializers.Serializer):
    name = serializers.CharField(max_length=120, validators=[text_validator])
    slug = serializers.CharField(max_length=80, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000, validators=[text_validator])
    tier = serializers.CharField(required=False, allow_blank=True, max_length=40)
    pass_mark = DecimalStringField(max_digits=7, decimal_places=2, help_text="Percent, above 0 and at most 100.")
    retry_delay_hours = serializers.IntegerField(required=False, default=24)
    valid_days = serializers.IntegerField(required=False, allow_null=True, default=None)
    test_pay = DecimalStringField(max_digits=12, decimal_places=4)
    test_estimated_seconds = serializers.IntegerField()
    items = TestItemInput(many=True, allow_empty=True)


class QualificationListApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=QualificationOutput(many=True))
    def get(self, request):
        return Response(QualificationOutput(selectors.qualification_list(), many=True).data)

    @extend_schema(request=QualificationInput, responses={201: QualificationOutput, 422: OpenApiResponse(description="invalid test")})
    def post(self, request):
        """A client defines a qualification it sponsors (its tests are paid from its cash); a steward, a co-op one."""
        data = QualificationInput(data=request.data)
        data.is_valid(raise_exception=True)
        organization = client_organization(request)
        if organization is None and not request.user.is_steward:
            raise Forbidden("Clients and stewards define qualifications.", code=CoopErrorCode.FORBIDDEN)
        actor = request.user if request.user.pk else None
        qualification = qualifications.qualification_create(actor=actor, sponsor=organization, **data.validated_data)
        return Response(QualificationOutput(qualification).data, status=status.HTTP_201_CREATED)


def attempt_body(attempt: QualificationAttempt, *, with_feedback: bool) -> dict:
    items = list(attempt.qualification.items.all())
    answers = {a.item_id: a for a in attempt.answers.all()} if with_feedback else {}
    body = {
        "id": attempt.pk,
        "qualification": attempt.qualification.slug,
        "status": attempt.status,
        "started_at": attempt.started_at,
        "expires_at": attempt.expires_at,
        "pay": str(attempt.pay),
        "currency": attempt.qualification.currency,
        "items": [],
    }
    for item in items:
        row = {"id": item.pk, "type": item.task_type, "data": item.data, "choices": item.choices,
               "image_url": f"/api/v1/qualifications/attempts/{attempt.pk}/items/{item.pk}/image/" if item.image else None}
        if with_feedback and item.pk in answers:
            row.update({"your_answer": answers[item.pk].payload, "correct": answers[item.pk].correct,
                        "gold": item.gold, "explanation": item.explanation})
        body["items"].append(row)
    if attempt.status == QualificationAttempt.Status.SUBMITTED:
        body.update({"score": str(attempt.score), "passed": attempt.passed, "pass_mark": str(attempt.qualification.pass_mark),
                     "items_correct": attempt.items_correct, "items_total": attempt.items_total})
    return body


class AttemptStartApi(APIView):
    permission_classes = [IsMember]

    @extend_schema(request=None, responses={201: OpenApiTypes.OBJECT, 409: OpenApiResponse(description="retry_later, already_qualified")})
    def post(self, request, slug: str):
        """Start the qualification's test (paid work): the items, the pay and the time limit. Again: the same attempt."""
        attempt = qualifications.attempt_start(member=request.user, qualification=_qualification(slug))
        return Response(attempt_body(attempt, with_feedback=False), status=status.HTTP_201_CREATED)


class AttemptSubmitInput(serializers.Serializer):
    answers = serializers.DictField(child=serializers.JSONField(), help_text="item id → answer in the item's task type's shape")


class AttemptSubmitApi(APIView):
    permission_classes = [IsMember]

    @extend_schema(request=AttemptSubmitInput, responses=OpenApiTypes.OBJECT)
    def post(self, request, attempt_id: int):
        """Submit every answer: the score, pass or fail, and each item's gold answer and explanation."""
        data = AttemptSubmitInput(data=request.data)
        data.is_valid(raise_exception=True)
        attempt = qualifications.attempt_submit(member=request.user, attempt_id=attempt_id, answers=data.validated_data["answers"])
        return Response(attempt_body(attempt, with_feedback=True))


class AttemptItemImageApi(APIView):
    permission_classes = [IsMember]

    @extend_schema(responses={(200, "image/png"): OpenApiTypes.BINARY})
    def get(self, request, attempt_id: int, item_id: int):
        from django.http import FileResponse, Http404

        attempt = QualificationAttempt.objects.filter(pk=attempt_id, member=request.user).first()
        item = attempt.qualification.items.filter(pk=item_id).first() if attempt else None
        if item is None or not item.image:
            raise Http404
        return FileResponse(item.image.open("rb"))


class NominationInput(serializers.Serializer):
    member_number = serializers.IntegerField(min_value=1)
    evidence = serializers.CharField(max_length=4000, validators=[text_validator])
    by_panel = serializers.BooleanField(required=False, default=False)


class NominationApi(APIView):
    permission_classes = [IsMember]

    @extend_schema(request=NominationInput, responses={201: OpenApiTypes.OBJECT})
    def post(self, request, slug: str):
        """Put a member forward for the qualification without its test; the members (or a peer panel) vote."""
        data = NominationInput(data=request.data)
        data.is_valid(raise_exception=True)
        membership = Membership.objects.filter(member_number=data.validated_data["member_number"]).select_related("user").first()
        if membership is None:
            raise NotFound("No member with that number.")
        proposal = qualifications.qualification_nominate(
            nominator=request.user, candidate=membership.user, qualification=_qualification(slug),
            evidence=data.validated_data["evidence"], by_panel=data.validated_data["by_panel"],
        )
        return Response({"proposal": proposal.pk, "status": proposal.status, "closes_at": proposal.closes_at}, status=status.HTTP_201_CREATED)


class RateCardProposalInput(RefuseUnknownFieldsMixin, serializers.Serializer):
    qualification = serializers.CharField(required=False, allow_blank=True)
    tier = serializers.CharField(required=False, allow_blank=True, max_length=40)
    hourly_minimum = DecimalStringField(max_digits=12, decimal_places=2)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=4000, validators=[text_validator])


class RateCardRowOutput(serializers.Serializer):
    card = serializers.CharField()
    qualification = serializers.CharField(allow_null=True)
    tier = serializers.CharField(allow_blank=True)
    hourly_minimum = serializers.CharField()
    currency = serializers.CharField()
    since = serializers.DateTimeField()
    proposal = serializers.IntegerField()


class RateCardApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=RateCardRowOutput(many=True))
    def get(self, request):
        return Response([
            {"card": r.card_name, "qualification": r.qualification.slug if r.qualification_id else None, "tier": r.tier,
             "hourly_minimum": str(r.hourly_minimum), "currency": r.currency, "since": r.effective_from, "proposal": r.proposal_id}
            for r in selectors.rate_card()
        ])

    @extend_schema(request=RateCardProposalInput, responses={201: OpenApiTypes.OBJECT})
    def post(self, request):
        """A member proposes a minimum hourly pay for a qualification or tier; it goes to a vote once co-sponsored."""
        if not request.user.is_member:
            raise Forbidden("Members propose rate cards.", code=CoopErrorCode.MEMBER_REQUIRED)
        data = RateCardProposalInput(data=request.data)
        data.is_valid(raise_exception=True)
        slug = data.validated_data.get("qualification") or ""
        proposal = rate_cards.rate_card_propose(
            author=request.user, qualification=_qualification(slug) if slug else None, tier=data.validated_data.get("tier", ""),
            hourly_minimum=data.validated_data["hourly_minimum"], reason=data.validated_data.get("reason", ""),
        )
        return Response({"proposal": proposal.pk, "status": proposal.status, "sponsors_required": proposal.sponsors_required},
                        status=status.HTTP_201_CREATED)


class ExportApi(APIView):
    permission_classes = [IsMember]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        """My qualifications and gold accuracy, signed: carry them elsewhere; anyone can check them with …/verify/."""
        return Response(qualifications.qualification_export(member=request.user))


class VerifyApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def post(self, request):
        """Check a document exported by a member: valid only if nothing in it changed since the co-op signed it."""
        return Response({"valid": qualifications.qualification_export_verify(request.data), "key_id": qualifications.key_id()})


class AccuracyRowOutput(serializers.Serializer):
    project = serializers.IntegerField()
    title = serializers.CharField()
    gold_answered = serializers.IntegerField()
    gold_correct = serializers.IntegerField()
    accuracy = serializers.CharField(allow_null=True)
    counted_answered = serializers.IntegerField()
    counted_correct = serializers.IntegerField()
    min_gold_accuracy = serializers.CharField(allow_null=True)
    min_gold_answers = serializers.IntegerField()
    held = serializers.BooleanField()


class AccuracyApi(APIView):
    permission_classes = [IsMember]

    @extend_schema(responses=AccuracyRowOutput(many=True))
    def get(self, request):
        """My gold accuracy per project, the project's minimum and whether I am held off it (and why)."""
        return Response([
            {"project": row["project"].pk, "title": row["project"].title, "gold_answered": row["stats"].gold_answered,
             "gold_correct": row["stats"].gold_correct, "accuracy": str(row["stats"].gold_accuracy) if row["stats"].gold_accuracy is not None else None,
             "counted_answered": row["standing"].answered, "counted_correct": row["standing"].correct,
             "min_gold_accuracy": str(row["project"].min_gold_accuracy) if row["project"].min_gold_accuracy is not None else None,
             "min_gold_answers": row["project"].min_gold_answers, "held": row["hold"] is not None}
            for row in selectors.accuracy_of(member=request.user)
        ])


class AccuracyAppealInput(serializers.Serializer):
    reason = serializers.CharField(max_length=4000, validators=[text_validator])


class AccuracyAppealApi(APIView):
    permission_classes = [IsMember]

    @extend_schema(request=AccuracyAppealInput, responses={201: OpenApiTypes.OBJECT})
    def post(self, request, project_id: int):
        from ..models import Project

        data = AccuracyAppealInput(data=request.data)
        data.is_valid(raise_exception=True)
        project = Project.objects.filter(pk=project_id).exclude(status=Project.Status.DRAFT).first()
        if project is None:
            raise NotFound("No such project.")
        proposal = accuracy.accuracy_hold_appeal(worker=request.user, project=project, reason=data.validated_data["reason"])
        return Response({"proposal": proposal.pk, "closes_at": proposal.closes_at}, status=status.HTTP_201_CREATED)


class BonusInput(RefuseUnknownFieldsMixin, serializers.Serializer):
    client_key = serializers.CharField(max_length=100)
    amount = DecimalStringField(max_digits=12, decimal_places=4, help_text="Per worker, a string such as \"1.50\".")
    reason = serializers.CharField(max_length=500, validators=[text_validator])
    workers = serializers.ListField(child=serializers.CharField(max_length=40), required=False, max_length=1000)
    all_accepted = serializers.BooleanField(required=False, default=False)


class ProjectBonusApi(APIView):
    permission_classes = [IsClient]

    @extend_schema(request=BonusInput, responses={201: OpenApiTypes.OBJECT, 200: OpenApiTypes.OBJECT})
    def post(self, request, project_id: int):
        """Pay a bonus with a reason the workers see, to named workers (pseudonyms) or all with accepted answers.

        Idempotent by `client_key`: a retry returns 200 with the first result (`Idempotent-Replayed: true`).
        """
        data = BonusInput(data=request.data)
        data.is_valid(raise_exception=True)
        organization = client_organization(request)
        project = marketplace_selectors.project_for_client(organization=organization, project_id=project_id)
        if project is None:
            raise NotFound("No such project.")
        batch, created = bonuses.bonus_pay(
            organization=organization, project=project, created_by=request.user if request.user.pk else None, **data.validated_data
        )
        body = {
            "id": batch.pk, "client_key": batch.client_key, "amount": str(batch.amount), "reason": batch.reason,
            "workers": sorted(worker_pseudonym(organization_id=organization.pk, worker_id=b.worker_id)
                              for b in batch.bonuses.all()),
        }
        response = Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
        if not created:
            response["Idempotent-Replayed"] = "true"
        return response


class BonusRowOutput(serializers.Serializer):
    project = serializers.CharField()
    client = serializers.CharField()
    amount = serializers.CharField()
    currency = serializers.CharField()
    reason = serializers.CharField()
    at = serializers.DateTimeField()


class MyBonusesApi(APIView):
    permission_classes = [IsMember]

    @extend_schema(responses=BonusRowOutput(many=True))
    def get(self, request):
        return Response([
            {"project": b.batch.project.title, "client": b.batch.organization.name, "amount": str(b.amount),
             "currency": b.batch.project.currency, "reason": b.batch.reason, "at": b.batch.created_at}
            for b in selectors.bonuses_of(member=request.user)[:500]
        ])




# --- Project questions and amended instructions ------------------------------------------------------


class QuestionInput(serializers.Serializer):
    body = serializers.CharField(max_length=4000, validators=[text_validator])


class AnswerInput(serializers.Serializer):
    answer = serializers.CharField(max_length=4000, validators=[text_validator])


class InstructionsInput(RefuseUnknownFieldsMixin, serializers.Serializer):
    instructions = serializers.CharField(max_length=50_000, validators=[text_validator])
    note = serializers.CharField(max_length=500, validators=[text_validator])


class QuestionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    body = serializers.CharField()
    asked_at = serializers.DateTimeField()
    answer = serializers.CharField(allow_blank=True)
    answered_at = serializers.DateTimeField(allow_null=True)


class ClientQuestionOutput(QuestionOutput):
    asked_by = serializers.CharField(help_text="The worker's pseudonym, as in your exports.")


def _member_question(q) -> dict:
    return {"id": q.pk, "body": q.body, "asked_at": q.asked_at, "answer": q.answer, "answered_at": q.answered_at}


class MemberQuestionsApi(APIView):
    permission_classes = [IsMember]

    def _project(self, project_id):
        from ..models import Project

        project = Project.objects.filter(pk=project_id, status__in=(Project.Status.PUBLISHED, Project.Status.PAUSED)).first()
        if project is None:
            raise NotFound("No such project.")
        return project

    @extend_schema(responses=QuestionOutput(many=True))
    def get(self, request, project_id: int):
        """Every question about the project and the client's answers (askers are not named)."""
        from .models import ProjectQuestion

        return Response([_member_question(q) for q in ProjectQuestion.objects.filter(project=self._project(project_id)).order_by("asked_at", "id")])

    @extend_schema(request=QuestionInput, responses={201: QuestionOutput})
    def post(self, request, project_id: int):
        from .questions import question_ask

        data = QuestionInput(data=request.data)
        data.is_valid(raise_exception=True)
        question = question_ask(member=request.user, project=self._project(project_id), body=data.validated_data["body"])
        return Response(_member_question(question), status=status.HTTP_201_CREATED)


class ClientQuestionsApi(APIView):
    permission_classes = [IsClient]

    @extend_schema(responses=ClientQuestionOutput(many=True))
    def get(self, request, project_id: int):
        """Members' questions, askers as the pseudonyms of your exports."""
        from .questions import questions_for_client

        project = marketplace_selectors.project_for_client(organization=client_organization(request), project_id=project_id)
        if project is None:
            raise NotFound("No such project.")
        return Response(questions_for_client(project))


class ClientAnswerApi(APIView):
    permission_classes = [IsClient]

    @extend_schema(request=AnswerInput, responses=QuestionOutput)
    def post(self, request, project_id: int, question_id: int):
        from .questions import question_answer

        data = AnswerInput(data=request.data)
        data.is_valid(raise_exception=True)
        organization = client_organization(request)
        if marketplace_selectors.project_for_client(organization=organization, project_id=project_id) is None:
            raise NotFound("No such project.")
        question = question_answer(organization=organization, question_id=question_id, answer=data.validated_data["answer"],
                                   user=request.user if request.user.pk else None)
        if question.project_id != project_id:
            raise NotFound("No such question.")
        return Response(_member_question(question))


class InstructionsAmendApi(APIView):
    permission_classes = [IsClient]

    @extend_schema(request=InstructionsInput, responses={201: OpenApiTypes.OBJECT})
    def post(self, request, project_id: int):
        """Amend a live project's instructions; the old text is kept as a version and members see what changed."""
        from .questions import instructions_amend

        data = InstructionsInput(data=request.data)
        data.is_valid(raise_exception=True)
        organization = client_organization(request)
        project = marketplace_selectors.project_for_client(organization=organization, project_id=project_id)
        if project is None:
            raise NotFound("No such project.")
        version = instructions_amend(organization=organization, project=project, **data.validated_data)
        return Response({"version": version.version + 1, "previous_version": version.version, "note": version.note}, status=status.HTTP_201_CREATED)


# --- Payout destination -----------------------------------------------------------------------------


class PayoutDestinationInput(RefuseUnknownFieldsMixin, serializers.Serializer):
    method = serializers.CharField(max_length=16)
    details = serializers.DictField(child=serializers.CharField(max_length=200, allow_blank=True))


class PayoutDestinationApi(APIView):
    permission_classes = [IsMember]

    def _body(self, destination):
        if destination is None:
            return {"destination": None}
        return {"destination": {"method": destination.method, "masked": destination.masked, "since": destination.created_at,
                                "payouts_held_until": destination.payouts_held_until}}

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        from ..ledger.payout_destinations import current_destination

        return Response(self._body(current_destination(request.user)))

    @extend_schema(request=PayoutDestinationInput, responses=OpenApiTypes.OBJECT)
    def put(self, request):
        """Set where you are paid; you are e-mailed and payouts are held for 24 hours (account-takeover guard)."""
        from ..ledger.payout_destinations import payout_destination_set

        data = PayoutDestinationInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(self._body(payout_destination_set(member=request.user, **data.validated_data)))
