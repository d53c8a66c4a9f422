"""Identity web views. Root domain: sign-up, verification, sign-in, the hand-off issuer.
Tenant hosts: the hand-off redeemer, sign-out, joining."""

from __future__ import annotations

from typing import Any

from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.recovery_codes import views as allauth_recovery_views
from allauth.mfa.totp import views as allauth_totp_views
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import DomainError
from core.forms import add_error_details_to_form
from members import selectors, services
from members.forms import EmailChangeForm, EmailPreferenceForm, ProfileForm, ResendVerificationForm, SignUpForm
from members.mfa import MFA_SESSION_KEY, member_has_mfa, session_passed_mfa
from members.middleware import request_host
from members.models import Member
from members.requests import request_member
from members.sessions import end_session, safe_next, start_session
from tenants.requests import request_tenant
from tenants.selectors import host_url, platform_ports, root_path, root_url, served_partner_domain, tenant_path

# --- root domain ----------------------------------------------------------------------------


def _sign_in_first(next_url: str) -> HttpResponse:
    return redirect(f"{reverse('account_login')}?{urlencode({'next': next_url})}")


def sign_up(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request, request.GET.get("next") or request.POST.get("next"), default="")
    signup_tenant = selectors.signup_partner(slug=request.GET.get("tenant") or request.POST.get("tenant") or "")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.sign_up(
                **form.profile_data(),
                signup_tenant=signup_tenant,
                next_url=next_url,
                step_data=form.step_data(),
                channel="signup",
            )
        except DomainError as exc:
            add_error_details_to_form(form, exc)
        else:
            # The same page whether or not the address already had an account (its owner got an email).
            email = form.cleaned_data["email"].strip().lower()
            return render(request, "members/check_email.html", {"email": email})
    return render(request, "members/sign_up.html", {"form": form, "next": next_url, "signup_tenant": signup_tenant})


def verify(request: HttpRequest, token: str) -> HttpResponse:
    try:
        member, first_time = services.verify_email(token=token)
    except DomainError as exc:
        return render(request, "members/verify_failed.html", {"message": exc.message}, status=400)
    next_url = safe_next(request, request.GET.get("next"))
    current = request.user
    if current.is_authenticated and current.pk != member.pk:
        # Someone else is signed in here: a link sent by another person must never switch this
        # browser to their account (login CSRF). The address is confirmed; the session stays.
        return render(request, "members/verified_other_account.html", {"email": member.email, "first": first_time})
    if current.is_authenticated:
        return redirect(next_url)
    if first_time:
        # Opening the link proves control of the address once; later clicks just ask to sign in.
        start_session(request, member)
        if not next_url.startswith(reverse("issue-handoff")):
            # A message stored here would surface on the root later, not on the partner's host.
            messages.success(request, "Your email is confirmed. Welcome to Kindred!")
        return redirect(next_url)
    messages.info(request, "Your email was already confirmed. Please sign in.")
    return _sign_in_first(next_url)


def root_sign_in(request: HttpRequest) -> HttpResponse:
    """The root's LOGIN_URL and Django admin's login: both are the one sign-in page (allauth's)."""
    admin_home = reverse("admin:index")
    default = admin_home if request.path.startswith(admin_home) else "/"
    next_url = safe_next(request, request.GET.get("next"), default=default)
    return _sign_in_first(next_url)


@require_POST
def resend_verification(request: HttpRequest) -> HttpResponse:
    form = ResendVerificationForm(request.POST)
    if form.is_valid():
        services.resend_verification_email(email=form.cleaned_data["email"])
    return render(request, "members/check_email.html", {"email": form.data.get("email", "")})


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    """Works on every host: ends this session and, through the generation, all the others."""
    if request.user.is_authenticated:
        services.sign_out_everywhere(member=request.user)
    end_session(request)
    messages.info(request, "You are signed out everywhere.")
    return redirect("/")


