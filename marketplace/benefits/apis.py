"""Benefits APIs (/api/v1/): the fund's public figures, my claims (list and file), my contributions record. HTTP only."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from coop.exports import EXPORT_RESPONSES, streamed
from coop.permissions import IsMember
from coop.validation import RefuseUnknownFieldsMixin

from ..apis_money import CURRENCY_PARAMETER, AmountField, _currency_param
from . import selectors, services
from .models import BenefitKind


class ClaimOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    days = serializers.IntegerField()
    day_pay = serializers.DecimalField(max_digits=18, decimal_places=4, allow_null=True, coerce_to_string=True)
    amount = serializers.DecimalField(max_digits=18, decimal_places=4, coerce_to_string=True)
    currency = serializers.CharField()
    status = serializers.CharField()
    route = serializers.CharField()
    rules_check = serializers.CharField()
    decision_reasons = serializers.CharField()
    decided_at = serializers.DateTimeField(allow_null=True)
    paid_at = serializers.DateTimeField(allow_null=True)
    proposal = serializers.IntegerField(source="proposal_id", allow_null=True)
    created_at = serializers.DateTimeField()


class ClaimInput(RefuseUnknownFieldsMixin, serializers.Serializer):
    kind = serializers.ChoiceField(choices=BenefitKind.choices)
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    statement = serializers.CharField(max_length=5000, help_text="Private: you and the deciders only.")
    amount = AmountField(required=False, help_text='Hardship and equipment claims: the amount, e.g. "120.00".')
    currency = serializers.CharField(required=False, default="USD", max_length=3)
    evidence_note = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class MyClaimsApi(APIView):
    """My benefit claims (GET), or file one (POST): the rules check it at once and say why if it cannot be made."""

    permission_classes = [IsMember]

    @extend_schema(responses=ClaimOutput(many=True))
    def get(self, request):
        return Response(ClaimOutput(selectors.claims_of(request.user)[:200], many=True).data)

    @extend_schema(request=ClaimInput, responses={201: ClaimOutput})
    def post(self, request):
        data = ClaimInput(data=request.data)
        data.is_valid(raise_exception=True)
        claim = services.benefit_claim_file(member=request.user, **data.validated_data)
        return Response(ClaimOutput(claim).data, status=status.HTTP_201_CREATED)


class FundOutput(serializers.Serializer):
    currency = serializers.CharField()
    balance = serializers.DecimalField(max_digits=18, decimal_places=4, coerce_to_string=True)
    inflow = serializers.DecimalField(max_digits=18, decimal_places=4, coerce_to_string=True)
    outflow = serializers.DecimalField(max_digits=18, decimal_places=4, coerce_to_string=True)
    by_month = serializers.ListField(child=serializers.DictField())
    claims_paid_by_kind = serializers.ListField(
        child=serializers.DictField(), help_text="count and amount are null where fewer than small_cell claims were paid"
    )
    small_cell = serializers.IntegerField()
    rules = serializers.DictField(child=serializers.DecimalField(max_digits=18, decimal_places=4, coerce_to_string=True))
    rule_history = serializers.ListField(child=serializers.DictField())


def _plain(value):
    """Decimals and dates as strings, recursively (the DictFields carry them as they are)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


class BenefitsFundApi(APIView):
    """The benefits fund in public (members): balance, inflow and outflow by month, claims paid by kind, the rules and their history."""

    permission_classes = [IsMember]

    @extend_schema(parameters=[CURRENCY_PARAMETER], responses=FundOutput)
    def get(self, request):
        body = selectors.fund_transparency(_currency_param(request))
        return Response(FundOutput(_plain(body) | {"small_cell": body["small_cell"]}).data)


class MyBenefitsRecordApi(APIView):
    """My contributions record: what my work gave the fund and what I drew from it (json, csv or jsonl), to take anywhere."""

    permission_classes = [IsMember]

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["json", "csv", "jsonl"], description="json (default), csv or jsonl")],
        responses=EXPORT_RESPONSES,
    )
    def get(self, request):
        from coop.errors import ApplicationError

        fmt = request.query_params.get("format", "json")
        if fmt not in ("json", "csv", "jsonl"):
            raise ApplicationError("format must be json, csv or jsonl.", fields={"format": ["json, csv or jsonl"]}, status=400)
        rows = selectors.contributions_rows(request.user)
        return streamed(fmt, rows, fields=selectors.CONTRIBUTION_FIELDS, filename="my-benefits-record")
