"""The governance log (filterable page, streamed CSV and JSON Lines exports) and the co-op's policies."""

from __future__ import annotations

import json

from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from coop.exports import streamed
from coop.views import member_required

from .. import audit_chain, selectors
from ..forms import LogFilterForm
from ..rules import POLICIES

# previous_hash and entry_hash let anyone check an export against the chain (governance.audit_chain):
# created_at, actor_id and data are exactly what was hashed.
COLUMNS = [
    "id",
    "created_at",
    "action",
    "actor",
    "actor_id",
    "object_type",
    "object_id",
    "summary",
    "data",
    "previous_hash",
    "entry_hash",
]


@member_required
def log_list(request):
    form = LogFilterForm(request.GET or None)
    entries = selectors.governance_log_list(**form.filters())
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "governance/log.html",
        {"form": form, "page": page, "query": query.urlencode(), "actions": selectors.governance_log_actions()},
    )


def _row(entry) -> dict:
    return {
        "id": entry.pk,
        "created_at": audit_chain.timestamp(entry.created_at),
        "action": entry.action,
        "actor": entry.actor.display_name if entry.actor_id else "",
        "actor_id": entry.actor_id,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "summary": entry.summary,
        "data": entry.data,
        "previous_hash": entry.previous_hash,
        "entry_hash": entry.entry_hash,
    }


@member_required
def log_export(request, fmt: str):
    """The whole (filtered) log, streamed row by row, so a large log never sits in memory."""
    if fmt not in ("csv", "jsonl"):
        raise Http404
    entries = selectors.governance_log_list(**LogFilterForm(request.GET or None).filters()).iterator(chunk_size=500)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    return streamed(
        fmt,
        (_row(entry) for entry in entries),
        fields=COLUMNS,
        filename=f"governance-log-{stamp}",
        prepare_csv=lambda row: {**row, "data": json.dumps(row["data"], cls=DjangoJSONEncoder, sort_keys=True)},
    )


@member_required
def policies(request):
    rows = [
        {"definition": definition, "current": selectors.policy_current(key), "history": selectors.policy_history(key)}
        for key, definition in POLICIES.items()
    ]
    return render(request, "governance/policies.html", {"policies": rows})