def issue_handoff(request: HttpRequest) -> HttpResponse:
    """Root domain: send the signed-in member back to a tenant host with a one-time token."""
    raw_host = request.GET.get("host") or request.POST.get("host") or ""
    next_path = request.GET.get("next") or request.POST.get("next") or "/"
    if not next_path.startswith("/") or next_path.startswith("//") or "\\" in next_path:
        next_path = "/"
    # Exactly a partner's Domain row, checked before anything else: the redirect below is built
    # from that row, never from the text the visitor sent.
    domain = served_partner_domain(host=raw_host, platform_ports=platform_ports(request))
    if domain is None:
        raise Http404("Unknown community address.")
    host, tenant = domain.domain, domain.tenant
    if not request.user.is_authenticated:
        here = f"{request.path}?{urlencode({'host': host, 'next': next_path})}"
        return _sign_in_first(here)
    member: Member = request.user
    already_member = selectors.membership_of(member=member, tenant=tenant) is not None
    if request.method != "POST" and not already_member and not member.is_superuser:
        # Telling a partner who you are is the member's decision: ask before the first visit.
        return render(request, "members/confirm_handoff.html", {"tenant": tenant, "host": host, "next": next_path})
    token = services.issue_handoff_token(member=member, host=host, mfa=session_passed_mfa(request))
    target = host_url(
        host=host,
        request=request,
        path=f"{tenant_path('complete-handoff')}?{urlencode({'token': token, 'next': next_path})}",
    )
    return HttpResponseRedirect(target)


# --- tenant hosts ---------------------------------------------------------------------------


def _sign_in_through_root(request: HttpRequest, next_path: str) -> HttpResponse:
    query = urlencode({"host": request_host(request), "next": next_path})
    return HttpResponseRedirect(root_url(request=request, path=f"{root_path('issue-handoff')}?{query}"))


def tenant_sign_in(request: HttpRequest) -> HttpResponse:
    return _sign_in_through_root(request, safe_next(request, request.GET.get("next")))


def password_on_root_only(request: HttpRequest, default_next: str = "/") -> HttpResponse:
    """Stands in for every password form a library offers on a partner host (Wagtail's admin
    sign-in and reset, Wagtail's front-end sign-in): a partner host never reads a password, so
    nothing here can take one or tell a right one from a wrong one. Any method, any body: the
    visitor goes to the root's sign-in and comes back through the hand-off."""
    return _sign_in_through_root(request, safe_next(request, request.GET.get("next"), default=default_next))


def tenant_sign_up(request: HttpRequest) -> HttpResponse:
    next_path = safe_next(request, request.GET.get("next"))
    handoff = f"{root_path('issue-handoff')}?{urlencode({'host': request.get_host().split(':')[0], 'next': next_path})}"
    query = urlencode({"tenant": request_tenant(request).slug, "next": handoff})
    return HttpResponseRedirect(root_url(request=request, path=f"{root_path('sign-up')}?{query}"))


@require_http_methods(["GET", "POST"])
def complete_handoff(request: HttpRequest) -> HttpResponse:
    """Open this host's session from a hand-off token.

    A link is followed silently only when nobody, or the same member, is signed in here. If someone
    else is, a link another person sent must not swap accounts behind their back (login CSRF): they
    are asked, and only their POST of the confirmation form (CSRF-checked) switches.
    """
    data = request.POST if request.method == "POST" else request.GET
    token, next_path = data.get("token", ""), safe_next(request, data.get("next"))
    host = request_host(request)
    current = request.user
    try:
        if request.method == "GET" and current.is_authenticated:
            incoming = services.peek_handoff_token(token=token, host=host)
            if incoming.pk != current.pk:
                return render(request, "members/confirm_switch_account.html", {"token": token, "next": next_path})
        member = services.redeem_handoff_token(token=token, host=host)
    except DomainError as exc:
        return render(request, "members/handoff_failed.html", {"message": exc.message}, status=400)
    start_session(request, member)
    request.session[MFA_SESSION_KEY] = services.handoff_passed_mfa(token=token)
    return redirect(next_path)


