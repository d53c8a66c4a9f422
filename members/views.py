"""Identity web views. Root domain: sign-up, verification, sign-in, the hand-off issuer.
Tenant hosts: the hand-off redeemer, sign-out, joining."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.errors import DomainError, add_error_details_to_form
from members import selectors, services
from members.forms import EmailPreferenceForm, ProfileForm, ResendVerificationForm, SignInForm, SignUpForm
from members.models import Member
from members.sessions import end_session, safe_next, start_session
from members.signup import run_signup_steps
from tenants.models import Tenant
from tenants.selectors import host_url, root_url, tenant_for_host

# --- root domain ----------------------------------------------------------------------------


def sign_up(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request, request.GET.get("next") or request.POST.get("next"), default="")
    tenant_slug = request.GET.get("tenant") or request.POST.get("tenant") or ""
    signup_tenant = Tenant.objects.partners().filter(slug=tenant_slug).first() if tenant_slug else None
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                member = services.register_member(**form.profile_data(), signup_tenant=signup_tenant, next_url=next_url)
                run_signup_steps(member=member, data=form.cleaned_data, channel="signup", tenant=signup_tenant)
        except DomainError as exc:
            add_error_details_to_form(form, exc)
        else:
            return render(request, "members/check_email.html", {"email": member.email})
    return render(request, "members/sign_up.html", {"form": form, "next": next_url, "signup_tenant": signup_tenant})


def verify(request: HttpRequest, token: str) -> HttpResponse:
    try:
        member, first_time = services.verify_email(token=token)
    except DomainError as exc:
        return render(request, "members/verify_failed.html", {"message": exc.message}, status=400)
    next_url = safe_next(request, request.GET.get("next"))
    if first_time:
        # Opening the link proves control of the address once; later clicks just ask to sign in.
        start_session(request, member)
        if not next_url.startswith("/auth/handoff/"):
            # A message stored here would surface on the root later, not on the partner's host.
            messages.success(request, "Your email is confirmed. Welcome to Kindred!")
        return redirect(next_url)
    messages.info(request, "Your email was already confirmed. Please sign in.")
    return redirect(f"/accounts/login/?{urlencode({'next': next_url})}")


def sign_in(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request, request.GET.get("next") or request.POST.get("next"))
    form = SignInForm(request.POST or None)
    unverified_email = ""
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        member = authenticate(request, username=email, password=form.cleaned_data["password"])
        if member is None:
            form.add_error(None, "That email and password do not match an account.")
        elif not isinstance(member, Member) or not member.email_verified:
            unverified_email = email
            form.add_error(None, "Please confirm your email address first: we sent you a link.")
        else:
            start_session(request, member)
            return redirect(next_url)
    return render(request, "members/sign_in.html", {"form": form, "next": next_url, "unverified": unverified_email})


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
    host = (request.GET.get("host") or request.POST.get("host") or "").lower()
    next_path = request.GET.get("next") or request.POST.get("next") or "/"
    if not next_path.startswith("/") or next_path.startswith("//"):
        next_path = "/"
    tenant = tenant_for_host(host=host)
    if tenant is None or tenant.schema_name == "public":
        raise Http404("Unknown community address.")
    if not request.user.is_authenticated:
        here = f"{request.path}?{urlencode({'host': host, 'next': next_path})}"
        return redirect(f"/accounts/login/?{urlencode({'next': here})}")
    member: Member = request.user
    already_member = selectors.membership_of(member=member, tenant=tenant) is not None
    if request.method != "POST" and not already_member and not member.is_superuser:
        # Telling a partner who you are is the member's decision: ask before the first visit.
        return render(request, "members/confirm_handoff.html", {"tenant": tenant, "host": host, "next": next_path})
    token = services.issue_handoff_token(member=member, host=host)
    target = host_url(
        host=host, request=request, path=f"/auth/handoff/complete/?{urlencode({'token': token, 'next': next_path})}"
    )
    return HttpResponseRedirect(target)


# --- tenant hosts ---------------------------------------------------------------------------


def tenant_sign_in(request: HttpRequest) -> HttpResponse:
    next_path = safe_next(request, request.GET.get("next"))
    query = urlencode({"host": request.get_host().split(":")[0], "next": next_path})
    return HttpResponseRedirect(root_url(request=request, path=f"/auth/handoff/?{query}"))


def tenant_sign_up(request: HttpRequest) -> HttpResponse:
    next_path = safe_next(request, request.GET.get("next"))
    handoff = f"/auth/handoff/?{urlencode({'host': request.get_host().split(':')[0], 'next': next_path})}"
    query = urlencode({"tenant": request.tenant.slug, "next": handoff})  # type: ignore[attr-defined]
    return HttpResponseRedirect(root_url(request=request, path=f"/accounts/signup/?{query}"))


def complete_handoff(request: HttpRequest) -> HttpResponse:
    try:
        member = services.redeem_handoff_token(
            token=request.GET.get("token", ""), host=request.get_host().split(":")[0]
        )
    except DomainError as exc:
        return render(request, "members/handoff_failed.html", {"message": exc.message}, status=400)
    start_session(request, member)
    return redirect(safe_next(request, request.GET.get("next")))


@require_POST
@login_required
def join(request: HttpRequest) -> HttpResponse:
    try:
        services.join_tenant(member=request.user, tenant=request.tenant)  # type: ignore[arg-type, attr-defined]
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Welcome to {request.tenant.name}!")  # type: ignore[attr-defined]
    return redirect(safe_next(request, request.POST.get("next")))


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    member: Member = request.user  # type: ignore[assignment]
    form = EmailPreferenceForm(request.POST or None, initial={"email_notifications": member.email_notifications})
    if request.method == "POST" and form.is_valid():
        services.update_profile(member=member, email_notifications=form.cleaned_data["email_notifications"])
        messages.success(request, "Your email preference is saved.")
        return redirect("/accounts/profile/")
    memberships = selectors.memberships_for(member=member)
    return render(request, "members/profile.html", {"memberships": memberships, "email_form": form})


@login_required
def profile_edit(request: HttpRequest) -> HttpResponse:
    """Everything a member says about themselves (conditions drive their feed and "Trials for you")."""
    member: Member = request.user  # type: ignore[assignment]
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
            return redirect("/accounts/profile/")
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


def tenant_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The link in an invitation email: sign up or sign in, then accept (POST) to get the invited role."""
    try:
        invitation = services.invitation_for_token(token=token)
    except DomainError as exc:
        return render(request, "members/invitation.html", {"error": exc.message}, status=400)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"/accounts/login/?{urlencode({'next': request.path})}")
        try:
            services.accept_tenant_invitation(token=token, member=request.user)
        except DomainError as exc:
            return render(request, "members/invitation.html", {"error": exc.message}, status=exc.http_status)
        messages.success(request, f"You are now {invitation.get_role_display().lower()} of {invitation.tenant.name}.")
        return redirect(host_url(host=invitation.tenant.primary_domain, request=request, path="/manage/"))
    return render(request, "members/invitation.html", {"invitation": invitation})
