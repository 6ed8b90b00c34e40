"""dramatiq actors of the benefits fund (imported from MarketplaceConfig.ready()). Idempotent."""

import dramatiq
from django.conf import settings

from coop.scheduler import periodic


@periodic(seconds=900)
@dramatiq.actor(queue_name="default", max_retries=0, time_limit=300_000)
def benefits_pay_queue() -> None:
    """Pay approved claims the fund now covers, oldest first (the fund grows with every fee between decisions)."""
    from .services import benefit_claims_pay_queued

    for currency in settings.COOP_CURRENCIES:
        benefit_claims_pay_queued(currency=currency)