@require_POST
@login_required
def join(request: HttpRequest) -> HttpResponse:
    try:
        services.join_tenant(member=request_member(request), tenant=request_tenant(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Welcome to {request_tenant(request).name}!")
    return redirect(safe_next(request, request.POST.get("next")))


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    member = request_member(request)
    form = EmailPreferenceForm(request.POST or None, initial={"email_notifications": member.email_notifications})
    if request.method == "POST" and form.is_valid():
        services.update_profile(member=member, email_notifications=form.cleaned_data["email_notifications"])
        messages.success(request, "Your email preference is saved.")
        return redirect("profile")
    memberships = selectors.memberships_for(member=member)
    context = {"memberships": memberships, "email_form": form, "has_mfa": member_has_mfa(member)}
    return render(request, "members/profile.html", context)


@login_required
def profile_edit(request: HttpRequest) -> HttpResponse:
    """Everything a member says about themselves (conditions drive their feed and "Trials for you")."""
    member = request_member(request)
    initial = {
        "display_name": member.display_name,
        "role": member.role,
        "condition_ids": list(member.conditions.values_list("pk", flat=True)),
        "birth_year": member.birth_year,
        "sex": member.sex,
        "country": str(member.country or ""),
        "region": member.region,
    }
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_profile(member=member, **form.cleaned_data)
        except DomainError as exc:
            add_error_details_to_form(form, exc)
        else:
            messages.success(request, "Your profile is saved.")
            return redirect("profile")
    return render(request, "members/profile_edit.html", {"form": form})


@csrf_exempt  # mail clients' one-click unsubscribe (RFC 8058) POSTs without a CSRF token; the signed token authorizes
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks (link scanners must not unsubscribe anyone); POST stops every notification email."""
    try:
        if request.method == "POST":
            member = services.unsubscribe_from_emails(token=token)
            return render(request, "members/unsubscribed.html", {"member": member, "done": True})
        member = services.member_for_unsubscribe_token(token=token)
    except DomainError as exc:
        return render(request, "members/verify_failed.html", {"message": exc.message}, status=400)
    return render(request, "members/unsubscribed.html", {"member": member, "done": False})


# --- account security (root domain) -----------------------------------------------------------


def mfa_gate(request: HttpRequest) -> HttpResponse:
    """Where privileged areas send a session that has not passed two-factor: sign in, enrol on first
    use, confirm a code, then go on (to the partner host through a hand-off that carries it)."""
    host = (request.GET.get("host") or "").lower()
    next_path = request.GET.get("next") or "/"
    if not next_path.startswith("/") or next_path.startswith("//"):
        next_path = "/"
    here = request.get_full_path()
    if not request.user.is_authenticated:
        return _sign_in_first(here)
    if not member_has_mfa(request.user):
        return redirect(f"{reverse('mfa_activate_totp')}?{urlencode({'next': here})}")
    if not session_passed_mfa(request):
        return redirect(f"{reverse('mfa_reauthenticate')}?{urlencode({'next': here})}")
    if host:
        return redirect(f"{reverse('issue-handoff')}?{urlencode({'host': host, 'next': next_path})}")
    return redirect(next_path)


class ActivateTOTPView(allauth_totp_views.ActivateTOTPView):
    """allauth's enrolment, remembering where the member was going. Entering a valid code proves the
    second factor, so this session counts as having passed it."""

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        record_authentication(self.request, self.request.user, "mfa", type="totp")
        return response

    def get_success_url(self) -> str:
        url = super().get_success_url()
        next_url = safe_next(self.request, self.request.GET.get("next"), default="")
        return f"{url}?{urlencode({'next': next_url})}" if next_url else url


class RecoveryCodesView(allauth_recovery_views.ViewRecoveryCodesView):
    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["next_url"] = safe_next(self.request, self.request.GET.get("next"), default="")
        return context


@login_required
def email_change(request: HttpRequest) -> HttpResponse:
    member = request_member(request)
    form = EmailChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.request_email_change(
                member=member, new_email=form.cleaned_data["new_email"], password=form.cleaned_data["password"]
            )
        except DomainError as exc:
            add_error_details_to_form(form, exc)
        else:
            new_email = form.cleaned_data["new_email"].strip().lower()
            return render(request, "members/email_change_sent.html", {"new_email": new_email})
    return render(request, "members/email_change.html", {"form": form})


def email_change_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks (mail scanners open links); POST switches the address. Signs no one in or out."""
    if request.method != "POST":
        return render(request, "members/email_change_confirm.html", {"token": token})
    try:
        member = services.confirm_email_change(token=token)
    except DomainError as exc:
        return render(request, "members/verify_failed.html", {"message": exc.message, "no_resend": True}, status=400)
    return render(request, "members/email_change_done.html", {"email": member.email})


def tenant_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The link in an invitation email: sign up or sign in, then accept (POST) to get the invited role."""
    try:
        invitation = services.invitation_for_token(token=token)
    except DomainError as exc:
        return render(request, "members/invitation.html", {"error": exc.message}, status=400)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return _sign_in_first(request.path)
        try:
            services.accept_tenant_invitation(token=token, member=request.user)
        except DomainError as exc:
            return render(request, "members/invitation.html", {"error": exc.message}, status=exc.http_status)
        messages.success(request, f"You are now {invitation.get_role_display().lower()} of {invitation.tenant.name}.")
        return redirect(
            host_url(host=invitation.tenant.primary_domain, request=request, path=tenant_path("manage-dashboard"))
        )
    return render(request, "members/invitation.html", {"invitation": invitation})
