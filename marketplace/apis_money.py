"""Money APIs (/api/v1/): the client's balance, escrow and statements; stewards' deposits and payouts; a member's earnings.

HTTP only: serializers in and out, ledger services and selectors called.
Amounts travel as strings of a decimal number (at most 4 places) and are
never floats. Clients see workers only as pseudonymous ids; a member sees
only their own money.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from coop.errors import ApplicationError, NotFound
from coop.exports import EXPORT_RESPONSES, streamed
from coop.models import ClientOrganization
from coop.pagination import PAGE_PARAMETERS, page_of, paginated
from coop.permissions import IsClient, IsMember, IsSteward, client_organization
from coop.validation import RefuseUnknownFieldsMixin

from . import earnings
from .api_params import client_project, records_parameters
from .ledger import payouts, selectors, services
from .ledger.models import Payout

AMOUNT_PATTERN = re.compile(r"[0-9]{1,11}(\.[0-9]{1,4})?")  # ASCII digits only: \d also matches ١٢ and １２


class AmountField(serializers.CharField):
    """A positive amount as a string such as "250.00": at most 11 digits before the point and 4 after.

    JSON numbers with a fraction arrive as binary floats (0.1 is not 0.1), so
    they are refused with a message saying so; whole JSON numbers are exact
    and accepted.
    """

    default_error_messages = {
        "float": 'Send the amount as a string such as "250.00": JSON numbers with a fraction are binary floats and lose cents.',
        "format": "Must be a positive decimal number with at most 4 decimal places, e.g. \"250.00\".",
        "zero": "Must be more than zero.",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", 'A decimal number as a string, e.g. "250.00" (at most 4 decimal places).')
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, float):
            self.fail("float")
        if isinstance(data, bool) or not isinstance(data, (str, int)):
            self.fail("format")
        text = str(data).strip()
        if not AMOUNT_PATTERN.fullmatch(text):
            self.fail("format")
        value = Decimal(text)
        if value == 0:
            self.fail("zero")
        return value


class MoneyOut(serializers.DecimalField):
    def __init__(self, **kwargs):
        super().__init__(max_digits=18, decimal_places=4, coerce_to_string=True, **kwargs)


# --- Client ----------------------------------------------------------------------------------------


class CurrencyBalanceOutput(serializers.Serializer):
    currency = serializers.CharField()
    cash = MoneyOut(help_text="Deposited and not yet committed to a project's escrow.")
    escrow = MoneyOut(help_text="Held in escrow across the organization's projects.")


class ProjectEscrowLineOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    status = serializers.CharField()
    currency = serializers.CharField()
    escrow = MoneyOut()


class DepositOutput(serializers.Serializer):
    id = serializers.IntegerField(help_text="The ledger transaction.")
    amount = MoneyOut()
    currency = serializers.CharField()
    reference = serializers.CharField()
    recorded_at = serializers.DateTimeField()


class OrganizationBalanceOutput(serializers.Serializer):
    organization = serializers.CharField(help_text="The organization's slug.")
    balances = CurrencyBalanceOutput(many=True)
    projects = ProjectEscrowLineOutput(many=True)
    deposits = DepositOutput(many=True, help_text="The latest 100 deposits recorded for the organization.")


class OrganizationBalanceApi(APIView):
    """The calling organization's cash, escrow per project and recorded deposits."""

    permission_classes = [IsClient]

    @extend_schema(responses=OrganizationBalanceOutput)
    def get(self, request):
        organization = client_organization(request)
        body = {
            "organization": organization.slug,
            **selectors.organization_balances(organization),
            "deposits": selectors.organization_deposits(organization),
        }
        return Response(OrganizationBalanceOutput(body).data)


class EscrowOutput(serializers.Serializer):
    project = serializers.IntegerField()
    currency = serializers.CharField()
    balance = MoneyOut(help_text="Unspent escrow now.")
    committed = MoneyOut(help_text="Everything funded into escrow.")
    spent = MoneyOut(help_text="earnings + top_ups + fees.")
    earnings = MoneyOut()
    top_ups = MoneyOut()
    fees = MoneyOut()
    refunded = MoneyOut()
    corrections = MoneyOut()


class ProjectEscrowApi(APIView):
    """A project's escrow: balance, and what was committed, spent and refunded (committed − spent − refunded + corrections = balance)."""

    permission_classes = [IsClient]

    @extend_schema(responses={200: EscrowOutput, 404: OpenApiResponse(description="not one of your projects")})
    def get(self, request, project_id: int):
        return Response(EscrowOutput(selectors.escrow_summary(client_project(request, project_id))).data)


class StatementRowOutput(serializers.Serializer):
    date = serializers.CharField()
    kind = serializers.CharField()
    description = serializers.CharField()
    reference = serializers.CharField()
    task_external_id = serializers.CharField(help_text="Your id of the task paid for, if any.")
    worker = serializers.CharField(help_text="The worker's pseudonymous id (as in results exports), if any.")
    escrow_change = MoneyOut(help_text="+ money into escrow, − money out.")
    worker_amount = MoneyOut()
    fee = MoneyOut()


