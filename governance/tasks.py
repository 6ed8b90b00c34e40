"""dramatiq actors of the governance app: periodic, idempotent, each calling a service.

Every job can run twice or on two workers at once without doing anything
twice: the services claim their work with row locks (skip locked) or
conditional updates.
"""

import dramatiq

from coop.scheduler import periodic

from . import services


@periodic(seconds=60)
@dramatiq.actor(queue_name="default", max_retries=3, time_limit=120_000)
def governance_open_and_close_due() -> None:
    """Open scheduled proposals whose time has come; close, tally and apply those past their closing time;
    end interim suspensions whose time is up (the member is reinstated unless the members voted to suspend)."""
    services.proposals_open_due()
    services.proposals_close_due()
    services.interim_suspensions_expire_due()


@periodic(seconds=300)
@dramatiq.actor(queue_name="default", max_retries=3, time_limit=120_000)
def governance_remind_voters() -> None:
    """24 hours before a vote closes, remind the electors who have not voted (once per proposal)."""
    services.proposals_remind_due()


@periodic(seconds=3600)
@dramatiq.actor(queue_name="default", max_retries=3, time_limit=300_000)
def governance_send_digests() -> None:
    """Daily governance digest for members who chose it instead of per-event notifications."""
    services.governance_digest_send()


@periodic(seconds=3600)
@dramatiq.actor(queue_name="default", max_retries=3, time_limit=300_000)
def governance_agreement_terms() -> None:
    """Start and expire contracts by their terms; ask clients past retention for a deletion attestation."""
    services.agreements_roll_terms()
    services.dua_request_deletions_due()
