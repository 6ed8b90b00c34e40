"""What several marketplace APIs read from a request the same way: the client's own project, a records export's filters.

Below every API module (apis.py, apis_datasets.py, apis_money.py, the earnings pages), so none of them
imports another API module for these.
"""

from __future__ import annotations

from coop import validation
from coop.errors import ApplicationError, NotFound
from coop.permissions import client_organization

from . import selectors
from .models import Project


def client_project(request, project_id) -> Project:
    """The calling client's own project; another organization's project is a 404, never a leak."""
    project = selectors.project_for_client(organization=client_organization(request), project_id=project_id)
    if project is None:
        raise NotFound("No such project.")
    return project


def records_parameters(params) -> tuple[str, object, object]:
    """Validated (format, from, to) for a records export; bad values are a 400 naming the field."""
    fmt = params.get("format", "json")
    if fmt not in ("json", "csv", "jsonl"):
        raise ApplicationError("format must be json, csv or jsonl.", fields={"format": ["json, csv or jsonl"]}, status=400)
    dates = []
    for key in ("from", "to"):
        value = params.get(key) or None
        parsed = validation.date_or_none(value) if value else None
        if value and parsed is None:
            raise ApplicationError(f"'{key}' must be a date (YYYY-MM-DD).", fields={key: ["Invalid date."]}, status=400)
        dates.append(parsed)
    if dates[0] and dates[1] and dates[0] > dates[1]:
        raise ApplicationError("'from' is after 'to'.", fields={"from": ["After 'to'."]}, status=400)
    return fmt, dates[0], dates[1]
