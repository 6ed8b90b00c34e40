"""Portal routes of the marketplace."""

from django.urls import path

from . import earnings_views, views
from .benefits.urls import urlpatterns as benefits_urlpatterns
from .console_urls import urlpatterns as console_urlpatterns
from .expert.urls import urlpatterns as expert_urlpatterns

app_name = "marketplace"
urlpatterns = [
    path("work/", views.feed, name="feed"),
    path("work/submissions/", views.submissions, name="submissions"),
    path("work/records/", views.records, name="records"),
    path("work/earnings/", earnings_views.earnings, name="earnings"),
    path("work/earnings/payouts/", earnings_views.payout_request, name="payout_request"),
    path("work/earnings/payouts/<int:pk>/cancel/", earnings_views.payout_cancel, name="payout_cancel"),
    path("stewards/payouts/", earnings_views.steward_payouts, name="steward_payouts"),
    path("stewards/payouts/deposit/", earnings_views.steward_deposit, name="steward_deposit"),
    path("stewards/payouts/<int:pk>/paid/", earnings_views.steward_payout_paid, name="steward_payout_paid"),
    path("stewards/payouts/<int:pk>/cancel/", earnings_views.steward_payout_cancel, name="steward_payout_cancel"),
    path("work/preferences/", views.preferences, name="preferences"),
    path("work/transparency/", views.transparency, name="transparency"),
    path("work/submissions/<int:pk>/appeal/", views.appeal, name="appeal"),
    path("work/projects/<int:pk>/", views.project_detail, name="project"),
    path("work/projects/<int:pk>/label/", views.label, name="label"),
    path("work/projects/<int:pk>/flag/", views.project_flag, name="flag"),
    path("work/clients/<int:organization_id>/rate/", views.client_rate, name="rate"),
    path("review/", views.review_queue, name="review"),
    path("review/tasks/<int:pk>/image/", views.review_task_image, name="review_task_image"),
    path("review/answers/<int:pk>/<slug:action>/", views.review_action, name="review_action"),
    *console_urlpatterns,
    *expert_urlpatterns,
    *benefits_urlpatterns,
]
