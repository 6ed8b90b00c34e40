"""The client console's OCR models: the versions the organization may use, a "try it" upload, and usage and billing."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import F, Sum
from django.shortcuts import render
from django.utils import timezone

from coop.errors import ApplicationError
from coop.views import role_required
from mlops.error_codes import MlopsErrorCode

from .dividend_shares import usage_amounts
from .models import PredictionUsage
from .services import inference

USAGE_DAYS = 30


@role_required("client")
def client_models(request):
    """GET: models and usage; POST: read one uploaded image with a chosen (or the default) model."""
    organization = request.user.organization
    versions = list(inference.entitled_versions(organization).order_by("name", "-version")[:200])
    result, error = None, None
    if request.method == "POST":
        upload = request.FILES.get("image")
        chosen = request.POST.get("version") or ""
        version_id = int(chosen) if chosen.isascii() and chosen.isdigit() and len(chosen) < 19 else None
        try:
            if upload is None:
                raise ApplicationError("Choose an image to read.", code=MlopsErrorCode.NO_IMAGES)
            image = inference.checked_image(upload.read(settings.OCR_PREDICT_MAX_IMAGE_BYTES + 1), 0)
            version, predictions = inference.ocr_predict(organization=organization, images=[image], version_id=version_id)
            result = {"version": version, "prediction": predictions[0]}
        except ApplicationError as exc:
            error = exc.message
    since = timezone.localdate() - dt.timedelta(days=USAGE_DAYS)
    usage = (
        PredictionUsage.objects.filter(organization=organization, day__gte=since)
        .select_related("model_version")
        .annotate(amount=F("predictions") * F("unit_price"))
        .order_by("-day", "model_version__name")
    )
    usage = list(usage)
    for row in usage:  # the share of a billed day that went to the workers whose labels made the model
        row.dividends_funded = usage_amounts(row)[1] if row.billed_at and row.unit_price > 0 else 0
    totals = PredictionUsage.objects.filter(organization=organization).aggregate(predictions=Sum("predictions"))
    return render(
        request,
        "mlops/console_models.html",
        {
            "versions": versions,
            "usage": usage,
            "total_predictions": totals["predictions"] or 0,
            "owed": inference.amount_owed(organization),
            "result": result,
            "error": error,
            "usage_days": USAGE_DAYS,
            "dividends_funded": sum((row.dividends_funded for row in usage), 0),
        },
        status=400 if error else 200,
    )
