"""REST API of the co-op domain (/api/v1/). Thin: serializers in, services called, serializers out."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors, services
from .errors import Forbidden
from .models import ApiToken, Membership, Notification
from .pagination import PAGE_PARAMETERS, page_of, paginated
from .permissions import IsClient, IsMember, client_organization
from .validation import IdField, RefuseUnknownFieldsMixin


class MembershipOutput(serializers.ModelSerializer):
    class Meta:
        model = Membership
        fields = ["status", "is_steward", "display_name", "country", "timezone", "languages", "skills", "member_number", "admitted_at"]


class OrganizationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    contact_name = serializers.CharField()
    contact_email = serializers.CharField()
    website = serializers.CharField()
    is_active = serializers.BooleanField()


class MeApi(APIView):
    """Who is calling: a person (role, membership) or an organization token."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "kind": serializers.ChoiceField(choices=["user", "organization"]),
                "role": serializers.CharField(),
                "email": serializers.EmailField(required=False),
                "membership": MembershipOutput(required=False, allow_null=True),
                "organization": OrganizationOutput(required=False, allow_null=True),
            },
        )
    )
    def get(self, request):
        organization = client_organization(request)
        if request.user.pk is None:  # organization token
            return Response({"kind": "organization", "role": "client", "organization": OrganizationOutput(organization).data})
        membership = getattr(request.user, "membership", None)
        return Response(
            {
                "kind": "user",
                "role": request.user.role,
                "email": request.user.email,
                "membership": MembershipOutput(membership).data if membership else None,
                "organization": OrganizationOutput(organization).data if organization else None,
            }
        )


class OrganizationApi(APIView):
    """The calling client's own organization."""

    permission_classes = [IsClient]

    @extend_schema(responses=OrganizationOutput)
    def get(self, request):
        return Response(OrganizationOutput(client_organization(request)).data)


class TokenOutput(serializers.ModelSerializer):
    scope = serializers.CharField()
    is_active = serializers.BooleanField()

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "scope", "is_active", "created_at", "last_used_at", "expires_at", "revoked_at"]


class TokenCreateInput(RefuseUnknownFieldsMixin, serializers.Serializer):
    name = serializers.CharField(max_length=80)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class TokenCreatedOutput(TokenOutput):
    token = serializers.CharField(help_text="The secret. Shown once; store it now.")

    class Meta(TokenOutput.Meta):
        fields = [*TokenOutput.Meta.fields, "token"]


class PersonalTokenListApi(APIView):
    """A member's personal tokens for the worker API. Creating one needs a logged-in session or another personal token."""

    permission_classes = [IsMember]

    @extend_schema(responses=TokenOutput(many=True))
    def get(self, request):
        return Response(TokenOutput(selectors.api_tokens_for(user=request.user), many=True).data)

    @extend_schema(request=TokenCreateInput, responses={201: TokenCreatedOutput})
    def post(self, request):
        data = TokenCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        issued = services.api_token_create(actor=request.user, user=request.user, **data.validated_data)
        body = TokenOutput(issued.token).data
        body["token"] = issued.plaintext
        return Response(body, status=status.HTTP_201_CREATED)


class PersonalTokenRevokeApi(APIView):
    permission_classes = [IsMember]

    @extend_schema(request=None, responses=TokenOutput)
    def post(self, request, pk: int):
        token = get_object_or_404(ApiToken, pk=pk, user=request.user)
        return Response(TokenOutput(services.api_token_revoke(actor=request.user, token=token)).data)


class NotificationOutput(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "read_at", "created_at"]


class NotificationListApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="v1_notifications_list",
        parameters=[OpenApiParameter("unread", str, enum=["1", "true"], description="only unread ones"), *PAGE_PARAMETERS],
        responses=page_of(NotificationOutput, "Notification"),
    )
    def get(self, request):
        if request.user.pk is None:
            raise Forbidden("Organization tokens have no notifications; use a personal login.")
        unread = request.query_params.get("unread") in ("1", "true")
        return paginated(request, selectors.notification_list(user=request.user, unread_only=unread), NotificationOutput, view=self)


class NotificationReadInput(serializers.Serializer):
    ids = serializers.ListField(child=IdField(), required=False, max_length=1000)


class NotificationReadApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=NotificationReadInput, responses=inline_serializer("MarkedRead", {"marked": serializers.IntegerField()}))
    def post(self, request):
        if request.user.pk is None:
            raise Forbidden("Organization tokens have no notifications.")
        data = NotificationReadInput(data=request.data)
        data.is_valid(raise_exception=True)
        marked = services.notification_mark_read(user=request.user, notification_ids=data.validated_data.get("ids"))
        return Response({"marked": marked})
