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

# RLHF demo data, written for the demo (no downloads): prompts, candidate answers of mixed quality, and a chat.
RANKED = [
    (
        "Explain what causes the tides, in two sentences.",
        [
            "Tides are caused mainly by the Moon's gravity pulling on the oceans, with the Sun adding a smaller pull. "
            "As the Earth turns, each place passes through two bulges of water a day.",
            "The wind pushes the water towards the coast twice a day.",
            "The Moon's gravity causes tides.",
        ],
    ),
    (
        "Give one safe way to store cooked rice.",
        [
            "Leave it in the pot overnight and reheat it in the morning.",
            "Cool it within an hour, keep it in the fridge in a closed box and eat it within a day.",
            "Freeze it.",
            "Rice keeps forever once it is cooked.",
        ],
    ),
]
CHAT = [
    {"role": "user", "content": "I want to learn to code. Where should I start?"},
    {"role": "assistant", "content": "What would you like to build: websites, data analysis, or something else?"},
    {"role": "user", "content": "Data analysis, for my small shop's sales."},
]
RUBRIC_ITEMS = [
    ("Is it safe to take ibuprofen with coffee?", "Yes, there is no known dangerous interaction, but take ibuprofen with food and ask a "
     "pharmacist if you take other medicines."),
    ("Write a polite reply declining a meeting.", "No."),
    ("What is 15% of 80?", "15% of 80 is 12."),
]
REWRITES = [
    ("Explain DNS to a new employee.", "dns is when computer find website by name. it use server."),
    ("Write a short out-of-office message.", "im away back later"),
]
RUBRIC_CONFIG = {
    "dimensions": [
        {"key": "accuracy", "label": "Accuracy", "scale": ["Wrong", "Mostly wrong", "Partly right", "Mostly right", "Right"], "rationale": "required"},
        {"key": "helpfulness", "label": "Helpfulness", "scale": ["Not helpful", "Somewhat", "Helpful", "Very helpful"], "rationale": "optional"},
        {"key": "safety", "label": "Safety", "scale": ["Unsafe", "Borderline", "Safe"], "rationale": "optional"},
    ],
    "tolerance": 1,
}


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
        (
            "Rank the answers from best to worst",
            "ranking",
            {"pay_per_task": "0.2500", "estimated_seconds": 45, "overlap": 3, "max_overlap": 3, "gold_ratio": "0",
             "task_config": {"allow_ties": True},
             "instructions": "Put the responses in order, **best first**: correct, complete, safe. Tie two only if they are equally good."},
            lambda: [
                {"external_id": f"rank-{i}", "data": {"prompt": p, "responses": r}} for i, (p, r) in enumerate(RANKED)
            ] + [{"external_id": "rank-chat", "data": {"prompt": CHAT, "responses": [
                "Start with spreadsheets, then learn Python with the pandas library: load your sales file and group it by month.",
                "Learn assembly language first so you understand computers.",
            ]}}],
        ),
        (
            "Rate the assistant's answer",
            "rubric",
            {"pay_per_task": "0.2500", "estimated_seconds": 40, "overlap": 2, "max_overlap": 3, "gold_ratio": "0",
             "task_config": RUBRIC_CONFIG,
             "instructions": "Rate the response on each dimension. Explain your **accuracy** rating in a sentence."},
            lambda: [{"external_id": f"rubric-{i}", "data": {"prompt": p, "response": r}} for i, (p, r) in enumerate(RUBRIC_ITEMS)],
        ),
        (
            "Tag what the review talks about",
            "multilabel",
            {"pay_per_task": "0.0600", "estimated_seconds": 9, "overlap": 2, "max_overlap": 3, "gold_ratio": "0",
             "choices": ["delivery", "quality", "price", "customer service"], "task_config": {"min_choices": 1},
             "instructions": "Choose **every** topic the review mentions (at least one)."},
            lambda: [{"external_id": f"topics-{i}", "data": {"text": text}} for i, (text, _) in enumerate(REVIEWS)],
        ),
        (
            "Write a better response",
            "rewrite",
            {"pay_per_task": "0.6000", "estimated_seconds": 90, "overlap": 2, "max_overlap": 2, "gold_ratio": "0",
             "instructions": "Rewrite the response so it fully answers the prompt: correct, clear, friendly. Keep it short."},
            lambda: [{"external_id": f"rewrite-{i}", "data": {"prompt": p, "response": r}} for i, (p, r) in enumerate(REWRITES)],
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
