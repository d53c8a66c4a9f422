from django.urls import path

from partnerships import api

urlpatterns = [
    path("agreements/", api.AgreementListView.as_view(), name="api-agreements"),
    path("agreements/<uuid:public_id>/", api.AgreementDetailView.as_view(), name="api-agreement"),
    path(
        "agreements/<uuid:public_id>/recipients/",
        api.AgreementRecipientsView.as_view(),
        name="api-agreement-recipients",
    ),
    path("agreements/<uuid:public_id>/<slug:action>/", api.AgreementActionView.as_view(), name="api-agreement-action"),
    path("studies/", api.StudyListView.as_view(), name="api-studies"),
    path("studies/<uuid:public_id>/decide/", api.StudyDecisionView.as_view(), name="api-study-decide"),
    path("tenants/<slug:slug>/publish/", api.TenantPublishView.as_view(), name="api-tenant-publish"),
]
