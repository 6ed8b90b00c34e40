"""Portal routes of the governance app (mounted at /)."""

from django.urls import path

from . import views

app_name = "governance"
urlpatterns = [
    path("governance/", views.proposal_list, name="proposal_list"),
    path("governance/proposals/new/", views.proposal_new, name="proposal_new"),
    path("governance/proposals/<int:pk>/", views.proposal_detail, name="proposal_detail"),
    path("governance/proposals/<int:pk>/vote/", views.proposal_vote, name="proposal_vote"),
    path("governance/proposals/<int:pk>/results/", views.proposal_results, name="proposal_results"),
    path("governance/proposals/<int:pk>/withdraw/", views.proposal_withdraw, name="proposal_withdraw"),
    path("governance/proposals/<int:pk>/cosponsor/", views.proposal_cosponsor, name="proposal_cosponsor"),
    path("governance/proposals/<int:pk>/comments/", views.comment_post, name="comment_post"),
    path("governance/proposals/<int:pk>/comments/<int:comment_pk>/edit/", views.comment_edit, name="comment_edit"),
    path("governance/proposals/<int:pk>/comments/<int:comment_pk>/hide/", views.comment_hide, name="comment_hide"),
    path("governance/proposals/<int:pk>/amendments/", views.amendment_propose, name="amendment_propose"),
    path("governance/proposals/<int:pk>/amendments/<int:amendment_pk>/", views.amendment_decide, name="amendment_decide"),
    path("governance/proposals/<int:pk>/outcome/", views.outcome_set, name="outcome_set"),
    path("governance/proxies/", views.proxies, name="proxies"),
    path("governance/proxies/<int:pk>/revoke/", views.proxy_revoke, name="proxy_revoke"),
    path("governance/members/<int:membership_pk>/interim/", views.interim_panel, name="interim_panel"),
    path("governance/members/<int:membership_pk>/interim/request/", views.interim_request, name="interim_request"),
    path("governance/interim/<int:pk>/<slug:action>/", views.interim_action, name="interim_action"),
    path("governance/contracts/", views.contract_list, name="contract_list"),
    path("governance/contracts/new/", views.contract_new, name="contract_new"),
    path("governance/contracts/<int:pk>/", views.contract_detail, name="contract_detail"),
    path("governance/contracts/<int:pk>/edit/", views.contract_edit, name="contract_edit"),
    path("governance/contracts/<int:pk>/<slug:action>/", views.contract_action, name="contract_action"),
    path("governance/contracts/<int:contract_pk>/dua/new/", views.dua_new, name="dua_new"),
    path("governance/dua/", views.dua_list, name="dua_list"),
    path("governance/dua/<int:pk>/", views.dua_detail, name="dua_detail"),
    path("governance/dua/<int:pk>/edit/", views.dua_edit, name="dua_edit"),
    path("governance/dua/<int:pk>/<slug:action>/", views.dua_action, name="dua_action"),
    path("governance/policies/", views.policies, name="policies"),
    path("governance/log/", views.log_list, name="log"),
    path("governance/log/export.<str:fmt>", views.log_export, name="log_export"),
    path("governance/appeals/new/", views.appeal_new, name="appeal_new"),
    path("governance/preferences/", views.preferences, name="preferences"),
]
