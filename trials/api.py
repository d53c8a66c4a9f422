"""Trials API v1 (root and every tenant host): search, detail, saved trials, alerts, notices.

Trial data is public: search and detail are open to anyone; saving, alerts and notices need a
signed-in member and only ever show that member's own rows.
"""

from __future__ import annotations

from typing import Any, cast

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import query_int
from core.errors import InvalidInput
from members.requests import request_member
from trials import selectors, services
from trials.geo import resolve_place
from trials.models import SavedTrial, Trial, TrialAlert, TrialNotice

# ---------------------------------------------------------------------------------------------
# Serializers
# ---------------------------------------------------------------------------------------------


class PlaceSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(source="label")
    lat = serializers.FloatField()
    lon = serializers.FloatField()


class TrialSummarySerializer(serializers.Serializer[Any]):
    nct_id = serializers.CharField(source="trial.nct_id")
    brief_title = serializers.CharField(source="trial.brief_title")
    overall_status = serializers.CharField(source="trial.overall_status")
    phases = serializers.ListField(child=serializers.CharField(), source="trial.phases")
    study_type = serializers.CharField(source="trial.study_type")
    conditions = serializers.ListField(child=serializers.CharField(), source="trial.conditions")
    lead_sponsor = serializers.CharField(source="trial.lead_sponsor")
    site_count = serializers.IntegerField(source="trial.site_count")
    last_update_posted = serializers.DateField(source="trial.last_update_posted")
    distance_miles = serializers.FloatField(allow_null=True)
    distance_km = serializers.FloatField(allow_null=True)
    eligibility_hint = serializers.ChoiceField(
        choices=[selectors.MAY_FIT, selectors.DOES_NOT_FIT, selectors.UNKNOWN], source="hint"
    )
    eligibility_reasons = serializers.ListField(child=serializers.CharField(), source="hint_reasons")
    url = serializers.SerializerMethodField()

    def get_url(self, hit: selectors.TrialHit) -> str:
        return hit.trial.ctgov_url


class TrialPageSerializer(serializers.Serializer[Any]):
    results = TrialSummarySerializer(many=True)
    has_more = serializers.BooleanField()
    offset = serializers.IntegerField()
    limit = serializers.IntegerField()
    place = PlaceSerializer(allow_null=True)


class SiteSerializer(serializers.Serializer[Any]):
    facility = serializers.CharField(source="site.facility")
    city = serializers.CharField(source="site.city")
    state = serializers.CharField(source="site.state")
    zip = serializers.CharField(source="site.zip")
    country = serializers.CharField(source="site.country")
    status = serializers.CharField(source="site.status")
    lat = serializers.FloatField(source="site.lat", allow_null=True)
    lon = serializers.FloatField(source="site.lon", allow_null=True)
    distance_miles = serializers.FloatField(allow_null=True)
    distance_km = serializers.FloatField(allow_null=True)


class ContactSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    role = serializers.CharField()
    phone = serializers.CharField()
    phoneExt = serializers.CharField()
    email = serializers.CharField()


class InterventionSerializer(serializers.Serializer[Any]):
    type = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()


class TrialDetailSerializer(serializers.ModelSerializer[Trial]):
    sites = serializers.SerializerMethodField()
    central_contacts = ContactSerializer(many=True)
    interventions = InterventionSerializer(many=True)
    url = serializers.CharField(source="ctgov_url", read_only=True)
    eligibility_hint = serializers.SerializerMethodField()
    eligibility_reasons = serializers.SerializerMethodField()
    saved = serializers.SerializerMethodField()

    class Meta:
        model = Trial
        fields = [
            "nct_id", "brief_title", "official_title", "brief_summary", "overall_status", "phases", "study_type",
            "conditions", "keywords", "mesh_terms", "interventions", "eligibility_criteria", "sex",
            "minimum_age_text", "maximum_age_text", "minimum_age_years", "maximum_age_years", "healthy_volunteers",
            "lead_sponsor", "start_date", "completion_date", "first_posted", "last_update_posted",
            "central_contacts", "site_count", "sites", "url", "eligibility_hint", "eligibility_reasons", "saved",
        ]  # fmt: skip

    @extend_schema_field(SiteSerializer(many=True))
    def get_sites(self, trial: Trial) -> list[dict[str, Any]]:
        rows = selectors.sites_by_distance(trial=trial, place=self.context.get("place"))
        return cast(list[dict[str, Any]], SiteSerializer(rows, many=True).data)

    @extend_schema_field(OpenApiTypes.STR)
    def get_eligibility_hint(self, trial: Trial) -> str:
        return selectors.eligibility_hint(trial=trial, member=self.context.get("member"))[0]

    def get_eligibility_reasons(self, trial: Trial) -> list[str]:
        return selectors.eligibility_hint(trial=trial, member=self.context.get("member"))[1]

    def get_saved(self, trial: Trial) -> bool:
        return trial.nct_id in selectors.saved_nct_ids(member=self.context.get("member"), nct_ids=[trial.nct_id])


class SavedTrialSerializer(serializers.ModelSerializer[SavedTrial]):
    nct_id = serializers.CharField(source="trial.nct_id")
    brief_title = serializers.CharField(source="trial.brief_title")
    overall_status = serializers.CharField(source="trial.overall_status")

    class Meta:
        model = SavedTrial
        fields = ["nct_id", "brief_title", "overall_status", "saved_at"]


class TrialAlertSerializer(serializers.ModelSerializer[TrialAlert]):
    class Meta:
        model = TrialAlert
        fields = ["active", "place", "lat", "lon", "distance_miles", "updated_at"]
        read_only_fields = ["lat", "lon", "updated_at"]


