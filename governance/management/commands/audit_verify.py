"""python manage.py audit_verify: check the governance log's hash chain; names the first broken entry (exit 1)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from governance.audit_chain import ChainBreak, chain_verify
from governance.models import GovernanceLog


def _entries_in_order(batch: int = 2000):
    """Every entry by id, in keyset pages (no server-side cursor left open when a break stops the walk)."""
    after = 0
    while True:
        page = list(GovernanceLog.objects.filter(pk__gt=after).order_by("id")[:batch])
        yield from page
        if len(page) < batch:
            return
        after = page[-1].pk


class Command(BaseCommand):
    help = "Verify the governance log's hash chain. Exits non-zero and names the first broken entry."

    def add_arguments(self, parser):
        parser.add_argument("--head", help="A head hash recorded earlier: fail unless the chain still contains it.")

    def handle(self, *args, head=None, **options):
        try:
            count, last = chain_verify(_entries_in_order())
        except ChainBreak as broken:
            raise CommandError(f"Governance log chain broken at {broken}.") from None
        if head and head != last and not GovernanceLog.objects.filter(entry_hash=head).exists():
            raise CommandError(f"The recorded head {head} is no longer in the log: entries were removed from its end.")
        self.stdout.write(self.style.SUCCESS(f"Governance log chain intact: {count} entries, head {last}."))
