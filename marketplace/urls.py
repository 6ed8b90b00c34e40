"""Portal routes of the marketplace."""

from django.urls import path

from . import views

app_name = "marketplace"
urlpatterns = [
    path("work/", views.feed, name="feed"),
    path("work/submissions/", views.submissions, name="submissions"),
    path("work/records/", views.records, name="records"),
    path("work/preferences/", views.preferences, name="preferences"),
    path("work/transparency/", views.transparency, name="transparency"),
    path("work/submissions/<int:pk>/appeal/", views.appeal, name="appeal"),
    path("work/projects/<int:pk>/", views.project_detail, name="project"),
    path("work/projects/<int:pk>/label/", views.label, name="label"),
    path("work/projects/<int:pk>/flag/", views.project_flag, name="flag"),
    path("work/clients/<int:organization_id>/rate/", views.client_rate, name="rate"),
    path("review/", views.review_queue, name="review"),
    path("review/answers/<int:pk>/<slug:action>/", views.review_action, name="review_action"),
]