class TrialAlertInputSerializer(serializers.Serializer[Any]):
    place = serializers.CharField(max_length=200, help_text="A city, a postcode or 'latitude, longitude'.")
    distance_miles = serializers.IntegerField(min_value=1, max_value=services.MAX_ALERT_MILES)
    active = serializers.BooleanField(default=True)


class TrialNoticeSerializer(serializers.ModelSerializer[TrialNotice]):
    nct_id = serializers.CharField(source="trial.nct_id")

    class Meta:
        model = TrialNotice
        fields = ["id", "kind", "nct_id", "message", "created_at", "read_at"]


# ---------------------------------------------------------------------------------------------
# Views
# ---------------------------------------------------------------------------------------------

SEARCH_PARAMETERS = [
    OpenApiParameter("condition", str, description="Condition name, synonym, MeSH id or free text"),
    OpenApiParameter("condition_id", int, many=True, description="Taxonomy condition ids (with MeSH descendants)"),
    OpenApiParameter("q", str, description="Keywords in titles, summary, conditions and interventions"),
    OpenApiParameter(
        "status",
        str,
        many=True,
        description="Overall statuses, comma-separated; default RECRUITING,NOT_YET_RECRUITING; 'any' for all",
    ),
    OpenApiParameter("phase", str, many=True, description="EARLY_PHASE1, PHASE1 ... PHASE4, NA"),
    OpenApiParameter("study_type", str, many=True, description="INTERVENTIONAL, OBSERVATIONAL, EXPANDED_ACCESS"),
    OpenApiParameter("near", str, description="A place: city, US ZIP / UK postcode, or 'lat,lon'"),
    OpenApiParameter("lat", float),
    OpenApiParameter("lon", float),
    OpenApiParameter("within", float, description="Distance to the nearest site (in `unit`)"),
    OpenApiParameter("unit", str, enum=["mi", "km"]),
    OpenApiParameter(
        "limit", int, description=f"Results per page: 1 to {selectors.MAX_PAGE} (default {selectors.DEFAULT_PAGE})"
    ),
    OpenApiParameter("offset", int, description=f"Results to skip: 0 to {selectors.MAX_OFFSET} (default 0)"),
]


def _trial_or_404(nct_id: str) -> Trial:
    trial = selectors.get_trial(nct_id=nct_id)
    if trial is None:
        raise Http404("No such trial.")
    return trial


class TrialListView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="trials_search",
        parameters=SEARCH_PARAMETERS,
        responses=TrialPageSerializer,
        summary="Search clinical trials",
    )
    def get(self, request: Request) -> Response:
        member = request_member(request)
        query, errors = selectors.parse_trial_query(request.query_params, member=member)
        if errors:
            raise InvalidInput("The search is not valid.", details=errors)
        page = selectors.search_trials(
            query=query,
            member=member,
            limit=query_int(
                request.query_params, "limit", default=selectors.DEFAULT_PAGE, minimum=1, maximum=selectors.MAX_PAGE
            ),
            offset=query_int(request.query_params, "offset", default=0, minimum=0, maximum=selectors.MAX_OFFSET),
        )
        data = {
            "results": page.hits,
            "has_more": page.has_more,
            "offset": page.offset,
            "limit": page.limit,
            "place": query.place,
        }
        return Response(TrialPageSerializer(data).data)


class TrialDetailView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        parameters=[OpenApiParameter("near", str, description="Sort sites by distance from this place")],
        responses=TrialDetailSerializer,
        summary="One trial, its sites nearest first",
    )
    def get(self, request: Request, nct_id: str) -> Response:
        trial = _trial_or_404(nct_id)
        member = request_member(request)
        near = request.query_params.get("near", "")
        place = resolve_place(near) if near else selectors.member_place(member=member)
        context = {"place": place, "member": member}
        return Response(TrialDetailSerializer(trial, context=context).data)


class TrialSaveView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses={201: SavedTrialSerializer}, summary="Save a trial (follow its status)")
    def post(self, request: Request, nct_id: str) -> Response:
        saved = services.save_trial(member=request_member(request), nct_id=nct_id)
        return Response(SavedTrialSerializer(saved).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None}, summary="Stop following a trial")
    def delete(self, request: Request, nct_id: str) -> Response:
        services.unsave_trial(member=request_member(request), nct_id=nct_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SavedTrialsView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=SavedTrialSerializer(many=True), summary="My saved trials")
    def get(self, request: Request) -> Response:
        return Response(SavedTrialSerializer(selectors.saved_trials(member=request_member(request)), many=True).data)


class TrialAlertView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: TrialAlertSerializer, 404: None}, summary="My new-trial alert")
    def get(self, request: Request) -> Response:
        alert = selectors.alert_for(member=request_member(request))
        if alert is None:
            raise Http404("No alert set.")
        return Response(TrialAlertSerializer(alert).data)

    @extend_schema(request=TrialAlertInputSerializer, responses=TrialAlertSerializer, summary="Set my new-trial alert")
    def put(self, request: Request) -> Response:
        serializer = TrialAlertInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        alert = services.set_trial_alert(member=request_member(request), **serializer.validated_data)
        return Response(TrialAlertSerializer(alert).data)

    @extend_schema(request=None, responses={204: None}, summary="Remove my new-trial alert")
    def delete(self, request: Request) -> Response:
        services.delete_trial_alert(member=request_member(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TrialNoticesView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=TrialNoticeSerializer(many=True), summary="My trial notices (status changes, new trials)")
    def get(self, request: Request) -> Response:
        return Response(TrialNoticeSerializer(selectors.notices_for(member=request_member(request)), many=True).data)


class TrialNoticesReadView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT}, summary="Mark my trial notices read")
    def post(self, request: Request) -> Response:
        return Response({"marked": services.mark_notices_read(member=request_member(request))})
