"""Demo projects for seed_demo: one per task type, filled through the real services."""

from __future__ import annotations

import base64
import random
from decimal import Decimal

from coop.models import ClientOrganization

from .ledger.services import deposit_record
from .models import Project
from .services import importing, projects

DEMO_CHARSET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REVIEWS = [
    ("The delivery was quick and the package intact.", "positive"),
    ("It broke after two days. Very disappointed.", "negative"),
    ("It does what it says, nothing more.", "neutral"),
    ("Customer service never answered my emails.", "negative"),
    ("Best purchase I made this year!", "positive"),
]
PROMPTS = [
    ("How do I boil an egg?", "Put it in boiling water for 7–9 minutes, then cool it in cold water.", "Eggs are a source of protein."),
    ("What is the capital of Kenya?", "Nairobi.", "Kenya is in East Africa and has many cities."),
    ("Summarize: 'The meeting moved to Friday.'", "The meeting is now on Friday.", "Meetings are important for teams."),
]


def captcha_rows(count: int, *, seed: int = 7, length: int = 5) -> list[dict]:
    """Synthetic CAPTCHA images (the `captcha` package) with random text; the text is kept as hidden ground truth."""
    from captcha.image import ImageCaptcha

    rng = random.Random(seed)
    generator = ImageCaptcha(width=160, height=60)
    rows = []
    for i in range(count):
        text = "".join(rng.choice(DEMO_CHARSET) for _ in range(length))
        image = base64.b64encode(generator.generate(text).getvalue()).decode()
        row = {"external_id": f"captcha-{i:05d}", "data": {"image": image}}
        if i % 10 == 0:
            row["gold"] = {"text": text}
        rows.append(row)
    return rows


DEMO_DEPOSIT = Decimal("2500.00")


def ensure_demo_projects(organization: ClientOrganization, steward=None) -> list[Project]:
    """Create the demo projects once (matched by title), fund and publish them.

    The demo client's opening deposit is recorded once (its bank reference makes it idempotent).
    """
    if steward is not None:
        deposit_record(organization=organization, amount=DEMO_DEPOSIT, reference="demo-opening-deposit", recorded_by=steward)
    specs = [
        (
            "Read the CAPTCHA codes",
            "ocr",
            {"pay_per_task": "0.0700", "estimated_seconds": 10, "overlap": 2, "max_overlap": 3, "gold_ratio": "0.100",
             "instructions": "Type the **5 characters** you see, letters and digits. Case does not matter."},
            lambda: captcha_rows(40),
        ),
        (
            "Product review sentiment",
            "classification",
            {"pay_per_task": "0.0450", "estimated_seconds": 7, "overlap": 3, "max_overlap": 5, "gold_ratio": "0",
             "choices": ["positive", "negative", "neutral"], "instructions": "Choose the sentiment of the review. Use **neutral** when unsure."},
            lambda: [{"external_id": f"review-{i}", "data": {"text": text}} for i, (text, _) in enumerate(REVIEWS * 4)],
        ),
        (
            "Which answer is more helpful?",
            "pairwise",
            {"pay_per_task": "0.1500", "estimated_seconds": 25, "overlap": 3, "max_overlap": 3, "gold_ratio": "0",
             "instructions": "Pick the response that answers the prompt better: correct, complete and concise."},
            lambda: [
                {"external_id": f"pair-{i}", "data": {"prompt": p, "response_a": a, "response_b": b}}
                for i, (p, a, b) in enumerate(PROMPTS * 3)
            ],
        ),
    ]
    made = []
    for title, task_type, fields, rows in specs:
        project = Project.objects.filter(organization=organization, title=title).first()
        if project is None:
            project = projects.project_create(organization=organization, task_type=task_type, title=title, **fields)
            importing.tasks_import(project=project, rows=enumerate(rows(), start=1))
        if project.status == Project.Status.DRAFT:
            project = projects.project_publish(project=project)
        made.append(project)
    return made
