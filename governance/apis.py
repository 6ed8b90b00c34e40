"""REST API of the governance app (/api/v1/). Members: proposals and votes. Clients: their contracts and DUAs."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from coop.errors import Forbidden
from coop.pagination import PAGE_PARAMETERS, page_of, paginated
from coop.permissions import IsClient, IsMember, client_organization
from governance.error_codes import GovernanceErrorCode

from . import selectors, services
from .models import Contract, DataUseAgreement, Proposal, ProposalKind, Vote, VoteHistory

# --- Members: proposals and votes ---------------------------------------------------------------------


class ProposalOutput(serializers.ModelSerializer):
    class Meta:
        model = Proposal
        fields = [
            "id",
            "kind",
            "title",
            "status",
            "outcome",
            "method",
            "threshold",
            "quorum_pct",
            "secret",
            "results_hidden",
            "decided_by",
            "opens_at",
            "closes_at",
            "closed_at",
            "electorate_size",
            "effect_status",
        ]


class VoteHistoryOutput(serializers.ModelSerializer):
    class Meta:
        model = VoteHistory
        fields = ["revision", "choice", "score", "ranking", "reason", "cast_at"]


class VoteOutput(serializers.ModelSerializer):
    history = VoteHistoryOutput(many=True, read_only=True)

    class Meta:
        model = Vote
        fields = ["choice", "score", "ranking", "reason", "revision", "cast_at", "changed_at", "history"]


class EligibilityOutput(serializers.Serializer):
    eligible = serializers.BooleanField()
    code = serializers.CharField()
    message = serializers.CharField()


class ProposalDetailOutput(ProposalOutput):
    eligibility = serializers.SerializerMethodField()
    has_voted = serializers.SerializerMethodField()
    my_vote = serializers.SerializerMethodField()
    results = serializers.SerializerMethodField()
    turnout = serializers.SerializerMethodField()

    class Meta(ProposalOutput.Meta):
        fields = [
            *ProposalOutput.Meta.fields,
            "body",
            "payload",
            "choices",
            "seats",
            "score_min",
            "score_max",
            "score_places",
            "contract",
            "dua",
            "membership",
            "effect_detail",
            "withdrawn_reason",
            "eligibility",
            "has_voted",
            "my_vote",
            "results",
            "turnout",
        ]

    @extend_schema_field(EligibilityOutput)
    def get_eligibility(self, proposal):
        return selectors.eligibility(proposal=proposal, user=self.context["request"].user)

    def get_has_voted(self, proposal) -> bool:
        return selectors.has_voted(proposal=proposal, membership=selectors.membership_of(self.context["request"].user))

    @extend_schema_field(VoteOutput(allow_null=True))
    def get_my_vote(self, proposal):
        vote = selectors.my_vote(proposal=proposal, user=self.context["request"].user)
        return VoteOutput(vote).data if vote else None

    @extend_schema_field(serializers.JSONField(allow_null=True))
    def get_results(self, proposal):
        return selectors.result_for_display(proposal)

    def get_turnout(self, proposal) -> int:
        return selectors.turnout(proposal)


class ProposalListApi(APIView):
    """Proposals, newest first (status=open lists open and scheduled ones, soonest closing first)."""

    permission_classes = [IsMember]

    @extend_schema(
        operation_id="v1_proposals_list",
        parameters=[
            OpenApiParameter("status", str, enum=["draft", "open", "closed", "withdrawn"], required=False),
            OpenApiParameter("kind", str, enum=ProposalKind.values, required=False),
            *PAGE_PARAMETERS,
        ],
        responses=page_of(ProposalOutput, "Proposal"),
    )
    def get(self, request):
        status = request.query_params.get("status") or None
        kind = request.query_params.get("kind") or None
        queryset = selectors.proposal_list(
            user=request.user,
            status=status if status in ("draft", "open", "closed", "withdrawn") else None,
            kind=kind if kind in ProposalKind.values else None,
        )
        return paginated(request, queryset, ProposalOutput, view=self)


class ProposalDetailApi(APIView):
    """One proposal with its rules, your eligibility and vote, and the results when they are visible."""

    permission_classes = [IsMember]

    @extend_schema(responses=ProposalDetailOutput)
    def get(self, request, pk: int):
        proposal = selectors.proposal_get(pk)
        return Response(ProposalDetailOutput(proposal, context={"request": request}).data)


class VoteInput(serializers.Serializer):
    choice = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=16,
        help_text="yes, no or abstain (block on consent ballots, with a reason); abstain on any ballot. "
        "Omit it when sending a score or a ranking.",
    )
    score = serializers.DecimalField(max_digits=12, decimal_places=4, required=False, allow_null=True)
    ranking = serializers.ListField(
        child=serializers.CharField(max_length=32),
        required=False,
        max_length=200,
        help_text="Candidate keys, first choice first.",
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class VoteReceiptOutput(serializers.Serializer):
    proposal = serializers.IntegerField()
    secret = serializers.BooleanField()
    changed = serializers.BooleanField(help_text="An earlier vote of yours was replaced (kept in history).")
    recorded = serializers.BooleanField(help_text="False when this was already your vote.")
    vote = VoteOutput(allow_null=True, help_text="Your vote; null for secret ballots.")


class ProposalVoteApi(APIView):
    """Cast or change your vote. Idempotent: sending the same vote again changes nothing."""

    permission_classes = [IsMember]

    @extend_schema(request=VoteInput, responses=VoteReceiptOutput)
    def post(self, request, pk: int):
        proposal = selectors.proposal_get(pk)
        data = VoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        ballot = dict(data.validated_data)
        if not ballot.get("choice"):
            ballot["choice"] = "score" if "score" in ballot else "ranking" if "ranking" in ballot else ""
        receipt = services.ballot_cast(proposal=proposal, user=request.user, **ballot)
        vote = None
        if receipt.vote is not None:
            vote = VoteOutput(Vote.objects.prefetch_related("history").get(pk=receipt.vote.pk)).data
        return Response(
            {
                "proposal": proposal.pk,
                "secret": receipt.secret,
                "changed": receipt.changed,
                "recorded": receipt.recorded,
                "vote": vote,
            }
        )


class ProposalResultsApi(APIView):
    """The result: final once closed; a running tally while open if results are shown live; else 403 results_hidden."""

    permission_classes = [IsMember]

    @extend_schema(
        responses=inline_serializer(
            "ProposalResults",
            {
                "proposal": serializers.IntegerField(),
                "status": serializers.CharField(),
                "outcome": serializers.CharField(),
                "final": serializers.BooleanField(),
                "turnout": serializers.IntegerField(),
                "results": serializers.JSONField(),
            },
        )
    )
    def get(self, request, pk: int):
        proposal = selectors.proposal_get(pk)
        results = selectors.result_for_display(proposal)
        if results is None:
            raise Forbidden("Results are hidden until voting closes.", code=GovernanceErrorCode.RESULTS_HIDDEN)
        return Response(
            {
                "proposal": proposal.pk,
                "status": proposal.status,
                "outcome": proposal.outcome,
                "final": proposal.status == "closed",
                "turnout": selectors.turnout(proposal),
                "results": results,
            }
        )


# --- Clients: their contracts and data-use agreements ------------------------------------------------


AGREEMENT_STATUS_HELP = "draft, proposed, ratified, active, expired, terminated or superseded"


class ContractOutput(serializers.ModelSerializer):
    status = serializers.CharField(help_text=AGREEMENT_STATUS_HELP)

    class Meta:
        model = Contract
        fields = [
            "id",
            "family",
            "version",
            "status",
            "title",
            "scope",
            "task_types",
            "rate_card",
            "payment_terms",
            "term_start",
            "term_end",
            "termination_notice_days",
            "ratified_by",
            "ratified_at",
            "activated_at",
            "ended_at",
            "end_reason",
        ]


class DuaOutput(serializers.ModelSerializer):
    contract = serializers.PrimaryKeyRelatedField(read_only=True)
    status = serializers.CharField(help_text=AGREEMENT_STATUS_HELP)
    retention_ends_on = serializers.SerializerMethodField()

    class Meta:
        model = DataUseAgreement
        fields = [
            "id",
            "contract",
            "family",
            "version",
            "status",
            "permitted_purposes",
            "prohibited_uses",
            "train_models",
            "publish_trained_models",
            "commercial_use_of_outputs",
            "redistribute_data",
            "create_derived_datasets",
            "retention_days",
            "retention_ends_on",
            "deletion_requested_at",
            "deletion_attested_at",
            "deletion_statement",
            "attribution_required",
            "attribution_text",
            "sensitive_content_categories",
            "welfare_provisions",
            "personal_data_class",
            "reidentification_banned",
            "onward_transfer_allowed",
            "subcontractors",
            "breach_reporting_hours",
            "audit_rights",
            "training_summary_required",
            "training_summary",
            "revenue_share_pct",
            "signatories",
            "ratified_by",
            "ratified_at",
            "activated_at",
            "ended_at",
        ]

    def get_retention_ends_on(self, dua) -> str | None:
        ends_on = selectors.dua_retention_ends_on(dua)
        return ends_on.isoformat() if ends_on else None


class ClientContractListApi(APIView):
    """Your organization's contracts, every version, with status."""

    permission_classes = [IsClient]

    @extend_schema(responses=ContractOutput(many=True))
    def get(self, request):
        return Response(ContractOutput(selectors.contract_list(organization=client_organization(request)), many=True).data)


