"""SIMULATION: simulated members label a demo OCR project through the real claim and submit services."""

import random
import time

from django.core.management.base import BaseCommand, CommandError

from coop import jobs
from coop.errors import ApplicationError
from marketplace.models import AcceptedLabel, Project, Task
from marketplace.services.claiming import work_next
from marketplace.services.submission import assignment_submit
from mlops import demo


def _accuracies(text: str) -> list[float]:
    return [float(part) for part in text.split(",") if part.strip()]


class Command(BaseCommand):
    help = (
        "SIMULATION ONLY. Simulated members (sim-NN@…, 'Simulated worker N') claim tasks of a project made by "
        "ocr_demo_project and answer from its hidden ground truth, right with the given probability and otherwise with "
        "one wrong character, through the real work_next/assignment_submit services, so consensus, dynamic overlap, "
        "review and pay work as for real members."
    )

    def add_arguments(self, parser):
        parser.add_argument("--project", type=int, required=True)
        parser.add_argument("--workers", type=int, default=5)
        parser.add_argument("--accuracy", type=_accuracies, default=[0.9],
                            help="probability of a right answer; one value, or one per worker separated by commas")
        parser.add_argument("--seconds", type=int, default=8, help="active seconds reported per task (capped by real time)")
        parser.add_argument("--delay", type=float, default=0.0, help="real seconds to wait between answers (speed)")
        parser.add_argument("--max-tasks", type=int, default=0, help="stop after this many answers (0: until no work is left)")
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, **options):
        project = Project.objects.filter(pk=options["project"]).first()
        if project is None:
            raise CommandError("No such project.")
        try:
            truth = demo.read_ground_truth(project.pk)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        workers = demo.simulated_workers(options["workers"])
        accuracies = options["accuracy"] * len(workers) if len(options["accuracy"]) == 1 else options["accuracy"]
        if len(accuracies) != len(workers):
            raise CommandError("Give one --accuracy, or one per worker.")
        charset = "".join(sorted(set("".join(truth.values())))) or "0123456789"
        rng = random.Random(options["seed"])
        self.stdout.write(self.style.WARNING(f"SIMULATION: {len(workers)} simulated workers label project #{project.pk}."))
        answered, active = 0, list(zip(workers, accuracies))
        while active and not (options["max_tasks"] and answered >= options["max_tasks"]):
            for pair in list(active):
                worker, accuracy = pair
                claim = work_next(worker=worker, project=project)
                if claim.assignment is None:
                    active.remove(pair)
                    continue
                right = truth.get(claim.assignment.task.external_id, "")
                text = right if rng.random() < accuracy else demo.corrupt(right, charset, rng)
                assignment_submit(worker=worker, assignment_id=claim.assignment.pk, payload={"text": text},
                                  idempotency_key=f"sim-{claim.assignment.pk}", active_seconds=options["seconds"])
                answered += 1
                if options["delay"]:
                    time.sleep(options["delay"])
        jobs.drain()
        labels = AcceptedLabel.objects.filter(project=project)
        correct = sum(1 for task_id, label in labels.values_list("task__external_id", "label")
                      if label.get("text") == truth.get(task_id))
        review = Task.objects.filter(project=project, state=Task.State.REVIEW).count()
        total = labels.count()
        self.stdout.write(self.style.SUCCESS(
            f"SIMULATION done: {answered} answers, {total} accepted labels ({correct} match the ground truth), {review} tasks in review."
        ))
        self.stdout.write(f"  next: python manage.py ocr_train --project {project.pk} --backbone resnet18 --epochs 40 --promote")
