"""Snapshot accepted OCR labels and train a model on the gpu queue (zero-service mode: in this process)."""

import time

from django.core.management.base import BaseCommand, CommandError

from coop import jobs
from coop.errors import ApplicationError
from marketplace.models import Project
from mlops import demo
from mlops.models import ModelVersion, TrainingRun
from mlops.services.training import training_run_start


class Command(BaseCommand):
    help = (
        "Start a training run as a steward would from the portal: snapshot the accepted labels of OCR projects (those "
        "whose DUA permits training), queue the run on the gpu queue and wait for it. With no REDIS_URL the job runs in "
        "this process; otherwise a gpu-queue worker runs it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--project", type=int, action="append", default=[], help="OCR project id (repeat; default: all)")
        parser.add_argument("--model-name", default="captcha-ocr")
        parser.add_argument("--backbone", default="", help="timm model (default: settings MLOPS_BACKBONE)")
        parser.add_argument("--epochs", type=int, default=40)
        parser.add_argument("--batch-size", type=int, default=32)
        parser.add_argument("--lr", type=float, default=2e-3)
        parser.add_argument("--img-height", type=int, default=32)
        parser.add_argument("--img-width", type=int, default=96)
        parser.add_argument("--in-chans", type=int, default=3, choices=[1, 3], help="1: grayscale (faster on a CPU)")
        parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
        parser.add_argument("--charset", default="", help="allowed characters (labels outside are excluded)")
        parser.add_argument(
            "--no-early-stop", action="store_true",
            help="train every epoch (a small validation split reaches 100%% long before the model generalizes)",
        )
        parser.add_argument("--promote", action="store_true", help="promote the model when training succeeds")
        parser.add_argument("--no-wait", action="store_true", help="queue the run and return")

    def handle(self, *args, **options):
        projects = None
        if options["project"]:
            projects = list(Project.objects.filter(pk__in=options["project"]))
            if len(projects) != len(set(options["project"])):
                raise CommandError("Unknown project id.")
        config = {key: options[key] for key in ("epochs", "batch_size", "lr", "img_height", "img_width", "in_chans", "device")}
        if options["backbone"]:
            config["backbone"] = options["backbone"]
        if options["no_early_stop"]:
            config["early_stop_seq_acc"] = None
        snapshot_options = {"charset": options["charset"]} if options["charset"] else {}
        try:
            run = training_run_start(actor=demo.demo_steward(), model_name=options["model_name"], projects=projects, config=config,
                                     auto_promote=options["promote"], snapshot_options=snapshot_options)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        snapshot = run.snapshot
        self.stdout.write(f"Snapshot #{snapshot.pk}: {snapshot.item_count} labels ({snapshot.train_count} train, "
                          f"{snapshot.val_count} val, {snapshot.test_count} test), {snapshot.excluded_count} excluded.")
        self.stdout.write(f"Run #{run.pk} queued ({run.config['backbone']}, {run.config['epochs']} epochs).")
        if options["no_wait"]:
            return
        jobs.drain(timeout_ms=24 * 3600 * 1000)  # zero-service mode; with Redis a worker runs it and we poll
        while TrainingRun.objects.get(pk=run.pk).status not in TrainingRun.FINISHED:
            time.sleep(2)
        run.refresh_from_db()
        if run.status != TrainingRun.Status.SUCCEEDED:
            raise CommandError(f"Run #{run.pk} {run.status}: {run.status_reason}\n{run.log}")
        version = ModelVersion.objects.get(training_run=run)
        metrics = run.metrics
        self.stdout.write(self.style.SUCCESS(
            f"{version} ({'promoted' if version.promoted else 'not promoted'}) on {run.device} in {run.train_seconds:.0f} s: "
            f"validation sequence accuracy {metrics.get('val_seq_acc')}, test {metrics.get('test_seq_acc')}."
        ))
        if options["promote"] and not version.promoted:
            from mlops.services.registry import promotion_gate

            self.stdout.write(self.style.WARNING(f"Not promoted: {promotion_gate(version)['reason']}"))
