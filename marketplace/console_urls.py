"""Routes of the client console (/client/), included by marketplace/urls.py under the marketplace namespace."""

from django.urls import path

from . import console_views as views

urlpatterns = [
    path("client/", views.project_list, name="console"),
    path("client/projects/new/", views.project_new, name="console_project_new"),
    path("client/projects/<int:pk>/", views.project_detail, name="console_project"),
    path("client/projects/<int:pk>/edit/", views.project_edit, name="console_project_edit"),
    path("client/projects/<int:pk>/progress/", views.project_progress, name="console_progress"),
    path("client/projects/<int:pk>/import/", views.task_import, name="console_import"),
    path("client/projects/<int:pk>/gold/", views.gold_add, name="console_gold"),
    path("client/projects/<int:pk>/tasks/delete/", views.tasks_delete, name="console_tasks_delete"),
    path("client/projects/<int:pk>/tasks/<int:task_pk>/image/", views.task_image, name="console_task_image"),
    path("client/projects/<int:pk>/preview/", views.preview, name="console_preview"),
    path("client/projects/<int:pk>/results/", views.results_download, name="console_results"),
    path("client/projects/<int:pk>/datasheet/", views.datasheet, name="console_datasheet"),
    path("client/projects/<int:pk>/statement/", views.statement_download, name="console_statement"),
    path("client/projects/<int:pk>/webhooks/", views.webhooks, name="console_webhooks"),
    path("client/projects/<int:pk>/webhooks/rotate/", views.webhook_rotate, name="console_webhook_rotate"),
    path("client/projects/<int:pk>/webhooks/<int:delivery_pk>/resend/", views.webhook_resend, name="console_webhook_resend"),
    path("client/projects/<int:pk>/resume-vote/", views.resume_vote, name="console_resume_vote"),
    path("client/projects/<int:pk>/<slug:action>/", views.project_action, name="console_action"),
    path("client/money/", views.money, name="console_money"),
    path("client/agreements/", views.agreements, name="console_agreements"),
    path("client/agreements/contracts/<int:pk>/", views.contract_detail, name="console_contract"),
    path("client/agreements/dua/<int:pk>/", views.dua_detail, name="console_dua"),
]
