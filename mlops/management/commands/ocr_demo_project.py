"""Create an OCR project of synthetic CAPTCHAs with hidden ground truth (demo and simulation only)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from coop import jobs
from coop.errors import ApplicationError
from governance.selectors import dua_covering
from marketplace.services import importing, projects
from mlops import demo


def _length(text: str) -> tuple[int, int]:
    low, _, high = text.partition("-")
    return int(low), int(high or low)


class Command(BaseCommand):
    help = (
        "Generate N CAPTCHAs (the `captcha` package) into a new published OCR project of a client organization. "
        "The answers are kept outside the task data, in MLOPS_DIR/demo/project-<id>/ground_truth.json, with a held-out "
        "test set of fresh CAPTCHAs for checking a trained model."
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=300, help="tasks to create")
        parser.add_argument("--length", type=_length, default=(4, 4), help="text length, N or MIN-MAX")
        parser.add_argument("--charset", default="0123456789")
        parser.add_argument("--test-count", type=int, default=200, help="fresh held-out CAPTCHAs written for evaluation")
        parser.add_argument("--org", default="Acme Vision Labs", help="client organization (created if missing)")
        parser.add_argument("--title", default="", help="project title")
        parser.add_argument("--overlap", type=int, default=2)
        parser.add_argument("--max-overlap", type=int, default=3)
        parser.add_argument("--pay", default="0.0700", help="pay per task (USD); the demo contract's rate card asks at least 0.07 for OCR")
        parser.add_argument("--seconds", type=int, default=8, help="estimated seconds per task")
        parser.add_argument("--seed", type=int, default=0, help="seeds the texts (captcha pixels are not reproducible)")
        parser.add_argument("--model-assisted", action="store_true", help="pre-fill the labeling screen with the promoted model")

    def handle(self, *args, **options):
        if options["count"] < 1:
            raise CommandError("--count must be at least 1")
        charset, length = options["charset"], options["length"]
        texts = demo.texts_for(options["count"], length=length, charset=charset, seed=options["seed"])
        test_texts = demo.texts_for(options["test_count"], length=length, charset=charset, seed=options["seed"] + 10_000)
        try:
            with transaction.atomic():
                steward = demo.demo_steward()
                organization = demo.demo_organization(options["org"], steward)
                if dua_covering(organization=organization, task_type="ocr") is None:
                    from governance.demo import ensure_demo_agreements

                    ensure_demo_agreements(organization, steward)  # contract + DUA (training allowed), voted by the members
                title = options["title"] or f"Read the CAPTCHA codes ({options['count']} × {length[0]}-{length[1]} of {charset[:20]})"
                project = projects.project_create(
                    organization=organization, task_type="ocr", title=title,
                    instructions=f"Type the characters you see ({''.join(sorted(set(charset)))}).",
                    pay_per_task=options["pay"], estimated_seconds=options["seconds"], overlap=options["overlap"],
                    max_overlap=max(options["max_overlap"], options["overlap"]), gold_ratio="0",
                    case_sensitive=any(c.isalpha() for c in charset) and charset != charset.lower() and charset != charset.upper(),
                    model_assisted=options["model_assisted"],
                )
                report = importing.tasks_import(project=project, rows=demo.task_rows(texts))
                project = demo.publish_funded(project, steward)
                root = demo.write_ground_truth(project.pk, texts, test_texts)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        transaction.on_commit(jobs.drain)
        self.stdout.write(self.style.SUCCESS(
            f"Project #{project.pk} “{project.title}” ({organization.name}): {report.imported} CAPTCHAs, {project.status}."
        ))
        self.stdout.write(f"  hidden ground truth and {len(test_texts)} held-out test images: {root}")
        self.stdout.write(f"  next: python manage.py simulate_labeling --project {project.pk} --workers 5 --accuracy 0.9")
