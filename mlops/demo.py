"""Demo and simulation helpers for the OCR loop (management commands only; never used by the platform itself).

Ground truth of generated CAPTCHAs is written to MLOPS_DIR/demo/project-<id>/,
outside the task data the workers see, together with a held-out test set of
fresh CAPTCHAs for checking the trained model.
"""

from __future__ import annotations

import base64
import json
import random
from decimal import Decimal
from pathlib import Path

from django.conf import settings

from coop import services
from coop.demo import ensure_demo_user
from coop.errors import ApplicationError
from coop.models import ClientOrganization, User
from mlops.error_codes import MlopsErrorCode
from mlops.ocr.generate import random_texts

SIMULATION_DOMAIN = "simulation.demo.coop.localhost"


def demo_dir(project_id: int) -> Path:
    return Path(settings.MLOPS_DIR) / "demo" / f"project-{project_id}"


def demo_steward() -> User:
    steward = User.objects.filter(membership__is_steward=True, membership__status="active").order_by("pk").first()
    return steward or ensure_demo_user("steward", "Sam Steward", "GB", "Europe/London", ["en"], ["governance"], steward=True)


def demo_organization(name: str, steward: User) -> ClientOrganization:
    return ClientOrganization.objects.filter(name=name).first() or services.organization_create(
        actor=steward, name=name, contact_name="Casey Client", contact_email=f"casey@client.{SIMULATION_DOMAIN}"
    )


def captcha_png(text: str, width: int = 160, height: int = 60) -> bytes:
    from captcha.image import ImageCaptcha

    return ImageCaptcha(width=width, height=height).generate(text).getvalue()


def task_rows(texts: list[str]):
    """Import rows, generated one at a time (an import of thousands never holds every image)."""
    for i, text in enumerate(texts):
        yield i + 1, {"external_id": f"captcha-{i:06d}", "data": {"image": base64.b64encode(captcha_png(text)).decode()}}


def texts_for(count: int, *, length: tuple[int, int], charset: str, seed: int) -> list[str]:
    return random_texts(count, length, charset, seed)


def write_ground_truth(project_id: int, texts: list[str], test_texts: list[str]) -> Path:
    """Ground truth by external id, and a held-out test set (images + labels.csv) of fresh CAPTCHAs."""
    from mlops.ocr.datasets import write_labels

    root = demo_dir(project_id)
    (root / "test").mkdir(parents=True, exist_ok=True)
    truth = {f"captcha-{i:06d}": text for i, text in enumerate(texts)}
    (root / "ground_truth.json").write_text(json.dumps(truth, indent=0))
    records = []
    for i, text in enumerate(test_texts):
        name = f"{i:06d}.png"
        (root / "test" / name).write_bytes(captcha_png(text))
        records.append((name, text))
    write_labels(root / "test", records)
    return root


def read_ground_truth(project_id: int) -> dict[str, str]:
    path = demo_dir(project_id) / "ground_truth.json"
    if not path.exists():
        raise ApplicationError(f"No ground truth for project {project_id} (made by ocr_demo_project?): {path}", code=MlopsErrorCode.NO_GROUND_TRUTH)
    return json.loads(path.read_text())


def publish_funded(project, steward: User):
    """Publish; when escrow needs more than the client holds, record a (demo) deposit of the shortfall first."""
    from marketplace.ledger.services import deposit_record
    from marketplace.services.projects import project_publish

    try:
        return project_publish(project=project)
    except ApplicationError as error:
        if error.code != "insufficient_funds":
            raise
        shortfall = Decimal(error.extra.get("shortfall", "0")) + Decimal("5.00")  # a little over, for prediction fees
        deposit_record(organization=project.organization, amount=shortfall.quantize(Decimal("0.0001")),
                       reference=f"demo-deposit-project-{project.pk}", recorded_by=steward)
        return project_publish(project=project)


def simulated_workers(count: int) -> list[User]:
    """Members made for the simulation (display name "Simulated worker N", handle sim-NN), through the real membership services."""
    return [
        ensure_demo_user(f"sim-{n:02d}", f"Simulated worker {n}", "KE", "Africa/Nairobi", ["en"], ["ocr"])
        for n in range(1, count + 1)
    ]


def corrupt(text: str, charset: str, rng: random.Random) -> str:
    """A plausible mistake: one character replaced by another of the charset."""
    if not text:
        return rng.choice(charset)
    i = rng.randrange(len(text))
    choices = [c for c in charset if c != text[i]] or [text[i]]
    return text[:i] + rng.choice(choices) + text[i + 1:]
