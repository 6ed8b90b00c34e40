"""mlops APIs (/api/v1/): stewards run training and the registry; clients read text from images."""

from __future__ import annotations

import base64
import binascii

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from coop.error_codes import CoopErrorCode
from coop.errors import ApplicationError
from coop.pagination import PAGE_PARAMETERS, page_of, paginated
from coop.parsers import LargeJSONParser
from coop.permissions import IsClient, IsMember, IsSteward, client_organization
from coop.validation import IdField, RefuseUnknownFieldsMixin
from marketplace.models import Project
from mlops.error_codes import MlopsErrorCode

from . import selectors
from .models import DatasetSnapshot, ModelVersion, TrainingRun
from .services import inference, registry, training

# --- Stewards: training runs and the registry -----------------------------------------------------


class SnapshotOptionsInput(serializers.Serializer):
    charset = serializers.CharField(required=False, max_length=500, trim_whitespace=False)
    max_len = serializers.IntegerField(required=False, min_value=1, max_value=200)
    seed = serializers.IntegerField(required=False, min_value=0, max_value=2**31 - 1)
    val_fraction = serializers.DecimalField(required=False, max_digits=4, decimal_places=3, min_value=0, max_value=1)
    test_fraction = serializers.DecimalField(required=False, max_digits=4, decimal_places=3, min_value=0, max_value=1)


class RunInput(RefuseUnknownFieldsMixin, serializers.Serializer):
    model_name = serializers.CharField(max_length=100)
    projects = serializers.ListField(child=IdField(), required=False, max_length=1000,
                                     help_text="OCR projects to snapshot (default: all); ignored with `snapshot`.")
    snapshot = IdField(required=False, help_text="Train on an existing snapshot.")
    snapshot_options = SnapshotOptionsInput(required=False)
    config = serializers.DictField(required=False, help_text="mlops.ocr.TrainConfig fields, e.g. backbone, epochs, batch_size.")
    auto_promote = serializers.BooleanField(required=False, default=False)


class RunOutput(serializers.ModelSerializer):
    snapshot = serializers.IntegerField(source="snapshot_id")
    model_version = serializers.SerializerMethodField()

    class Meta:
        model = TrainingRun
        fields = [
            "id", "model_name", "snapshot", "status", "status_reason", "config", "device", "attempts", "progress", "metrics",
            "cancel_requested", "auto_promote", "created_at", "started_at", "finished_at", "train_seconds", "model_version",
            "heartbeat_at", "recoveries",
        ]

    def get_model_version(self, run) -> int | None:
        try:
            return run.model_version.pk
        except ModelVersion.DoesNotExist:
            return None


class RunDetailOutput(RunOutput):
    log = serializers.CharField()
    curve = serializers.SerializerMethodField()

    class Meta(RunOutput.Meta):
        fields = [*RunOutput.Meta.fields, "log", "curve"]

    def get_curve(self, run) -> dict:
        return selectors.run_curve(run)


class TrainingRunListApi(APIView):
    """Training runs: list them, or start one (snapshot + queued job on the gpu queue). Stewards only."""

    permission_classes = [IsSteward]

    @extend_schema(operation_id="v1_mlops_runs_list", parameters=PAGE_PARAMETERS, responses=page_of(RunOutput, "TrainingRun"))
    def get(self, request):
        return paginated(request, selectors.run_list(), RunOutput, view=self)

    @extend_schema(request=RunInput, responses={201: RunOutput, 422: OpenApiResponse(description="refused: reason in error.code")})
    def post(self, request):
        data = RunInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        snapshot = projects = None
        if values.get("snapshot"):
            snapshot = DatasetSnapshot.objects.filter(pk=values["snapshot"]).first()
            if snapshot is None:
                raise ApplicationError("No such snapshot.", code=CoopErrorCode.NOT_FOUND, status=404)
        elif values.get("projects"):
            projects = list(Project.objects.filter(pk__in=values["projects"]))
            if len(projects) != len(set(values["projects"])):
                raise ApplicationError("Unknown project id(s).", fields={"projects": ["Unknown project."]}, status=400)
        run = training.training_run_start(
            actor=request.user, model_name=values["model_name"], snapshot=snapshot, projects=projects,
            config=values.get("config"), auto_promote=values["auto_promote"], snapshot_options=values.get("snapshot_options"),
        )
        return Response(RunOutput(run).data, status=status.HTTP_201_CREATED)


