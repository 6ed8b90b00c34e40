from django.core.management.base import BaseCommand

from coop.scheduler import periodic_jobs, run_blocking_scheduler


class Command(BaseCommand):
    help = "Enqueue periodic jobs on schedule (run exactly one per deployment; workers execute the jobs)."

    def add_arguments(self, parser):
        parser.add_argument("--list", action="store_true", help="List the periodic jobs and exit.")

    def handle(self, *args, list=False, **options):
        if list:
            for job in periodic_jobs():
                self.stdout.write(f"every {job.seconds:>5}s  {job.actor.actor_name} (queue {job.actor.queue_name})")
            return
        run_blocking_scheduler()
