"""The demo loop's commands: a CAPTCHA project with hidden ground truth, then simulated labeling through the real services."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from marketplace.models import AcceptedLabel, Answer, Project, Task
from mlops.demo import demo_dir


@pytest.mark.django_db(transaction=True)
def test_demo_project_then_simulated_labeling_reaches_consensus(settings):
    out = io.StringIO()
    call_command("ocr_demo_project", "--count", "10", "--test-count", "3", "--length", "4", "--org", "Sim Client", stdout=out)
    project = Project.objects.get(organization__name="Sim Client")
    assert project.status == "published" and project.task_type == "ocr" and project.dua.train_models
    truth = json.loads((demo_dir(project.pk) / "ground_truth.json").read_text())
    assert len(truth) == 10 and all(len(text) == 4 for text in truth.values())
    for task in Task.objects.filter(project=project):
        assert task.image and task.external_id in truth
        assert not any(text in json.dumps(task.data) for text in truth.values())  # the answer is not in the task data
    assert len(list((demo_dir(project.pk) / "test").glob("*.png"))) == 3

    out = io.StringIO()
    call_command("simulate_labeling", "--project", str(project.pk), "--workers", "3", "--accuracy", "1.0,1.0,0.5", stdout=out)
    assert "SIMULATION" in out.getvalue()
    labels = AcceptedLabel.objects.filter(project=project)
    assert labels.count() >= 9
    # With two perfect workers of three, every accepted label is the ground truth.
    assert all(label.label["text"] == truth[label.task.external_id] for label in labels.select_related("task"))
    assert set(Answer.objects.filter(task__project=project).values_list("worker__membership__display_name", flat=True)) == {
        "Simulated worker 1", "Simulated worker 2", "Simulated worker 3"
    }
