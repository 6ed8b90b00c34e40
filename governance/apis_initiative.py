"""REST API for members' own governance: put proposals forward, co-sponsor, withdraw, discuss, name proxies."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from coop.models import Membership
from coop.permissions import IsMember

from . import selectors, services
from .apis import ProposalDetailOutput, ProposalListApi
from .models import Comment, Contract, Delegation, ProposalKind
from .rules import MEMBER_KINDS


class ProposalDraftInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=MEMBER_KINDS)
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=20_000, required=False, allow_blank=True)
    method = serializers.CharField(max_length=16, required=False, allow_blank=True)
    payload = serializers.DictField(required=False, help_text='pay floor/fee {"value"}; policy_change {"key", "value"}; contract_termination {"reason"}')
    membership = serializers.IntegerField(required=False, min_value=1, max_value=2**62, help_text="Membership id (suspension review, steward recall).")
    contract = serializers.IntegerField(required=False, min_value=1, max_value=2**62)
    candidates = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**62), required=False, max_length=100)
    seats = serializers.IntegerField(required=False, min_value=1, max_value=100)
    discussion_days = serializers.IntegerField(required=False, min_value=0, max_value=14, default=0)


class ProposalListCreateApi(ProposalListApi):
    """GET: proposals, newest first. POST: put a proposal forward as a member; it goes to ballot once enough
    members co-sponsor it (policy proposal_cosponsors)."""

    @extend_schema(request=ProposalDraftInput, responses={201: ProposalDetailOutput})
    def post(self, request):
        data = ProposalDraftInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        membership = Membership.objects.filter(pk=values.pop("membership", 0)).first()
        contract = Contract.objects.filter(pk=values.pop("contract", 0)).first()
        candidate_ids = values.pop("candidates", None)
        candidates = list(Membership.objects.filter(pk__in=candidate_ids)) if candidate_ids else None
        proposal = services.proposal_draft(
            author=request.user,
            membership=membership,
            contract=contract,
            candidates=candidates,
            method=values.pop("method", "") or None,
            **values,
        )
        return Response(ProposalDetailOutput(proposal, context={"request": request}).data, status=status.HTTP_201_CREATED)


class ProposalCosponsorApi(APIView):
    """Co-sponsor a member's proposal (once). The co-sponsor that completes the count schedules the vote."""

    permission_classes = [IsMember]

    @extend_schema(request=None, responses=ProposalDetailOutput)
    def post(self, request, pk: int):
        proposal = services.proposal_cosponsor(proposal=selectors.proposal_get(pk), user=request.user)
        return Response(ProposalDetailOutput(proposal, context={"request": request}).data)


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=4000)


class ProposalWithdrawApi(APIView):
    """Withdraw your own proposal before voting opens (stewards: any undecided proposal)."""

    permission_classes = [IsMember]

    @extend_schema(request=ReasonInput, responses=ProposalDetailOutput)
    def post(self, request, pk: int):
        data = ReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        proposal = services.proposal_withdraw(actor=request.user, proposal=selectors.proposal_get(pk), reason=data.validated_data["reason"])
        return Response(ProposalDetailOutput(proposal, context={"request": request}).data)


class CommentOutput(serializers.ModelSerializer):
    author = serializers.CharField(source="author.display_name")
    body = serializers.SerializerMethodField()
    hidden = serializers.SerializerMethodField()

    class Meta:
        model = Comment
        fields = ["id", "parent", "author", "body", "created_at", "edited_at", "hidden", "hidden_reason"]

    def get_body(self, comment) -> str:
        return "" if comment.hidden_at else comment.body

    def get_hidden(self, comment) -> bool:
        return comment.hidden_at is not None


class CommentInput(serializers.Serializer):
    body = serializers.CharField(max_length=10_000)
    parent = serializers.IntegerField(required=False, min_value=1, max_value=2**62)


class ProposalCommentsApi(APIView):
    """The proposal's discussion (oldest first; hidden comments keep their place without their text), and posting to it."""

    permission_classes = [IsMember]

    @extend_schema(responses=CommentOutput(many=True))
    def get(self, request, pk: int):
        proposal = selectors.proposal_get(pk)
        comments = Comment.objects.filter(proposal=proposal).select_related("author").order_by("created_at", "id")
        return Response(CommentOutput(comments, many=True).data)

    @extend_schema(request=CommentInput, responses={201: CommentOutput})
    def post(self, request, pk: int):
        proposal = selectors.proposal_get(pk)
        data = CommentInput(data=request.data)
        data.is_valid(raise_exception=True)
        parent = get_object_or_404(Comment, pk=data.validated_data["parent"], proposal=proposal) if "parent" in data.validated_data else None
        comment = services.comment_post(proposal=proposal, author=request.user, body=data.validated_data["body"], parent=parent)
        return Response(CommentOutput(comment).data, status=status.HTTP_201_CREATED)


class DelegationOutput(serializers.ModelSerializer):
    delegator = serializers.CharField(source="delegator.display_name")
    delegate = serializers.CharField(source="delegate.display_name")
    delegate_id = serializers.IntegerField()

    class Meta:
        model = Delegation
        fields = ["id", "delegator", "delegate", "delegate_id", "category", "created_at", "revoked_at"]


class DelegationInput(serializers.Serializer):
    delegate = serializers.IntegerField(min_value=1, max_value=2**62, help_text="Membership id of your proxy.")
    category = serializers.ChoiceField(choices=[("", "every named ballot"), *ProposalKind.choices], required=False, default="")


class DelegationListApi(APIView):
    """Your proxies: the ones you named (live) and the members you represent; name one."""

    permission_classes = [IsMember]

    @extend_schema(
        responses=inline_serializer(
            "Proxies", {"given": DelegationOutput(many=True), "received": DelegationOutput(many=True)}
        )
    )
    def get(self, request):
        delegations = selectors.delegations_of(selectors.membership_of(request.user))
        return Response(
            {
                "given": DelegationOutput(delegations["given"], many=True).data,
                "received": DelegationOutput(delegations["received"], many=True).data,
            }
        )

    @extend_schema(request=DelegationInput, responses={201: DelegationOutput})
    def post(self, request):
        data = DelegationInput(data=request.data)
        data.is_valid(raise_exception=True)
        delegate = Membership.objects.filter(pk=data.validated_data["delegate"]).first()
        delegation = services.delegation_set(user=request.user, delegate=delegate, category=data.validated_data["category"])
        return Response(DelegationOutput(delegation).data, status=status.HTTP_201_CREATED)


class DelegationRevokeApi(APIView):
    """Revoke one of your proxies."""

    permission_classes = [IsMember]

    @extend_schema(request=None, responses=DelegationOutput)
    def post(self, request, pk: int):
        delegation = services.delegation_revoke(user=request.user, delegation=get_object_or_404(Delegation, pk=pk))
        return Response(DelegationOutput(delegation).data)

