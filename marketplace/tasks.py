"""dramatiq actors of the marketplace. They take ids and call services; all are idempotent."""

import dramatiq

from coop.jobs import coalesced_job_started
from coop.scheduler import periodic

from .services import webhooks


@dramatiq.actor(queue_name="default", max_retries=8, min_backoff=2_000, max_backoff=600_000, time_limit=30_000)
def deliver_webhook(delivery_id: int) -> None:
    webhooks.webhook_deliver(delivery_id=delivery_id)


@dramatiq.actor(queue_name="default", max_retries=0)
def webhook_failed(message_data, exception_data) -> None:
    webhooks.webhook_give_up(delivery_id=message_data["args"][0])


def _review_and_complete(project_id: int) -> None:
    from .services.payment import project_close_books, project_pay_review
    from .services.projects import project_complete_if_done

    project_pay_review(project_id=project_id)  # measured pay is settled before the books close
    if project_complete_if_done(project_id=project_id):
        project_close_books(project_id=project_id)


@dramatiq.actor(queue_name="default", max_retries=3)
def project_check_completion(project_id: int) -> None:
    """Queued (coalesced) when a task's label is accepted: review the project's pay, complete it if that was the last."""
    coalesced_job_started("project_check_completion", project_id)  # before any read: see enqueue_coalesced_on_commit
    _review_and_complete(project_id)


@dramatiq.actor(queue_name="default", max_retries=3)
def project_closed(project_id: int) -> None:
    from .services.payment import project_close_books

    project_close_books(project_id=project_id)


@periodic(seconds=600)
@dramatiq.actor(queue_name="default", max_retries=0, time_limit=600_000)
def review_measured_pay() -> None:
    """Raise pay (and top up accepted work) wherever measured working time puts it below the floor; complete a
    project whose last acceptance's check was lost (a process that died between its commit and the job's send)."""
    from .services.payment import live_projects_for_pay_review

    for project_id in live_projects_for_pay_review():
        _review_and_complete(project_id)


@periodic(seconds=600)
@dramatiq.actor(queue_name="default", max_retries=0, time_limit=300_000)
def pause_projects_below_floor() -> None:
    """After the members raise the pay floor, pause live projects that pay below it (the feed already hides them)."""
    from .services.projects import projects_pause_below_floor

    projects_pause_below_floor()


@periodic(seconds=600)
@dramatiq.actor(queue_name="default", max_retries=0, time_limit=600_000)
def settle_owed_earnings() -> None:
    """Pay accepted work left owed, and return unspent escrow of closed projects."""
    from .services.payment import earnings_settle_due, escrow_refund_due

    earnings_settle_due()
    escrow_refund_due()


@periodic(seconds=30)
@dramatiq.actor(queue_name="default", max_retries=0, time_limit=120_000)
def reclaim_expired_leases() -> None:
    from .services.claiming import leases_reclaim_expired

    while leases_reclaim_expired() > 0:
        pass


@periodic(seconds=600)
@dramatiq.actor(queue_name="default", max_retries=0, time_limit=300_000)
def auto_accept_due_answers() -> None:
    from .services.review import answers_auto_accept_due

    answers_auto_accept_due()
