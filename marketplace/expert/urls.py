"""Portal routes of expert work (included by marketplace/urls.py, namespace "marketplace")."""

from django.urls import path

from . import views

urlpatterns = [
    path("work/qualifications/", views.qualification_list, name="qualifications"),
    path("work/qualifications/export.json", views.export, name="qualifications_export"),
    path("work/qualifications/attempts/<int:pk>/", views.attempt_page, name="qualification_attempt"),
    path("work/qualifications/attempts/<int:pk>/items/<int:item_id>/image/", views.attempt_item_image, name="qualification_item_image"),
    path("work/qualifications/<slug:slug>/", views.qualification_detail, name="qualification"),
    path("work/qualifications/<slug:slug>/start/", views.attempt_start, name="qualification_start"),
    path("work/qualifications/<slug:slug>/nominate/", views.nominate, name="qualification_nominate"),
    path("work/rate-cards/propose/", views.rate_card_propose, name="rate_card_propose"),
    path("work/accuracy/", views.my_accuracy, name="accuracy"),
    path("work/accuracy/<int:project_id>/appeal/", views.accuracy_appeal, name="accuracy_appeal"),
    path("work/projects/<int:pk>/questions/", views.project_questions, name="project_questions"),
    path("work/payout-destination/", views.payout_destination, name="payout_destination"),
    path("client/questions/<int:pk>/", views.console_questions, name="console_questions"),
    path("client/qualifications/", views.console_qualifications, name="console_qualifications"),
]
