"""/api/v1/ routes of mlops."""

from django.urls import path

from . import apis

urlpatterns = [
    path("mlops/runs/", apis.TrainingRunListApi.as_view(), name="runs"),
    path("mlops/runs/<int:run_id>/", apis.TrainingRunDetailApi.as_view(), name="run"),
    path("mlops/runs/<int:run_id>/cancel/", apis.TrainingRunCancelApi.as_view(), name="run-cancel"),
    path("mlops/runs/<int:run_id>/resume/", apis.TrainingRunResumeApi.as_view(), name="run-resume"),
    path("mlops/models/", apis.ModelVersionListApi.as_view(), name="models"),
    path("mlops/models/<int:version_id>/promote/", apis.ModelVersionPromoteApi.as_view(), name="model-promote"),
    path("mlops/models/rollback/", apis.ModelRollbackApi.as_view(), name="model-rollback"),
    path("mlops/models/<int:version_id>/card/", apis.ModelCardApi.as_view(), name="model-card"),
    path("mlops/snapshots/<int:snapshot_id>/datasheet/", apis.DatasheetApi.as_view(), name="snapshot-datasheet"),
    path("ocr/predict/", apis.OcrPredictApi.as_view(), name="ocr-predict"),
    path("ocr/models/", apis.OcrModelListApi.as_view(), name="ocr-models"),
    path("ocr/usage/", apis.OcrUsageApi.as_view(), name="ocr-usage"),
    path("work/models/", apis.MyModelWorkApi.as_view(), name="my-model-work"),
]