class StatementTotalsOutput(serializers.Serializer):
    funded = MoneyOut()
    earnings = MoneyOut()
    top_ups = MoneyOut()
    fees = MoneyOut()
    refunded = MoneyOut()
    corrections = MoneyOut()
    escrow_balance = MoneyOut()


class StatementOutput(serializers.Serializer):
    project = serializers.IntegerField()
    title = serializers.CharField()
    organization = serializers.IntegerField()
    currency = serializers.CharField()
    rows = StatementRowOutput(many=True)
    totals = StatementTotalsOutput()


class ProjectStatementApi(APIView):
    """The project's invoice/statement: every movement of its escrow. JSON (with totals) or CSV (the rows)."""

    permission_classes = [IsClient]

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["json", "csv"], description="json (default) or csv")],
        responses={(200, "application/json"): StatementOutput, (200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request, project_id: int):
        project = client_project(request, project_id)
        fmt = request.query_params.get("format", "json")
        if fmt not in ("json", "csv"):
            raise ApplicationError("format must be json or csv.", fields={"format": ["json or csv"]}, status=400)
        statement = selectors.project_statement_for_client(project)
        if fmt == "csv":
            return streamed(
                "csv", statement["rows"], fields=selectors.CLIENT_STATEMENT_FIELDS, filename=f"project-{project.pk}-statement"
            )
        return Response(StatementOutput(statement).data)


# --- Stewards ---------------------------------------------------------------------------------------


class DepositInput(RefuseUnknownFieldsMixin, serializers.Serializer):
    amount = AmountField()
    reference = serializers.CharField(max_length=200, help_text="The bank transfer reference; the deposit's identity.")
    currency = serializers.ChoiceField(choices=settings.COOP_CURRENCIES, default="USD", help_text="A currency the co-op supports (ISO 4217).")


class DepositRecordedOutput(DepositOutput):
    organization = serializers.CharField()
    cash_balance = MoneyOut(help_text="The organization's cash in this currency after the deposit.")


def _organization(key: str) -> ClientOrganization:
    organization = ClientOrganization.objects.filter(slug=key).first()
    if organization is None and key.isascii() and key.isdigit() and len(key) < 19:  # "²".isdigit() is true
        organization = ClientOrganization.objects.filter(pk=int(key)).first()
    if organization is None:
        raise NotFound("No such organization.")
    return organization


class OrganizationDepositApi(APIView):
    """A steward records money a client transferred to the co-op. Idempotent by reference: 201 first, 200 on a replay."""

    permission_classes = [IsSteward]

    @extend_schema(
        request=DepositInput,
        responses={
            201: DepositRecordedOutput,
            200: DepositRecordedOutput,
            409: OpenApiResponse(description="the reference was already recorded with another amount or currency"),
        },
    )
    def post(self, request, organization: str):
        org = _organization(organization)
        data = DepositInput(data=request.data)
        data.is_valid(raise_exception=True)
        reference = data.validated_data["reference"].strip()
        posted = services.deposit_record(
            organization=org,
            amount=data.validated_data["amount"],
            reference=reference,
            currency=data.validated_data["currency"],
            recorded_by=request.user,
        )
        # Decided by the ledger's unique event key, not by a read before posting: parallel replays get one 201.
        replay = getattr(posted, "replayed", False)
        deposit = selectors.organization_deposits(org, reference=reference, limit=1)[0]
        body = {
            **deposit,
            "organization": org.slug,
            "cash_balance": selectors.client_cash_balance(org, deposit["currency"]),
        }
        response = Response(DepositRecordedOutput(body).data, status=status.HTTP_200_OK if replay else status.HTTP_201_CREATED)
        if replay:
            response["Idempotent-Replayed"] = "true"
        return response


class PayoutOutput(serializers.ModelSerializer):
    class Meta:
        model = Payout
        fields = ["id", "amount", "currency", "status", "reference", "created_at", "decided_at"]


class StewardPayoutOutput(PayoutOutput):
    worker = serializers.IntegerField(source="worker_id", help_text="The member's user id.")
    worker_name = serializers.CharField(source="worker.display_name")
    worker_email = serializers.EmailField(source="worker.email")

    class Meta(PayoutOutput.Meta):
        fields = [*PayoutOutput.Meta.fields, "worker", "worker_name", "worker_email"]


class PayoutDeskApi(APIView):
    """Stewards: the open payout requests (oldest first), to pay."""

    permission_classes = [IsSteward]

    @extend_schema(responses=StewardPayoutOutput(many=True))
    def get(self, request):
        return Response(StewardPayoutOutput(selectors.payout_desk()["requested"], many=True).data)


class MarkPaidInput(serializers.Serializer):
    reference = serializers.CharField(max_length=200, help_text="The bank or mobile-money transfer reference.")


class PayoutPaidApi(APIView):
    """Stewards: record that a payout was sent. Idempotent with the same reference."""

    permission_classes = [IsSteward]

    @extend_schema(request=MarkPaidInput, responses={200: StewardPayoutOutput, 409: OpenApiResponse(description="already paid or cancelled")})
    def post(self, request, payout_id: int):
        payout = Payout.objects.filter(pk=payout_id).first()
        if payout is None:
            raise NotFound("No such payout.")
        data = MarkPaidInput(data=request.data)
        data.is_valid(raise_exception=True)
        payout = payouts.payout_mark_paid(payout=payout, reference=data.validated_data["reference"], steward=request.user)
        return Response(StewardPayoutOutput(payout).data)


# --- Members -----------------------------------------------------------------------------------------


class EarningsSummaryOutput(serializers.Serializer):
    currency = serializers.CharField()
    available = MoneyOut()
    pending_payout = MoneyOut()
    paid_total = MoneyOut()
    lifetime_earned = MoneyOut()
    accepted = MoneyOut(help_text="Posted for accepted answers.")
    top_ups = MoneyOut()
    pending_count = serializers.IntegerField()
    pending_value = MoneyOut(help_text="Submitted answers not yet decided, at the project's pay per task.")
    accepted_unpaid_count = serializers.IntegerField()


class ProjectPayOutput(serializers.Serializer):
    project = serializers.IntegerField(source="project.pk")
    title = serializers.CharField(source="project.title")
    client = serializers.CharField(source="project.organization.name")
    earnings = MoneyOut()
    top_ups = MoneyOut()
    answers_paid = serializers.IntegerField()
    answers_measured = serializers.IntegerField()
    active_seconds = serializers.IntegerField()
    hourly = MoneyOut(allow_null=True, help_text="Measured effective hourly pay; null when no paid answer was measured.")
    posted_hourly = MoneyOut()


class EarningsOutput(serializers.Serializer):
    summary = EarningsSummaryOutput()
    projects = ProjectPayOutput(many=True)
    payout_minimum = MoneyOut()


def _currency_param(request) -> str:
    currency = request.query_params.get("currency", "USD")
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise ApplicationError("currency must be a three-letter code such as USD.", fields={"currency": ["Invalid."]}, status=400)
    return currency


CURRENCY_PARAMETER = OpenApiParameter("currency", str, description="ISO 4217 code (default USD)")


class EarningsApi(APIView):
    """My balance, pending vs accepted, and measured hourly pay per project."""

    permission_classes = [IsMember]

    @extend_schema(parameters=[CURRENCY_PARAMETER], responses=EarningsOutput)
    def get(self, request):
        currency = _currency_param(request)
        body = {
            "summary": earnings.worker_earnings_summary(request.user, currency),
            "projects": earnings.worker_project_pay(request.user, currency),
            "payout_minimum": payouts.PAYOUT_MINIMUM,
        }
        return Response(EarningsOutput(body).data)


class EarningsStatementApi(APIView):
    """My statement: every movement of my available balance, with a running balance."""

    permission_classes = [IsMember]

    @extend_schema(
        parameters=[
            CURRENCY_PARAMETER,
            OpenApiParameter("format", str, enum=["json", "csv", "jsonl"], description="json (default), csv or jsonl"),
            OpenApiParameter("from", OpenApiTypes.DATE, description="first day"),
            OpenApiParameter("to", OpenApiTypes.DATE, description="last day"),
        ],
        responses=EXPORT_RESPONSES,
    )
    def get(self, request):
        currency = _currency_param(request)
        fmt, date_from, date_to = records_parameters(request.query_params)
        statement = selectors.worker_statement(request.user, date_from, date_to, currency)
        return streamed(fmt, statement["rows"], fields=selectors.WORKER_STATEMENT_FIELDS, filename=f"my-earnings-{currency.lower()}")


class PayoutRequestInput(RefuseUnknownFieldsMixin, serializers.Serializer):
    amount = AmountField(required=False, help_text="Default: everything available. Rounded down to whole cents.")
    currency = serializers.RegexField(r"^[A-Z]{3}$", default="USD")


class MyPayoutsApi(APIView):
    permission_classes = [IsMember]

    @extend_schema(operation_id="v1_work_payouts_list", parameters=PAGE_PARAMETERS, responses=page_of(PayoutOutput, "Payout"))
    def get(self, request):
        return paginated(request, selectors.worker_payouts(request.user), PayoutOutput, view=self)

    @extend_schema(
        request=PayoutRequestInput,
        responses={201: PayoutOutput, 409: OpenApiResponse(description="a request is already open"), 422: OpenApiResponse(description="below the minimum or above the balance")},
    )
    def post(self, request):
        data = PayoutRequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        payout = payouts.payout_request(
            worker=request.user, amount=data.validated_data.get("amount"), currency=data.validated_data["currency"]
        )
        return Response(PayoutOutput(payout).data, status=status.HTTP_201_CREATED)


class MyPayoutCancelApi(APIView):
    permission_classes = [IsMember]

    @extend_schema(request=None, responses={200: PayoutOutput, 409: OpenApiResponse(description="already paid")})
    def post(self, request, payout_id: int):
        payout = Payout.objects.filter(pk=payout_id, worker=request.user).first()
        if payout is None:
            raise NotFound("No such payout.")
        return Response(PayoutOutput(payouts.payout_cancel(payout=payout, actor=request.user)).data)
