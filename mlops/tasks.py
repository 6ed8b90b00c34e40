"""dramatiq actors of mlops. They take ids and call services; all are idempotent.

`train_model` runs on the `gpu` queue (production runs a worker on GPU machines
consuming only that queue); a retry resumes from the run's last checkpoint.
"""

import dramatiq
from django.conf import settings

from coop.scheduler import periodic


@dramatiq.actor(
    queue_name="gpu",
    max_retries=settings.MLOPS_TRAIN_MAX_RETRIES,
    time_limit=settings.MLOPS_TRAIN_TIME_LIMIT_S * 1000,
    min_backoff=settings.MLOPS_TRAIN_RETRY_BACKOFF_MS,
    max_backoff=600_000,
    on_retry_exhausted="training_run_gave_up",
)
def train_model(run_id: int) -> None:
    from .services.training import training_run_execute

    training_run_execute(run_id=run_id)


@dramatiq.actor(queue_name="default", max_retries=3)
def training_run_gave_up(message_data, retry_info) -> None:
    from .services.training import training_run_fail

    retries = (retry_info or {}).get("retries", "?")
    training_run_fail(run_id=message_data["args"][0], reason=f"gave up after {retries} retries; see the log")


@periodic(seconds=3600)
@dramatiq.actor(queue_name="default", max_retries=0, time_limit=600_000)
def bill_model_usage() -> None:
    from .services.dividends import usage_bill_due

    usage_bill_due()


@periodic(seconds=600)
@dramatiq.actor(queue_name="default", max_retries=0, time_limit=300_000)
def auto_train() -> None:
    from .services.autotrain import auto_train_due

    auto_train_due()


@periodic(seconds=60)
@dramatiq.actor(queue_name="default", max_retries=0, time_limit=120_000)
def recover_stale_runs() -> None:
    """Runs whose worker died (no heartbeat for MLOPS_RUN_STALE_S) are re-enqueued to resume, or failed with the reason."""
    from .services.training import runs_recover_stale

    runs_recover_stale()


@periodic(seconds=600)
@dramatiq.actor(queue_name="default", max_retries=0, time_limit=300_000)
def retire_models_of_ended_agreements() -> None:
    """Versions trained on labels whose data-use agreement expired or was terminated are retired (notices once)."""
    from .services.rights import rights_retire_ended

    rights_retire_ended()


@periodic(seconds=3600)
@dramatiq.actor(queue_name="default", max_retries=0, time_limit=600_000)
def sweep_model_rights() -> None:
    """Every live model version against today's agreements: retire or restrict what revoked rights no longer allow."""
    from .services.rights import rights_sweep

    rights_sweep()