class ClientContractDetailApi(APIView):
    permission_classes = [IsClient]

    @extend_schema(responses=ContractOutput)
    def get(self, request, pk: int):
        contract = get_object_or_404(selectors.contract_list(organization=client_organization(request)), pk=pk)
        return Response(ContractOutput(contract).data)


class ClientDuaListApi(APIView):
    """Your organization's data-use agreements, every version, with status and retention dates."""

    permission_classes = [IsClient]

    @extend_schema(responses=DuaOutput(many=True))
    def get(self, request):
        return Response(DuaOutput(selectors.dua_list(organization=client_organization(request)), many=True).data)


class ClientDuaDetailApi(APIView):
    permission_classes = [IsClient]

    @extend_schema(responses=DuaOutput)
    def get(self, request, pk: int):
        dua = get_object_or_404(selectors.dua_list(organization=client_organization(request)), pk=pk)
        return Response(DuaOutput(dua).data)


class DeletionAttestationInput(serializers.Serializer):
    statement = serializers.CharField(max_length=4000, help_text="What was deleted, where, how, and by whom.")


class ClientDuaAttestDeletionApi(APIView):
    """Attest that your organization deleted the data of a data-use agreement (once)."""

    permission_classes = [IsClient]

    @extend_schema(request=DeletionAttestationInput, responses=DuaOutput)
    def post(self, request, pk: int):
        organization = client_organization(request)
        dua = get_object_or_404(selectors.dua_list(organization=organization), pk=pk)
        data = DeletionAttestationInput(data=request.data)
        data.is_valid(raise_exception=True)
        dua = services.dua_attest_deletion(
            dua=dua,
            actor=request.user if request.user.pk else None,
            organization=organization,
            statement=data.validated_data["statement"],
        )
        return Response(DuaOutput(dua).data)
