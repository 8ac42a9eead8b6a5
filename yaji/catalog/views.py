"""Shop and product pages: onboarding, review, the public shop, creator and product pages,
staff management, the product editor and the product review queue.

Each view validates a form, calls one catalog service or selector, and renders; the rules live
in ``yaji.catalog.services``. Whatever a user may not see is a 404, never a hint.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yaji.accounts.auth import request_ip
from yaji.accounts.selectors import kyc_status
from yaji.catalog import selectors, services
from yaji.catalog.forms import (
    BundleItemForm,
    CreatorProfileForm,
    CustomisationForm,
    DigitalFileForm,
    MemberAddForm,
    Model3DForm,
    ProductForm,
    ProductImageForm,
    RejectForm,
    ShopApplyForm,
    VariantForm,
    VideoForm,
)
from yaji.catalog.fragments import product_page_html
from yaji.catalog.models import (
    Product,
    ProductImage,
    ProductModel3D,
    ProductVideo,
    Shop,
    ShopApplication,
    ShopType,
)
from yaji.catalog.page_cache import (
    CATALOG,
    LISTS,
    page_serve,
    product_stamp,
    product_version_name,
)
from yaji.catalog.permissions import is_shop_reviewer, shop_can_manage, shop_role_of
from yaji.catalog.presenters import IMAGE_SIZES, bundle_dict, product_media_url, product_one
from yaji.catalog.product_page import product_page_rows
from yaji.catalog.uploads import private_storage
from yaji.core.errors import ApplicationError, NotFound, PermissionDenied
from yaji.search.fragments import browse_controls_html
from yaji.search.selectors import FACETS, SORTS, SearchParams, SearchResult, search_run
from yaji.trade import reviews as trade_reviews

# Facets a category page offers (the category itself is the page; sub-categories are links).
BROWSE_FACETS = tuple(name for name in FACETS if name != "category")
BROWSE_PAGE_SIZE = 24

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
        "products": selectors.products_listed(shop_slug=shop.slug, limit=48).items,
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


# --- products: public ------------------------------------------------------------------------


def _viewable_product_or_404(request: HttpRequest, product_id: int) -> Product:
    try:
        return selectors.product_get_viewable(user=request.user, product_id=product_id)
    except (NotFound, PermissionDenied) as exc:
        raise Http404() from exc


MAX_ID = 2**63 - 1


@require_GET
def product_detail(request: HttpRequest, product_id: int) -> HttpResponse:
    if not 0 < product_id <= MAX_ID:
        raise Http404()
    versions = [CATALOG, product_version_name(product_id)]
    return page_serve(
        request,
        page="product",
        versions=versions,
        stamp_read=lambda: product_stamp(product_id, versions),
        build=lambda extra: _product_detail(request, product_id, extra),
    )


def _product_detail(request: HttpRequest, product_id: int, extra: dict[str, Any]) -> HttpResponse:
    rows = product_page_rows(product_id=product_id)
    if rows is None:  # not listed: a preview for the shop and reviewers, or a 404
        return _product_preview(request, product_id, extra)
    reviews, rating = trade_reviews.product_reviews_rated(product_id=product_id)
    # One token for the whole page (the header's forms and the buy box), as the template has.
    csrf_token = extra.get("csrf_token") or get_token(request)
    blocks = product_page_html(
        rows,
        reviews=reviews,
        rating=rating,
        csrf_token=csrf_token,
        path=request.get_full_path(),
    )
    context = {"page": blocks, **extra, "csrf_token": csrf_token}
    return render(request, "catalog/product_page.html", context)


def product_detail_context(product: Product) -> dict[str, Any]:
    """The context of ``product_detail.html`` (the reference of ``fragments.py``)."""
    images = list(product.images.all())
    variants = list(product.variants.all())
    video = product_one(product, "video")
    model_3d = product_one(product, "model_3d")
    return {
        "product": product,
        "shop": product.shop,
        "images": images,
        "variants": variants,
        "video": video,
        "video_url": product_media_url(video) if video else "",
        "model_3d": model_3d,
        "model_3d_url": product_media_url(model_3d) if model_3d else "",
        "bundle": bundle_dict(product),
        "availability": selectors.product_availability(product=product),
        "price_from": min((v.price_fen for v in variants), default=None),
        "options": list(product.customisation_options.all()),
        "attributes": list(product.attributes.all()),
        "tags": list(product.tags.all()),
        "is_preview": product.status != Product.Status.LISTED,
    }


def _product_preview(request: HttpRequest, product_id: int, extra: dict[str, Any]) -> HttpResponse:
    product = _viewable_product_or_404(request, product_id)
    context = {**product_detail_context(product), **extra}
    return render(request, "catalog/product_detail.html", context)


@require_GET
def product_image(request: HttpRequest, product_id: int, image_id: int, size: str) -> FileResponse:
    """A gallery image: public (cached for a year: names are random) once the product is
    listed; before that only for its shop's managers and reviewers."""
    field = IMAGE_SIZES.get(size)
    image = (
        ProductImage.objects.select_related("product", "product__shop")
        .filter(pk=image_id, product_id=product_id)
        .first()
        if field
        else None
    )
    if image is None:
        raise Http404()
    product = image.product
    public = product.status == Product.Status.LISTED and product.shop.status == Shop.Status.ACTIVE
    if not public and not (
        shop_can_manage(request.user, product.shop) or is_shop_reviewer(request.user)
    ):
        raise Http404()
    try:
        handle = default_storage.open(getattr(image, field).name, "rb")
    except FileNotFoundError as exc:
        raise Http404() from exc
    response = FileResponse(handle, content_type="image/webp")
    response["Cache-Control"] = (
        "public, max-age=31536000, immutable" if public else "private, no-store"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
STREAM_CHUNK = 256 * 1024


def _file_chunks(handle: Any, length: int) -> Iterator[bytes]:
    try:
        while length > 0:
            chunk = handle.read(min(STREAM_CHUNK, length))
            if not chunk:
                break
            length -= len(chunk)
            yield chunk
    finally:
        handle.close()


def _ranged_file_response(
    request: HttpRequest, handle: Any, *, size: int, content_type: str
) -> HttpResponseBase:
    """The whole file, or one ``Range: bytes=a-b`` of it (206), as video players seek.

    Several ranges in one request are answered with the whole file (allowed by RFC 9110).
    """
    match = RANGE_RE.match(request.headers.get("Range", "").strip())
    if match and (match.group(1) or match.group(2)):
        first, last = match.groups()
        if first:
            start = int(first)
            end = min(int(last), size - 1) if last else size - 1
        else:  # a suffix: the last N bytes
            start, end = max(size - int(last), 0), size - 1
        if start >= size or start > end:
            handle.close()
            response: HttpResponseBase = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        handle.seek(start)
        response = StreamingHttpResponse(
            _file_chunks(handle, end - start + 1), status=206, content_type=content_type
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
    else:
        response = FileResponse(handle, content_type=content_type)
        response["Content-Length"] = str(size)
    response["Accept-Ranges"] = "bytes"
    return response


def _product_media(
    request: HttpRequest,
    model: type[ProductVideo] | type[ProductModel3D],
    product_id: int,
    media_id: int,
    ext: str,
) -> HttpResponseBase:
    row = (
        model.objects.select_related("product", "product__shop")
        .filter(pk=media_id, product_id=product_id)
        .first()
    )
    if row is None or not row.file.name.endswith(f".{ext}"):
        raise Http404()
    product = row.product
    public = product.status == Product.Status.LISTED and product.shop.status == Shop.Status.ACTIVE
    if not public and not (
        shop_can_manage(request.user, product.shop) or is_shop_reviewer(request.user)
    ):
        raise Http404()
    try:
        handle = default_storage.open(row.file.name, "rb")
    except FileNotFoundError as exc:
        raise Http404() from exc
    response = _ranged_file_response(request, handle, size=row.size, content_type=row.content_type)
    response["Cache-Control"] = (
        "public, max-age=31536000, immutable" if public else "private, no-store"
    )
    response["X-Content-Type-Options"] = "nosniff"
    # Viewers on other origins (Android's Scene Viewer fetches the model for AR) may read it.
    if public:
        response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def product_video(
    request: HttpRequest, product_id: int, media_id: int, ext: str
) -> HttpResponseBase:
    """The product video (MP4/WebM), with byte ranges; public once listed, like images."""
    return _product_media(request, ProductVideo, product_id, media_id, ext)


@require_GET
def product_model(
    request: HttpRequest, product_id: int, media_id: int, ext: str
) -> HttpResponseBase:
    """The 3D model (GLB/glTF) for ``<model-viewer>``; public once listed, like images."""
    return _product_media(request, ProductModel3D, product_id, media_id, ext)


def _download_headers(response: HttpResponseBase) -> HttpResponseBase:
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    # The token is in the URL: never pass it on to another site.
    response["Referrer-Policy"] = "no-referrer"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@require_GET
def digital_download(request: HttpRequest, token: str) -> HttpResponseBase:
    """Stream a digital product's file for a valid, unexpired signed link (GET only, so a link
    preview's HEAD does not use up a download). Bad token 404, expired or used up 410."""
    try:
        opened = services.digital_download_open(token=token)
    except ApplicationError as exc:
        response = render(
            request,
            "catalog/download_error.html",
            {"code": exc.code, "message": exc.message},
            status=exc.status,
        )
        return _download_headers(response)
    try:
        handle = private_storage.open(opened.file.file.name, "rb")
    except FileNotFoundError as exc:
        raise Http404() from exc
    response = FileResponse(
        handle,
        content_type=opened.file.content_type,
        as_attachment=True,
        filename=opened.file.original_name
        or f"download.{opened.file.file.name.rsplit('.', 1)[-1]}",
    )
    return _download_headers(response)


@login_required
@require_GET
def digital_file_managed(request: HttpRequest, product_id: int) -> FileResponse:
    """A digital product's file for its shop's managers and reviewers (checking before sale)."""
    try:
        digital = selectors.digital_file_get_managed(user=request.user, product_id=product_id)
    except NotFound as exc:
        raise Http404() from exc
    try:
        handle = private_storage.open(digital.file.name, "rb")
    except FileNotFoundError as exc:
        raise Http404() from exc
    response = FileResponse(
        handle,
        content_type=digital.content_type,
        as_attachment=True,
        filename=digital.original_name,
    )
    return _download_headers(response)  # type: ignore[return-value]


# --- products: shop management ---------------------------------------------------------------


@login_required
@require_GET
def shop_products(request: HttpRequest, slug: str) -> HttpResponse:
    shop = _managed_shop_or_404(request, slug)
    products = selectors.products_of_shop_managed(user=request.user, shop=shop)
    return render(request, "catalog/shop_products.html", {"shop": shop, "products": products})


@login_required
@require_http_methods(["GET", "POST"])
def product_new(request: HttpRequest, slug: str) -> HttpResponse:
    shop = _managed_shop_or_404(request, slug)
    form = ProductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            product = services.product_create(
                actor=request.user, shop=shop, **form.service_kwargs()
            )
        except ApplicationError as exc:
            form.add_application_error(exc)
        else:
            messages.success(request, _("草稿已保存，接着添加规格和图片吧。"))
            return redirect("catalog:product_edit", product_id=product.pk)
    return render(request, "catalog/product_form.html", {"shop": shop, "form": form})


def _managed_product_or_404(request: HttpRequest, product_id: int) -> Product:
    try:
        return selectors.product_get_managed(user=request.user, product_id=product_id)
    except NotFound as exc:
        raise Http404() from exc


def _product_initial(product: Product) -> dict[str, object]:
    return {
        "title_zh": product.title_zh,
        "title_en": product.title_en,
        "kind": product.kind,
        "category": product.category.slug if product.category else "",
        "attribute_ids": [str(a.pk) for a in product.attributes.all()],
        "tags": ", ".join(t.name for t in product.tags.all()),
        "story_zh": product.story_zh,
        "story_en": product.story_en,
        "designer_notes": product.designer_notes,
        "edition_size": product.edition_size,
        "per_buyer_limit": product.per_buyer_limit,
        "lead_time_days": product.lead_time_days,
        "duration_minutes": product.duration_minutes,
        "location": product.location,
        "online": product.online,
    }


@login_required
@require_http_methods(["GET", "POST"])
def product_edit(request: HttpRequest, product_id: int) -> HttpResponse:
    """The editor: product fields, variants, images, customisation, then submit or delist.

    One page, several forms; ``action`` says which one was sent.
    """
    product = _managed_product_or_404(request, product_id)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    bound = request.POST, request.FILES
    form = ProductForm(bound[0] if action == "product" else None, initial=_product_initial(product))
    variant_form = VariantForm(bound[0] if action == "variant" else None, prefix="variant")
    image_form = ProductImageForm(
        bound[0] if action == "image" else None,
        bound[1] if action == "image" else None,
        prefix="image",
    )
    option_form = CustomisationForm(bound[0] if action == "option" else None, prefix="option")
    is_bundle = product.kind == Product.Kind.BUNDLE
    bundle_form = BundleItemForm(
        bound[0] if action == "bundle_item" else None,
        prefix="bundle",
        variants=(
            selectors.bundle_candidate_variants(shop=product.shop, exclude_product_id=product.pk)
            if is_bundle
            else ()
        ),
    )
    media_forms = {
        "video": VideoForm(
            bound[0] if action == "video" else None,
            bound[1] if action == "video" else None,
            prefix="video",
        ),
        "model_3d": Model3DForm(
            bound[0] if action == "model_3d" else None,
            bound[1] if action == "model_3d" else None,
            prefix="model",
        ),
        "digital_file": DigitalFileForm(
            bound[0] if action == "digital_file" else None,
            bound[1] if action == "digital_file" else None,
            prefix="digital",
        ),
    }
    error = ""
    if action:
        try:
            if action == "bundle_item":
                done = _bundle_item_action(request, product, bundle_form)
            elif action in media_forms or action.startswith("remove_"):
                done = _media_action(request, product, action, media_forms)
            else:
                done = _product_edit_action(
                    request, product, action, form, variant_form, image_form, option_form
                )
        except ApplicationError as exc:
            target = {
                "product": form,
                "variant": variant_form,
                "image": image_form,
                "option": option_form,
                "bundle_item": bundle_form,
                **media_forms,
            }.get(action)
            if target is not None:
                target.add_application_error(exc)
            else:
                error = str(exc.message)
            done = False
        if done:
            return redirect("catalog:product_edit", product_id=product.pk)
    product = _managed_product_or_404(request, product_id)
    context = {
        "product": product,
        "shop": product.shop,
        "form": form,
        "variant_form": variant_form,
        "image_form": image_form,
        "option_form": option_form,
        "bundle_form": bundle_form,
        "video_form": media_forms["video"],
        "model_form": media_forms["model_3d"],
        "digital_form": media_forms["digital_file"],
        "video": product_one(product, "video"),
        "model_3d": product_one(product, "model_3d"),
        "digital_file": product_one(product, "digital_file"),
        "bundle": bundle_dict(product),
        "editable": product.status in services.EDITABLE_STATUSES,
        "error": error,
    }
    for name in ("video", "model_3d"):
        context[f"{name}_url"] = product_media_url(context[name]) if context[name] else ""
    return render(request, "catalog/product_edit.html", context)


def _bundle_item_action(request: HttpRequest, product: Product, form: BundleItemForm) -> bool:
    if not form.is_valid():
        return False
    services.bundle_item_set(
        actor=request.user,  # type: ignore[arg-type]
        product_id=product.pk,
        variant_id=form.cleaned_data["variant_id"],
        quantity=form.cleaned_data["quantity"],
    )
    messages.success(request, _("套装内容已更新。"))
    return True


def _media_action(
    request: HttpRequest, product: Product, action: str, media_forms: dict[str, Any]
) -> bool:
    user = request.user
    if action in ("remove_video", "remove_model_3d"):
        services.product_media_remove(
            actor=user,  # type: ignore[arg-type]
            product_id=product.pk,
            media=action.removeprefix("remove_"),
        )
        messages.success(request, _("已移除。"))
        return True
    form = media_forms.get(action)
    if form is None or not form.is_valid():
        return False
    upload = next(iter(form.cleaned_data.values()))
    setter = {
        "video": services.product_video_set,
        "model_3d": services.product_model_3d_set,
        "digital_file": services.digital_file_set,
    }[action]
    setter(actor=user, product_id=product.pk, upload=upload)  # type: ignore[operator]
    messages.success(request, _("文件已上传。"))
    return True


def _product_edit_action(
    request: HttpRequest,
    product: Product,
    action: str,
    form: ProductForm,
    variant_form: VariantForm,
    image_form: ProductImageForm,
    option_form: CustomisationForm,
) -> bool:
    user = request.user
    if action == "product" and form.is_valid():
        services.product_update(actor=user, product_id=product.pk, **form.service_kwargs())  # type: ignore[arg-type]
        messages.success(request, _("商品信息已保存。"))
        return True
    if action == "variant" and variant_form.is_valid():
        data = variant_form.cleaned_data
        services.variant_upsert(
            actor=user,  # type: ignore[arg-type]
            product_id=product.pk,
            sku=data["sku"],
            price_fen=data["price"],
            stock=data["stock"],
            options=data["options"],
            weight_g=data["weight_g"] or 0,
            starts_at=data["starts_at"],
        )
        messages.success(request, _("规格已保存。"))
        return True
    if action == "image" and image_form.is_valid():
        services.product_image_add(
            actor=user,  # type: ignore[arg-type]
            product_id=product.pk,
            upload=image_form.cleaned_data["image"],
            alt=image_form.cleaned_data["alt"],
        )
        messages.success(request, _("图片已上传。"))
        return True
    if action == "option" and option_form.is_valid():
        data = option_form.cleaned_data
        services.customisation_option_add(
            actor=user,  # type: ignore[arg-type]
            product_id=product.pk,
            kind=data["kind"],
            label_zh=data["label_zh"],
            label_en=data["label_en"],
            max_length=data["max_length"],
            choices=data["choices"],
            required=data["required"],
        )
        messages.success(request, _("定制选项已添加。"))
        return True
    if action == "submit":
        product = services.product_submit(actor=user, product_id=product.pk)  # type: ignore[arg-type]
        if product.status == Product.Status.REJECTED:
            messages.error(request, product.reject_reason)
        else:
            messages.success(request, _("已提交审核，审核通过后自动上架。"))
        return True
    if action == "delist":
        services.product_delist(actor=user, product_id=product.pk)  # type: ignore[arg-type]
        messages.success(request, _("商品已下架。"))
        return True
    return False


# --- products: review ------------------------------------------------------------------------


@login_required
@require_GET
def product_review_queue(request: HttpRequest) -> HttpResponse:
    _reviewer_or_404(request)
    rows = selectors.products_review_queue(reviewer=request.user)
    # Held products (a pre-check's app has not decided yet) cannot be approved: apart.
    queue = [p for p in rows if not p.hold_check]
    held = [p for p in rows if p.hold_check]
    return render(request, "catalog/product_review_queue.html", {"queue": queue, "held": held})


@login_required
@require_http_methods(["GET", "POST"])
def product_review_decide(request: HttpRequest, product_id: int) -> HttpResponse:
    _reviewer_or_404(request)
    try:
        product = selectors.product_get_for_review(reviewer=request.user, product_id=product_id)
    except (NotFound, PermissionDenied) as exc:
        raise Http404() from exc
    decision = request.POST.get("decision") if request.method == "POST" else None
    reject_form = RejectForm(request.POST if decision == "reject" else None)
    error = ""
    try:
        if decision == "approve":
            services.product_review_approve(reviewer=request.user, product_id=product.pk)
            messages.success(request, _("「%(title)s」已上架。") % {"title": product.title_zh})
            return redirect("catalog:product_review_queue")
        if decision == "reject" and reject_form.is_valid():
            services.product_review_reject(
                reviewer=request.user,
                product_id=product.pk,
                reason=reject_form.cleaned_data["reason"],
            )
            messages.success(request, _("已驳回「%(title)s」。") % {"title": product.title_zh})
            return redirect("catalog:product_review_queue")
    except ApplicationError as exc:
        error = str(exc.message)
    context = {
        "product": product,
        "images": list(product.images.all()),
        "variants": list(product.variants.all()),
        "options": list(product.customisation_options.all()),
        "bundle": bundle_dict(product),
        "video": product_one(product, "video"),
        "model_3d": product_one(product, "model_3d"),
        "digital_file": product_one(product, "digital_file"),
        "reject_form": reject_form,
        "error": error,
    }
    return render(request, "catalog/product_review_decide.html", context)


# --- category browsing -------------------------------------------------------------------------
# The products and facet counts come from search (the same selector /search/ uses), so a
# category page and a search narrowed to that category always agree.

BROWSE_TARGET = "browse-results"


def _browse_int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return -1  # the selector rejects it with a clear message and code


def _browse_params(request: HttpRequest, slug: str) -> SearchParams:
    get = request.GET
    return SearchParams(
        category=slug,
        sort=get.get("sort") or "relevance",
        page=_browse_int(get.get("page"), 1),
        page_size=_browse_int(get.get("page_size"), BROWSE_PAGE_SIZE),
        **{name: get.get(name, "")[:60] for name in BROWSE_FACETS},
    )


def _category_counts(result: SearchResult) -> dict[str, int]:
    facet = next((f for f in result.facets if f.name == "category"), None)
    return {b.value: b.count for b in facet.buckets} if facet else {}


@require_GET
def category_tree(request: HttpRequest) -> HttpResponse:
    """Every category with how many listed products are in it and below it."""

    def build(extra: dict[str, Any]) -> HttpResponse:
        result = search_run(SearchParams(page_size=1))
        nodes = selectors.category_tree(counts_by_slug=_category_counts(result))
        context = {"nodes": nodes, "total": result.total, **extra}
        return render(request, "catalog/category_tree.html", context)

    return page_serve(request, page="category_tree", versions=[CATALOG, LISTS], build=build)


@require_GET
def category_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A category's products (with its descendants'), narrowed by facets, sorted, paged. A
    facet click from the page itself (HTMX) gets only the results block back."""
    return page_serve(
        request,
        page="category",
        versions=[CATALOG, LISTS],
        build=lambda extra: _category_detail(request, slug, extra),
    )


def _category_detail(request: HttpRequest, slug: str, extra: dict[str, Any]) -> HttpResponse:
    try:
        browse = selectors.category_browse_get(slug=slug)
    except NotFound as exc:
        raise Http404() from exc
    params = _browse_params(request, slug)
    context: dict[str, Any] = {
        "browse": browse,
        "category": browse.category,
        "params": params,
        "sorts": SORTS.items(),
        **extra,
    }
    status = 200
    try:
        result = search_run(params)
    except ApplicationError as exc:
        context.update(error=exc.message, error_code=exc.code)
        status = exc.status
    else:
        # The sub-category facet: the children counted under every other selected facet.
        facets = [f for f in result.facets if f.name != "category" and f.buckets]
        context.update(
            result=result,
            children=browse.counted(_category_counts(result)),
            facets=facets,
            # The facets, sort links and pager written from plain data (ADR 0056).
            controls=browse_controls_html(browse.category.slug, params, result, facets),
        )
    htmx = getattr(request, "htmx", None)
    partial = bool(htmx) and htmx.target == BROWSE_TARGET and not htmx.history_restore_request
    template = "catalog/partials/browse_results.html" if partial else "catalog/category_detail.html"
    response = render(request, template, context, status=status)
    response["Vary"] = "HX-Request, Accept-Language, Cookie"
    return response
