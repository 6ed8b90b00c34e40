"""Serving OCR predictions to clients: entitlement, funds check, batched inference, usage recording.

Entitlement (who may use a model version):
  a client organization may use a version when its snapshot includes labels
  from that organization's own projects, and every *other* organization whose
  labels are in the snapshot agreed, in the DUA those labels came under, that
  models trained on its data may serve others (`publish_trained_models`).
  Members' labels of client A never reach client B through a model unless A
  agreed.

Billing terms are captured per (client, version, day) in PredictionUsage when
the first prediction of the day is served: the price per prediction
(settings.OCR_PREDICTION_PRICE) applies when the client's own DUA in the
snapshot carries a revenue share above 0 (the most recent such DUA decides),
otherwise predictions are recorded but not billed. Before serving, the client's
cash must cover what it already owes for unbilled usage plus this request;
otherwise the request is refused with "insufficient_funds" (HTTP 402).

torch loads on the first prediction in a process, never at import.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from coop.errors import ApplicationError, Forbidden, NotFound
from coop.models import ClientOrganization
from marketplace.error_codes import MarketplaceErrorCode
from marketplace.ledger.selectors import client_cash_balance
from mlops.error_codes import MlopsErrorCode

from ..models import ModelPromotion, ModelVersion, PredictionUsage, ServingRestriction, SnapshotSource
from ..selectors import entitled_versions  # noqa: F401  (re-exported: callers of the old place)

_cache: OrderedDict[int, object] = OrderedDict()
_cache_lock = threading.Lock()
_predict_lock = threading.Lock()


def _refuse_unservable(organization: ClientOrganization, version: ModelVersion) -> None:
    """The clear refusal for a version revoked rights took away (retired, or restricted from this client)."""
    if version.retired_at is not None:
        raise ApplicationError(f"{version} was retired: {version.retired_reason}.", code=MlopsErrorCode.MODEL_RETIRED, status=410)
    if ServingRestriction.objects.filter(model_version=version).exclude(organization=organization).exists():
        raise Forbidden(f"{version} may no longer serve your organization: a data owner withdrew the right to publish models "
                        "trained on its data.", code=MlopsErrorCode.RIGHTS_REVOKED)


def is_entitled(organization: ClientOrganization, version: ModelVersion) -> bool:
    return entitled_versions(organization).filter(pk=version.pk).exists()


def resolve_version(*, organization: ClientOrganization, name: str | None = None, version_id: int | None = None) -> ModelVersion:
    """The version a client's request uses: the one asked for, else the promoted one of `name`, else its latest promoted one."""
    from .rights import rights_enforce

    allowed = entitled_versions(organization)
    if version_id is not None:
        version = ModelVersion.objects.filter(pk=version_id).first()
        if version is None or (name and version.name != name):
            raise NotFound("No such model version.")
    elif name:
        version = ModelVersion.objects.filter(promoted=True, name=name).first()
        if version is None:
            retired = ModelVersion.objects.filter(name=name, retired_at__isnull=False).order_by("-retired_at").first()
            if retired is not None and not ModelVersion.objects.filter(name=name, promoted=True).exists() \
                    and ModelPromotion.objects.filter(model_version=retired, action=ModelPromotion.Action.RETIRE).exists():
                _refuse_unservable(organization, retired)  # its promoted version was retired: say so, not just "none"
            raise NotFound(f"No promoted version of model {name!r}.", code=MlopsErrorCode.NO_PROMOTED_MODEL)
    else:
        version = allowed.filter(promoted=True).order_by("-promoted_at", "-pk").first()
        if version is None:
            raise NotFound("No promoted model is available to your organization yet.", code=MlopsErrorCode.NO_PROMOTED_MODEL)
    # Today's agreements decide, not the snapshot's: a revoked right retires or restricts the version before it serves.
    version = rights_enforce(version)
    _refuse_unservable(organization, version)
    if not allowed.filter(pk=version.pk).exists():
        raise Forbidden("This model was not trained on data your organization is entitled to use.", code=MlopsErrorCode.NOT_ENTITLED)
    return version


def billing_terms(organization: ClientOrganization, version: ModelVersion) -> tuple[Decimal, Decimal]:
    """(price per prediction, revenue share %) for this client and version; price 0 when no revenue share applies."""
    source = (
        SnapshotSource.objects.filter(snapshot_id=version.snapshot_id, organization=organization).order_by("-dua_id").first()
    )
    share = source.revenue_share_pct if source is not None else Decimal(0)
    if share <= 0:
        return Decimal(0), Decimal(0)
    return Decimal(settings.OCR_PREDICTION_PRICE), share


