"""API v1 on every tenant host."""

from django.urls import path

from communities.api import CommunityDetailView, CommunityListView
from members.api import MeView, MyMembershipView, TenantMemberRoleView, TenantMembersView

urlpatterns = [
    path("me/", MeView.as_view(), name="api-me"),
    path("membership/", MyMembershipView.as_view(), name="api-membership"),
    path("members/", TenantMembersView.as_view(), name="api-tenant-members"),
    path("members/<uuid:public_id>/role/", TenantMemberRoleView.as_view(), name="api-tenant-member-role"),
    path("communities/", CommunityListView.as_view(), name="api-communities"),
    path("communities/<slug:slug>/", CommunityDetailView.as_view(), name="api-community"),
]
