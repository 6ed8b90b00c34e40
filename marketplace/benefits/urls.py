"""Portal and /api/v1/ routes of the benefits fund (spliced into marketplace/urls.py and marketplace/api_urls.py)."""

from django.urls import path

from . import apis, views

urlpatterns = [
    path("work/benefits/", views.benefits, name="benefits"),
    path("work/benefits/fund/", views.fund, name="benefits_fund"),
    path("work/benefits/record/", views.record, name="benefits_record"),
    path("work/benefits/claims/<int:pk>/", views.claim_detail, name="benefit_claim"),
    path("work/benefits/claims/<int:pk>/evidence/", views.claim_evidence, name="benefit_claim_evidence"),
    path("stewards/benefits/", views.steward_benefits, name="steward_benefits"),
    path("stewards/benefits/pay/", views.steward_pay_queue, name="steward_benefits_pay"),
]

api_urlpatterns = [
    path("benefits/fund/", apis.BenefitsFundApi.as_view(), name="benefits-fund"),
    path("work/benefits/claims/", apis.MyClaimsApi.as_view(), name="work-benefit-claims"),
    path("work/benefits/record/", apis.MyBenefitsRecordApi.as_view(), name="work-benefits-record"),
]
