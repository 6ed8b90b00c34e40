"""Portal routes of mlops."""

from django.urls import path

from . import console_views, views

app_name = "mlops"
urlpatterns = [
    path("mlops/models/", views.models, name="models"),
    path("mlops/models/<int:pk>/", views.model_detail, name="model"),
    path("mlops/models/<int:pk>/promote/", views.model_promote, name="model_promote"),
    path("mlops/models/<int:pk>/card/", views.model_card, name="model_card"),
    path("mlops/snapshots/<int:pk>/datasheet/", views.snapshot_datasheet, name="snapshot_datasheet"),
    path("mlops/credit/", views.credit_preference, name="credit"),
    path("mlops/models/rollback/", views.model_rollback, name="model_rollback"),
    path("mlops/runs/", views.runs, name="runs"),
    path("mlops/runs/<int:pk>/", views.run_detail, name="run"),
    path("mlops/runs/<int:pk>/cancel/", views.run_cancel, name="run_cancel"),
    path("mlops/runs/<int:pk>/resume/", views.run_resume, name="run_resume"),
    path("mlops/snapshots/", views.snapshots, name="snapshots"),
    path("mlops/snapshots/<int:pk>/", views.snapshot_detail, name="snapshot"),
    path("client/models/", console_views.client_models, name="console_models"),
]
