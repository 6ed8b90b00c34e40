"""Releasing labelled data to the client: every path (results export, a task's answers, the console
download, the `task.accepted` webhook) passes the project's data-use agreement, called directly here.

- The governing agreement is the one the project was published under, followed
  to its ratified amendment (governance.selectors.dua_in_force): a new version's
  terms apply at once, so exports keep working under them and a purpose the
  amendment dropped is refused from that moment.
- Nothing is released after the client attested deletion or after retention ended.
- Exports need a declared purpose the agreement permits; each one is logged
  before the first byte and the log counts the rows actually sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from coop.errors import ApplicationError
from governance.models import DataExportLog, DataUseAgreement
from governance.services import dua_check_in_force, dua_export_finish, dua_log_export
from marketplace.error_codes import MarketplaceErrorCode

from ..models import Project
from ..selectors import project_dua


def _governing_dua(project: Project) -> DataUseAgreement:
    dua = project_dua(project)
    if dua is None:
        raise ApplicationError("No data-use agreement covers this project.", code=MarketplaceErrorCode.NO_ACTIVE_DUA, status=403)
    return dua


def export_begin(*, project: Project, purpose: str) -> DataExportLog:
    """Check the purpose against the governing DUA and open the export's log entry, before anything is read.
    Raises ApplicationError (4xx). Close it with export_finish, or stream through export_rows_counted."""
    purpose = (purpose or "").strip()
    if not purpose:
        raise ApplicationError(
            "Declare the purpose of this export with ?purpose=… (it is checked against your data-use agreement).",
            code=MarketplaceErrorCode.PURPOSE_REQUIRED,
            status=400,
            fields={"purpose": ["Required."]},
        )
    return dua_log_export(
        dua=_governing_dua(project), organization=project.organization, purpose=purpose, project_id=project.pk
    )


def export_finish(*, entry: DataExportLog, rows: int) -> DataExportLog:
    """Record the rows an export sent (once)."""
    return dua_export_finish(entry=entry, rows=rows)


def export_rows_counted(rows: Iterable[dict], *, entry: DataExportLog) -> Iterator[dict]:
    """Yield `rows`, then record how many were handed to the server, also when the client hangs up mid-way."""
    sent = 0
    try:
        for row in rows:
            yield row
            sent += 1
    finally:
        export_finish(entry=entry, rows=sent)


def webhook_release_check(*, project: Project) -> None:
    """A webhook that carries labels passes the same agreement check as an export (no purpose: the client
    chose the receiver when it set the URL). Raises ApplicationError (403) when the data may not leave."""
    dua_check_in_force(dua=_governing_dua(project))