class TrainingRunDetailApi(APIView):
    permission_classes = [IsSteward]

    @extend_schema(responses=RunDetailOutput)
    def get(self, request, run_id: int):
        return Response(RunDetailOutput(selectors.run_get(run_id)).data)


class TrainingRunCancelApi(APIView):
    permission_classes = [IsSteward]

    @extend_schema(request=None, responses={200: RunOutput, 409: OpenApiResponse(description="the run has already finished")})
    def post(self, request, run_id: int):
        run = training.training_run_cancel(actor=request.user, run=selectors.run_get(run_id))
        return Response(RunOutput(run).data)


class TrainingRunResumeApi(APIView):
    """Queue a failed, cancelled or stale run again; it resumes from its last checkpoint."""

    permission_classes = [IsSteward]

    @extend_schema(request=None, responses={200: RunOutput, 409: OpenApiResponse(description="run_finished | run_active")})
    def post(self, request, run_id: int):
        run = training.training_run_resume(actor=request.user, run=selectors.run_get(run_id))
        return Response(RunOutput(run).data)


class ModelVersionOutput(serializers.ModelSerializer):
    training_run = serializers.IntegerField(source="training_run_id")
    snapshot = serializers.IntegerField(source="snapshot_id")
    contributors = serializers.SerializerMethodField()

    class Meta:
        model = ModelVersion
        fields = ["id", "name", "version", "promoted", "promoted_at", "retired_at", "retired_reason", "metrics", "backbone", "charset",
                  "max_len", "training_run", "snapshot", "created_at", "contributors"]

    def get_contributors(self, version) -> int:
        return selectors.contributors_of(version).count()


class ModelVersionListApi(APIView):
    permission_classes = [IsSteward]

    @extend_schema(operation_id="v1_mlops_models_list", parameters=PAGE_PARAMETERS, responses=page_of(ModelVersionOutput, "ModelVersion"))
    def get(self, request):
        return paginated(request, selectors.model_versions(), ModelVersionOutput, view=self)


class PromoteInput(RefuseUnknownFieldsMixin, serializers.Serializer):
    override_reason = serializers.CharField(required=False, allow_blank=True, max_length=500,
                                            help_text="Promote past a failed quality gate (stewards; logged).")


class ModelVersionPromoteApi(APIView):
    """Promote a version: its quality gate must pass (held-out test accuracy, no regression), or a steward overrides with a reason."""

    permission_classes = [IsSteward]

    @extend_schema(request=PromoteInput, responses={
        200: ModelVersionOutput,
        422: OpenApiResponse(description="below_min_accuracy | regression | no_test_accuracy | no_comparable_baseline | model_retired"),
    })
    def post(self, request, version_id: int):
        data = PromoteInput(data=request.data or {})
        data.is_valid(raise_exception=True)
        version = registry.model_version_promote(actor=request.user, model_version=selectors.model_version_get(version_id),
                                                 override_reason=data.validated_data.get("override_reason", ""))
        return Response(ModelVersionOutput(version).data)


class RollbackInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)


class ModelRollbackApi(APIView):
    """Promote again the version that was promoted before the current one."""

    permission_classes = [IsSteward]

    @extend_schema(request=RollbackInput, responses={200: ModelVersionOutput, 409: OpenApiResponse(description="nothing to roll back")})
    def post(self, request):
        data = RollbackInput(data=request.data)
        data.is_valid(raise_exception=True)
        version = registry.model_version_rollback(actor=request.user, name=data.validated_data["name"])
        return Response(ModelVersionOutput(version).data)


# --- Clients: OCR inference -----------------------------------------------------------------------

class PredictJsonInput(serializers.Serializer):
    images = serializers.ListField(child=serializers.CharField(), min_length=1, help_text="Base64 images (data: URLs accepted).")
    model = serializers.CharField(required=False, max_length=100, help_text="Model name (default: your newest promoted model).")
    version = IdField(required=False, help_text="A specific model version id.")