def amount_owed(organization: ClientOrganization, currency: str = "USD") -> Decimal:
    """What the client owes for usage not billed yet (today's included)."""
    rows = PredictionUsage.objects.filter(organization=organization, currency=currency, billed_at__isnull=True, unit_price__gt=0)
    owed = Decimal(0)
    for predictions, price in rows.values_list("predictions", "unit_price"):
        owed += predictions * price
    return owed


def _check_funds(organization: ClientOrganization, cost: Decimal) -> None:
    if cost <= 0:
        return
    available = client_cash_balance(organization) - amount_owed(organization)
    if available < cost:
        raise ApplicationError(
            f"Your organization's balance ({available:.4f} USD after unbilled usage) does not cover {cost:.4f} USD for these "
            "predictions. Deposit funds with the co-op to continue.",
            code=MarketplaceErrorCode.INSUFFICIENT_FUNDS,
            status=402,
            extra={"available": str(available), "required": str(cost)},
        )


def usage_record(*, organization: ClientOrganization, version: ModelVersion, count: int) -> PredictionUsage:
    """Add `count` predictions to today's usage row (created with today's terms on first use). Race-safe."""
    day = timezone.localdate()
    price, share = billing_terms(organization, version)
    lookup = {"organization": organization, "model_version": version, "day": day}
    with transaction.atomic():
        updated = PredictionUsage.objects.filter(**lookup).update(predictions=F("predictions") + count)
        if not updated:
            try:
                with transaction.atomic():
                    PredictionUsage.objects.create(**lookup, predictions=count, unit_price=price, revenue_share_pct=share)
            except IntegrityError:  # a concurrent first request of the day created it
                PredictionUsage.objects.filter(**lookup).update(predictions=F("predictions") + count)
    return PredictionUsage.objects.get(**lookup)


def load_version(version: ModelVersion):
    """The loaded model of a version, from a small per-process cache (settings.MLOPS_MODEL_CACHE_SIZE)."""
    with _cache_lock:
        model = _cache.get(version.pk)
        if model is not None:
            _cache.move_to_end(version.pk)
            return model
    import mlops.ocr as ocr  # torch loads here, on first use

    model = ocr.load_model(version.artifact_path, device=settings.MLOPS_INFERENCE_DEVICE)
    with _cache_lock:
        _cache[version.pk] = model
        while len(_cache) > settings.MLOPS_MODEL_CACHE_SIZE:
            _cache.popitem(last=False)
    return model


def run_model(version: ModelVersion, images: list) -> list[dict]:
    import mlops.ocr as ocr

    model = load_version(version)
    with _predict_lock:  # one batch at a time per process: torch already uses every core
        return ocr.predict(model, images, batch_size=settings.MLOPS_INFERENCE_BATCH_SIZE)


def ocr_predict(
    *, organization: ClientOrganization, images: list[bytes], name: str | None = None, version_id: int | None = None
) -> tuple[ModelVersion, list[dict]]:
    """Read the text in each image with a model the client is entitled to; records usage. Images are already validated bytes."""
    if not images:
        raise ApplicationError("Send at least one image.", code=MlopsErrorCode.NO_IMAGES, status=400)
    if len(images) > settings.OCR_PREDICT_MAX_IMAGES:
        raise ApplicationError(
            f"At most {settings.OCR_PREDICT_MAX_IMAGES} images per request.", code=MlopsErrorCode.TOO_MANY_IMAGES, status=400
        )
    version = resolve_version(organization=organization, name=name, version_id=version_id)
    price, _ = billing_terms(organization, version)
    _check_funds(organization, price * len(images))
    results = run_model(version, images)
    usage_record(organization=organization, version=version, count=len(results))
    return version, results


def usage_summary(organization: ClientOrganization):
    return (
        PredictionUsage.objects.filter(organization=organization)
        .values("model_version__name", "model_version__version")
        .annotate(total=Sum("predictions"), unbilled=Sum("predictions", filter=Q(billed_at__isnull=True)))
    )


IMAGE_FORMATS = {"PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF"}


def checked_image(raw: bytes, index: int) -> bytes:
    """`raw` if it is a readable PNG/JPEG/… image within the size limits; else the error naming image `index`."""
    if len(raw) > settings.OCR_PREDICT_MAX_IMAGE_BYTES:
        raise ApplicationError(f"Image {index} is larger than {settings.OCR_PREDICT_MAX_IMAGE_BYTES} bytes.",
                               code=MlopsErrorCode.IMAGE_TOO_LARGE, fields={f"images[{index}]": ["Too large."]}, status=400)
    try:
        with Image.open(io.BytesIO(raw)) as image:
            if image.format not in IMAGE_FORMATS or image.width * image.height > 4096 * 4096:
                raise ValueError
            image.verify()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise ApplicationError(f"Image {index} is not a readable image.", code=MlopsErrorCode.INVALID_IMAGE,
                               fields={f"images[{index}]": ["Not a readable PNG/JPEG image."]}, status=400) from None
    return raw
