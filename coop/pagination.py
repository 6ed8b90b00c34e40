"""List endpoints page instead of cutting off: `?limit=` (default 50, at most 500) and `?offset=`,
answered as {"count", "next", "previous", "results"} (DRF's LimitOffsetPagination, as /api/v1/proposals/)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response


class Page(LimitOffsetPagination):
    default_limit = 50
    max_limit = 500


PAGE_PARAMETERS = [
    OpenApiParameter("limit", int, description="Rows per page (default 50, at most 500)."),
    OpenApiParameter("offset", int, description="Rows to skip."),
]


def page_of(serializer_class: type[serializers.Serializer], name: str):
    """The OpenAPI shape of one page of `serializer_class` rows."""
    return inline_serializer(
        f"Paginated{name}List",
        {
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )


def paginated(request, queryset, serializer_class: type[serializers.Serializer], *, view=None) -> Response:
    """One page of `queryset` (ordered by the caller) serialized with `serializer_class`."""
    paginator = Page()
    rows = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(rows, many=True).data)
