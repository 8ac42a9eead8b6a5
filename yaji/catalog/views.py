"""Shop pages: onboarding, review, the public shop and creator pages, staff management.

Each view validates a form, calls one catalog service or selector, and renders; the rules live
in ``yaji.catalog.services``. Whatever a user may not see is a 404, never a hint.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yaji.accounts.auth import request_ip
from yaji.accounts.selectors import kyc_status
from yaji.catalog import selectors, services
from yaji.catalog.forms import CreatorProfileForm, MemberAddForm, RejectForm, ShopApplyForm
from yaji.catalog.models import ShopApplication, ShopType
from yaji.catalog.permissions import is_shop_reviewer, shop_can_manage, shop_role_of
from yaji.catalog.uploads import private_storage
from yaji.core.errors import ApplicationError, NotFound, PermissionDenied

# --- public ----------------------------------------------------------------------------------


@require_GET
def shop_list(request: HttpRequest) -> HttpResponse:
    shop_type = request.GET.get("type") or None
    if shop_type not in ShopType.values:
        shop_type = None
    try:
        page = selectors.shops_active(
            cursor=request.GET.get("cursor") or None, limit=24, shop_type=shop_type
        )
    except ApplicationError as exc:
        raise Http404() from exc
    context = {"page": page, "shop_types": ShopType.choices, "current_type": shop_type}
    return render(request, "catalog/shop_list.html", context)


@require_GET
def shop_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        shop = selectors.shop_get_public(slug=slug)
    except NotFound as exc:
        raise Http404() from exc
    context = {
        "shop": shop,
        "can_manage": shop_can_manage(request.user, shop),
        "owner_profile": selectors.creator_profile_get(user=shop.owner),
    }
    return render(request, "catalog/shop_detail.html", context)


@require_GET
def creator_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    try:
        creator = selectors.creator_get(user_id=user_id)
    except NotFound as exc:
        raise Http404() from exc
    context = {"creator": creator, "is_me": request.user.pk == creator.user.pk}
    return render(request, "catalog/creator_detail.html", context)


# --- onboarding ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def shop_apply(request: HttpRequest) -> HttpResponse:
    latest = selectors.application_latest(user=request.user)
    if latest is not None and latest.status == ShopApplication.Status.SUBMITTED:
        return redirect("catalog:my_shops")
    verified = kyc_status(user=request.user).status == "verified"
    initial = {}
    if latest is not None and latest.status == ShopApplication.Status.REJECTED:
        # A resubmission starts from what was sent last time.
        initial = {
            field: getattr(latest, field)
            for field in (
                "name_zh",
                "name_en",
                "slug",
                "shop_type",
                "region",
                "story_zh",
                "story_en",
            )
        }
    form = ShopApplyForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.shop_application_submit(
                applicant=request.user,
                name_zh=data["name_zh"],
                name_en=data["name_en"],
                slug=data["slug"],
                shop_type=data["shop_type"],
                region=data["region"],
                story_zh=data["story_zh"],
                story_en=data["story_en"],
                logo=data["logo"] or None,
                documents=data["documents"],
                ip=request_ip(request),
            )
        except ApplicationError as exc:
            form.add_application_error(exc)
        else:
            messages.success(request, _("开店申请已提交，审核结果会显示在这里。"))
            return redirect("catalog:my_shops")
    context = {"form": form, "verified": verified, "latest": latest}
    return render(request, "catalog/apply.html", context)


@login_required
@require_GET
def my_shops(request: HttpRequest) -> HttpResponse:
    context = {
        "applications": list(selectors.applications_mine(user=request.user)[:10]),
        "memberships": selectors.shops_of_user(user=request.user),
    }
    return render(request, "catalog/my_shops.html", context)


@login_required
@require_GET
def document_download(request: HttpRequest, document_id: int) -> FileResponse:
    try:
        document = selectors.document_get_for_download(user=request.user, document_id=document_id)
    except NotFound as exc:
        raise Http404() from exc
    try:
        handle = private_storage.open(document.file.name, "rb")
    except FileNotFoundError as exc:
        raise Http404() from exc
    response = FileResponse(
        handle,
        content_type=document.content_type,  # what the bytes proved at upload, not the client
        # Browsers refuse to render a PDF under the sandbox policy below, so PDFs download.
        as_attachment=document.content_type == "application/pdf" or "download" in request.GET,
        filename=document.original_name,
    )
    response["Cache-Control"] = "private, no-store"
    # An uploaded file never runs script in our origin, even if a viewer is fooled.
    response["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    )
    return response


# --- review ----------------------------------------------------------------------------------


def _reviewer_or_404(request: HttpRequest) -> None:
    if not is_shop_reviewer(request.user):
        raise Http404()


@login_required
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    _reviewer_or_404(request)
    queue = selectors.applications_queue(reviewer=request.user)
    return render(request, "catalog/review_queue.html", {"queue": queue})


@login_required
@require_http_methods(["GET", "POST"])
def review_decide(request: HttpRequest, application_id: int) -> HttpResponse:
    _reviewer_or_404(request)
    try:
        application = selectors.application_get_for_review(
            reviewer=request.user, application_id=application_id
        )
    except (NotFound, PermissionDenied) as exc:
        raise Http404() from exc
    reject_form = RejectForm(request.POST if request.POST.get("decision") == "reject" else None)
    error = ""
    if request.method == "POST":
        try:
            if request.POST.get("decision") == "approve":
                shop = services.shop_application_approve(
                    reviewer=request.user, application_id=application.pk, ip=request_ip(request)
                )
                messages.success(
                    request,
                    _("已通过「%(name)s」的开店申请，店铺已开张。") % {"name": shop.name_zh},
                )
                return redirect("catalog:review_queue")
            if reject_form.is_valid():
                services.shop_application_reject(
                    reviewer=request.user,
                    application_id=application.pk,
                    reason=reject_form.cleaned_data["reason"],
                    ip=request_ip(request),
                )
                messages.success(
                    request, _("已驳回「%(name)s」的开店申请。") % {"name": application.name_zh}
                )
                return redirect("catalog:review_queue")
        except ApplicationError as exc:
            error = str(exc.message)
    context = {"application": application, "reject_form": reject_form, "error": error}
    return render(request, "catalog/review_decide.html", context)


# --- staff -----------------------------------------------------------------------------------


def _managed_shop_or_404(request: HttpRequest, slug: str):  # type: ignore[no-untyped-def]
    try:
        return selectors.shop_get_managed(user=request.user, slug=slug)
    except NotFound as exc:
        raise Http404() from exc


@login_required
@require_http_methods(["GET", "POST"])
def shop_staff(request: HttpRequest, slug: str) -> HttpResponse:
    shop = _managed_shop_or_404(request, slug)
    form = MemberAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.shop_member_add(
                actor=request.user,
                shop=shop,
                identifier=form.cleaned_data["identifier"],
                role=form.cleaned_data["role"],
                ip=request_ip(request),
            )
        except ApplicationError as exc:
            form.add_application_error(exc)
        else:
            messages.success(request, _("已添加 %(name)s。") % {"name": membership.user})
            return redirect("catalog:shop_staff", slug=shop.slug)
    context = {
        "shop": shop,
        "members": selectors.shop_members(shop=shop),
        "my_role": shop_role_of(request.user, shop),
        "form": form,
    }
    return render(request, "catalog/shop_staff.html", context)


@login_required
@require_POST
def shop_staff_remove(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    shop = _managed_shop_or_404(request, slug)
    try:
        services.shop_member_remove(
            actor=request.user, shop=shop, membership_id=membership_id, ip=request_ip(request)
        )
    except NotFound as exc:
        raise Http404() from exc
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
        return redirect("catalog:shop_staff", slug=shop.slug)
    if request.htmx:  # type: ignore[attr-defined]  # django-htmx middleware
        return HttpResponse("")
    messages.success(request, _("已移除该成员，其店铺权限同时收回。"))
    return redirect("catalog:shop_staff", slug=shop.slug)


# --- creator profile -------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def creator_profile_edit(request: HttpRequest) -> HttpResponse:
    profile = selectors.creator_profile_get(user=request.user)
    initial = {"bio": profile.bio, "bio_en": profile.bio_en} if profile else {}
    form = CreatorProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.creator_profile_update(
            user=request.user, bio=form.cleaned_data["bio"], bio_en=form.cleaned_data["bio_en"]
        )
        messages.success(request, _("创作者简介已保存。"))
        return redirect("catalog:creator_profile_edit")
    return render(request, "catalog/creator_edit.html", {"form": form})
