"""Removing tasks from a draft project (before any worker has seen them)."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.db import transaction

from coop.errors import ApplicationError, Conflict
from governance.error_codes import GovernanceErrorCode
from marketplace.error_codes import MarketplaceErrorCode

from ..models import Project, Task

MAX_DELETE = 10_000


@transaction.atomic
def tasks_delete_draft(*, project: Project, task_ids: list[int] | None = None) -> int:
    """Delete tasks of a draft project: the given ids (of this project only), or every task when `task_ids` is None.

    Takes the project row lock, so a publish cannot run between the status
    check and the delete. Ids of other projects are ignored (never deleted),
    and image files are removed from storage after commit. Returns how many
    tasks were deleted.
    """
    project = Project.objects.select_for_update().get(pk=project.pk)
    if project.status != Project.Status.DRAFT:
        raise Conflict(
            f"Tasks can only be deleted while the project is a draft; this one is {project.get_status_display().lower()}.",
            code=GovernanceErrorCode.NOT_DRAFT,
        )
    tasks = Task.objects.filter(project=project)
    if task_ids is not None:
        if not task_ids:
            raise ApplicationError("Choose the tasks to delete.", code=MarketplaceErrorCode.NO_TASKS_CHOSEN, fields={"task_ids": ["Required."]})
        if len(task_ids) > MAX_DELETE:
            raise ApplicationError(f"Delete at most {MAX_DELETE} tasks at a time.", fields={"task_ids": ["Too many."]})
        tasks = tasks.filter(pk__in=task_ids)
    images = [name for name in tasks.exclude(image="").values_list("image", flat=True)]
    _, per_model = tasks.delete()
    if images:
        transaction.on_commit(lambda: [default_storage.delete(name) for name in images])
    return per_model.get(Task._meta.label, 0)