class PredictMultipartInput(serializers.Serializer):
    images = serializers.ListField(child=serializers.FileField(), min_length=1)
    model = serializers.CharField(required=False, max_length=100)
    version = IdField(required=False)


class PredictionOutput(serializers.Serializer):
    text = serializers.CharField()
    confidence = serializers.FloatField(help_text="Probability of the whole string.")
    char_confidences = serializers.ListField(child=serializers.FloatField(), help_text="One probability per character.")


class ModelRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    version = serializers.IntegerField()


class PredictOutput(serializers.Serializer):
    model = ModelRefOutput()
    predictions = PredictionOutput(many=True)


class OcrPredictApi(APIView):
    """Read the text in images with a model trained on data your organization is entitled to. Batched; usage is recorded."""

    permission_classes = [IsClient]
    # JSON may carry the documented maximum (OCR_PREDICT_MAX_IMAGES base64 images of OCR_PREDICT_MAX_IMAGE_BYTES),
    # which is far above DATA_UPLOAD_MAX_MEMORY_SIZE: LargeJSONParser reads the stream up to this bound instead.
    parser_classes = [LargeJSONParser, MultiPartParser]

    @property
    def max_body_bytes(self) -> int:
        return settings.OCR_PREDICT_MAX_IMAGES * (settings.OCR_PREDICT_MAX_IMAGE_BYTES * 4 // 3 + 128) + 64 * 1024

    @extend_schema(
        request={"application/json": PredictJsonInput, "multipart/form-data": PredictMultipartInput},
        responses={
            200: PredictOutput,
            402: OpenApiResponse(description="insufficient_funds: deposit before more predictions"),
            403: OpenApiResponse(description="not_entitled, or rights_revoked (a data owner withdrew publish_trained_models)"),
            404: OpenApiResponse(description="no_promoted_model"),
            410: OpenApiResponse(description="model_retired (train_models withdrawn or deletion attested)"),
        },
    )
    def post(self, request):
        if request.content_type and request.content_type.startswith("multipart/"):
            files = request.FILES.getlist("images")
            fields = {key: request.data[key] for key in ("model", "version") if request.data.get(key)}
            data = PredictMultipartInput(data={**fields, "images": files})
            data.is_valid(raise_exception=True)
            images = [inference.checked_image(f.read(settings.OCR_PREDICT_MAX_IMAGE_BYTES + 1), i) for i, f in enumerate(files)]
        else:
            data = PredictJsonInput(data=request.data)
            data.is_valid(raise_exception=True)
            images = []
            for index, encoded in enumerate(data.validated_data["images"]):
                if encoded.startswith("data:"):
                    encoded = encoded.partition(",")[2]
                try:
                    raw = base64.b64decode(encoded, validate=True)
                except (binascii.Error, ValueError):
                    raise ApplicationError(f"Image {index} is not valid base64.", code=MlopsErrorCode.INVALID_IMAGE,
                                           fields={f"images[{index}]": ["Invalid base64."]}, status=400) from None
                images.append(inference.checked_image(raw, index))
        values = data.validated_data
        version, results = inference.ocr_predict(
            organization=client_organization(request), images=images, name=values.get("model") or None, version_id=values.get("version")
        )
        body = {"model": {"id": version.pk, "name": version.name, "version": version.version}, "predictions": results}
        return Response(PredictOutput(body).data)


class EntitledModelOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    version = serializers.IntegerField()
    promoted = serializers.BooleanField()
    metrics = serializers.DictField()
    created_at = serializers.DateTimeField()


class OcrModelListApi(APIView):
    """The model versions your organization may use (trained on its own data)."""

    permission_classes = [IsClient]

    @extend_schema(operation_id="v1_ocr_models_list", parameters=PAGE_PARAMETERS, responses=page_of(EntitledModelOutput, "EntitledModel"))
    def get(self, request):
        versions = inference.entitled_versions(client_organization(request)).order_by("name", "-version")
        return paginated(request, versions, EntitledModelOutput, view=self)


# --- Model cards and datasheets ---------------------------------------------------------------------


class CardAccess:
    """Members and stewards read every card; a client reads the cards of versions it may use and datasheets of its own data."""

    @staticmethod
    def check_version(request, version: ModelVersion) -> None:
        if getattr(request.user, "is_member", False):
            return
        organization = client_organization(request)
        if organization is None or not (inference.is_entitled(organization, version)
                                        or version.snapshot.sources.filter(organization=organization).exists()):
            raise ApplicationError("No such model version.", code=CoopErrorCode.NOT_FOUND, status=404)

    @staticmethod
    def check_snapshot(request, snapshot: DatasetSnapshot) -> None:
        if getattr(request.user, "is_member", False):
            return
        organization = client_organization(request)
        if organization is None or not snapshot.sources.filter(organization=organization).exists():
            raise ApplicationError("No such snapshot.", code=CoopErrorCode.NOT_FOUND, status=404)


def _card_response(request, card: dict, filename: str):
    from django.http import HttpResponse

    from . import cards

    if request.query_params.get("download") == "md":
        response = HttpResponse(cards.card_markdown(card), content_type="text/markdown; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    return Response(card)


class ModelCardApi(APIView):
    """A model version's card (JSON; `?download=md` for Markdown): intended use, data, raters, pay, metrics, contributors, summary."""

    permission_classes = []

    @extend_schema(responses={200: OpenApiResponse(description="the model card"), 404: OpenApiResponse(description="not_found")})
    def get(self, request, version_id: int):
        from . import cards

        if not request.user.is_authenticated and client_organization(request) is None:
            raise ApplicationError("Sign in or send a token.", code=CoopErrorCode.NOT_AUTHENTICATED, status=401)
        version = selectors.model_version_get(version_id)
        CardAccess.check_version(request, version)
        return _card_response(request, cards.model_card(version), f"model-card-{version.name}-v{version.version}.md")


class DatasheetApi(APIView):
    """A snapshot's datasheet (JSON; `?download=md` for Markdown)."""

    permission_classes = []

    @extend_schema(responses={200: OpenApiResponse(description="the datasheet"), 404: OpenApiResponse(description="not_found")})
    def get(self, request, snapshot_id: int):
        from . import cards

        if not request.user.is_authenticated and client_organization(request) is None:
            raise ApplicationError("Sign in or send a token.", code=CoopErrorCode.NOT_AUTHENTICATED, status=401)
        snapshot = selectors.snapshot_get(snapshot_id)
        CardAccess.check_snapshot(request, snapshot)
        return _card_response(request, cards.datasheet(snapshot), f"datasheet-snapshot-{snapshot.pk}.md")


# --- Usage and records -------------------------------------------------------------------------------


class UsageOutput(serializers.Serializer):
    day = serializers.DateField()
    model = serializers.CharField()
    version = serializers.IntegerField()
    model_version_id = serializers.IntegerField()
    predictions = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=4)
    currency = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=4, help_text="Billed, or owed while `billed` is false.")
    billed = serializers.BooleanField()
    dividends_funded = serializers.DecimalField(max_digits=14, decimal_places=4, help_text="The share paid to the workers.")


class OcrUsageApi(APIView):
    """Your organization's predictions per day and model version, what they cost and the data dividends they funded."""

    permission_classes = [IsClient]

    @extend_schema(responses=UsageOutput(many=True))
    def get(self, request):
        return Response(UsageOutput(selectors.client_usage(client_organization(request)), many=True).data)


class MyModelWorkOutput(serializers.Serializer):
    snapshot = serializers.IntegerField(source="snapshot.pk")
    snapshot_created_at = serializers.DateTimeField(source="snapshot.created_at")
    labels = serializers.IntegerField(help_text="Your accepted labels in it.")
    models = serializers.SerializerMethodField()

    def get_models(self, row) -> list[dict]:
        return [{"id": v.pk, "name": v.name, "version": v.version, "promoted": v.promoted, "retired": v.retired_at is not None}
                for v in row["versions"]]


class MyModelWorkApi(APIView):
    """The snapshots that included your labels and the models trained on them (your records)."""

    permission_classes = [IsMember]

    @extend_schema(responses=MyModelWorkOutput(many=True))
    def get(self, request):
        return Response(MyModelWorkOutput(selectors.work_used_by_models(request.user), many=True).data)
