"""Site pages of the copyright log: my registrations, certificates (page, JSON, PNG), the
public verification page, the log's key page and the reviewers' near-duplicate queue."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from yaji.catalog.permissions import is_shop_reviewer
from yaji.community.models import Work, WorkStatus
from yaji.copyright import selectors, services, signing, takedowns
from yaji.copyright.certificates import (
    CertificateError,
    certificate_json,
    certificate_load,
    certificate_png,
    certificate_verify,
)
from yaji.copyright.errors import LogEmpty
from yaji.copyright.log_keys import log_key_id, log_origin, log_public_key
from yaji.copyright.models import Registration
from yaji.core.errors import ApplicationError

# What a failed check means, in the reader's language (the exception text stays English for
# the command line).
VERDICT_MESSAGES = {
    "malformed": gettext_lazy("证书格式不正确，无法读取。"),
    "too_large": gettext_lazy("证书文件过大。"),
    "bad_checkpoint_signature": gettext_lazy(
        "检查点签名无法用本平台日志公钥验证：证书被篡改，或来自其他日志。"
    ),
    "wrong_origin": gettext_lazy("证书来自另一个存证日志。"),
    "proof_mismatch": gettext_lazy("包含证明与证书中的条目或检查点不对应。"),
    "not_included": gettext_lazy("该条目不在已签名的默克尔树中：条目内容或证明被篡改。"),
    "bad_leaf": gettext_lazy("登记声明无效：作者签名验证失败或格式不规范。"),
}


def _registration(registration_id: int) -> Registration:
    try:
        return selectors.registration_get(registration_id=registration_id)
    except ApplicationError as exc:
        raise Http404(str(exc.message)) from exc


@login_required
@require_http_methods(["GET", "POST"])
def my_registrations(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        try:
            work_id = int(request.POST.get("work_id", "0"))
        except ValueError:
            work_id = 0
        try:
            registration = services.work_register(user=user, work_id=work_id)  # type: ignore[arg-type]
        except ApplicationError as exc:
            messages.error(request, str(exc.message))
        else:
            if registration.status == Registration.Status.REGISTERED:
                messages.success(request, _("登记成功，已写入存证日志。"))
                return redirect("copyright:certificate", registration.pk)
            messages.warning(request, _("该作品与已登记的作品相似，已转人工审核。"))
        return redirect("copyright:mine")
    registrations = list(selectors.registrations_of(user=user))
    taken = {r.work_id for r in registrations if r.status != Registration.Status.REFUSED}
    works = [
        w
        for w in Work.objects.filter(creator=user, status=WorkStatus.PUBLISHED).order_by("-id")[
            :100
        ]
        if w.pk not in taken
    ]
    return render(
        request,
        "copyright/mine.html",
        {"registrations": registrations, "works": works},
    )


def _lines(document: dict[str, Any], registration: Registration) -> list[str]:
    statement = registration_statement(registration)
    return [
        f"{_('作品')}: {registration.work.title}",
        f"{_('存证序号')}: #{document['entry']['index']} / {document['inclusion_proof']['tree_size']}",
        f"{_('登记时间')}: {statement.get('time', '')}",
        f"SHA-256: {statement.get('content_sha256', '')}",
        f"{_('作者标识')}: {statement.get('author', '')[:40]}…",
        f"{_('日志')}: {document['log']['origin']}",
        _("扫描二维码获取完整证书，用 yaji verify 离线验证。"),
    ]


def registration_statement(registration: Registration) -> dict[str, Any]:
    import json

    return json.loads(registration.entry.leaf) if registration.entry else {}


@require_GET
def certificate_page(request: HttpRequest, registration_id: int) -> HttpResponse:
    registration = _registration(registration_id)
    document = services.certificate_issue(registration=registration)
    verdict = certificate_verify(document, public_key=log_public_key(), origin=log_origin())
    context = {
        "registration": registration,
        "statement": verdict.statement,
        "document": document,
        "verdict": verdict,
        "document_json": certificate_json(document),
    }
    return render(request, "copyright/certificate.html", context)


@require_GET
def certificate_download(request: HttpRequest, registration_id: int) -> HttpResponse:
    registration = _registration(registration_id)
    document = services.certificate_issue(registration=registration)
    response = HttpResponse(certificate_json(document), content_type="application/json")
    response["Content-Disposition"] = (
        f'attachment; filename="yaji-certificate-{registration.pk}.json"'
    )
    return response


@require_GET
def certificate_image(request: HttpRequest, registration_id: int) -> HttpResponse:
    registration = _registration(registration_id)
    document = services.certificate_issue(registration=registration)
    png = certificate_png(
        document, lines=_lines(document, registration), title=_("雅集 · 版权存证证书")
    )
    response = HttpResponse(png, content_type="image/png")
    if request.GET.get("download"):
        response["Content-Disposition"] = (
            f'attachment; filename="yaji-certificate-{registration.pk}.png"'
        )
    return response


@require_http_methods(["GET", "POST"])
def verify_page(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"origin": log_origin(), "public_key": signing.b64(log_public_key())}
    if request.method == "POST":
        upload = request.FILES.get("certificate_file")
        text = upload.read(64 * 1024 + 1) if upload else request.POST.get("certificate", "")
        context["pasted"] = request.POST.get("certificate", "")[:70000]
        try:
            verdict = certificate_verify(
                certificate_load(text), public_key=log_public_key(), origin=log_origin()
            )
        except CertificateError as exc:
            context["failure"] = VERDICT_MESSAGES.get(exc.code, gettext_lazy("证书无效。"))
            context["failure_detail"] = str(exc)
            return render(request, "copyright/verify.html", context, status=422)
        context["verdict"] = verdict
    return render(request, "copyright/verify.html", context)


@require_GET
def log_page(request: HttpRequest) -> HttpResponse:
    try:
        checkpoint = selectors.checkpoint_latest()
    except LogEmpty:
        checkpoint = None
    context = {
        "origin": log_origin(),
        "public_key": signing.b64(log_public_key()),
        "key_id": log_key_id(),
        "checkpoint": checkpoint,
        "anchors": list(checkpoint.anchors.all()) if checkpoint else [],
        "size": selectors.log_size(),
    }
    return render(request, "copyright/log.html", context)


@require_GET
def log_key_text(request: HttpRequest) -> HttpResponse:
    return HttpResponse(signing.b64(log_public_key()) + "\n", content_type="text/plain")


@require_GET
def log_key_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {
            "origin": log_origin(),
            "public_key": signing.b64(log_public_key()),
            "key_id": log_key_id(),
        }
    )


def _reviewer_only(request: HttpRequest) -> None:
    if not is_shop_reviewer(request.user):
        raise Http404()


@login_required
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    _reviewer_only(request)
    return render(request, "copyright/review_queue.html", {"cases": selectors.case_queue()})


@login_required
@require_http_methods(["GET", "POST"])
def review_decide(request: HttpRequest, case_id: int) -> HttpResponse:
    _reviewer_only(request)
    try:
        case = selectors.case_get(case_id=case_id)
    except ApplicationError as exc:
        raise Http404(str(exc.message)) from exc
    if request.method == "POST":
        verdict = request.POST.get("verdict")
        try:
            services.duplicate_case_decide(
                reviewer=request.user,  # type: ignore[arg-type]  # login_required
                case_id=case.pk,
                infringing=verdict == "infringing",
                reason=request.POST.get("reason", ""),
            )
        except ApplicationError as exc:
            messages.error(request, str(exc.message))
            return redirect("copyright:review_decide", case.pk)
        messages.success(request, _("已处理。"))
        return redirect("copyright:review_queue")
    candidate_url = None
    if case.product_image is not None:
        candidate_url = case.product_image.thumb_1200.url or case.product_image.file.url
    elif case.registration is not None:
        candidate_url = case.registration.work.media.url
    return render(
        request,
        "copyright/review_decide.html",
        {
            "case": case,
            "candidate_url": candidate_url,
            "matched_url": case.matched.work.media.url,
        },
    )


@login_required
@require_GET
def takedown_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "copyright/takedown_list.html", selectors.takedowns_for(user=request.user)
    )


@login_required
@require_http_methods(["GET", "POST"])
def takedown_new(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"product_id": request.GET.get("product", "")}
    if request.method == "POST":
        upload = request.FILES.get("certificate_file")
        certificate = (
            upload.read(64 * 1024 + 1).decode("utf-8", errors="replace")
            if upload
            else request.POST.get("certificate", "")
        )
        context.update(
            product_id=request.POST.get("product_id", ""),
            statement=request.POST.get("statement", ""),
            pasted=request.POST.get("certificate", "")[:70000],
        )
        try:
            product_id = int(context["product_id"] or 0)
        except ValueError:
            product_id = 0
        try:
            notice = takedowns.takedown_file(
                complainant=request.user,  # type: ignore[arg-type]  # login_required
                product_id=product_id,
                certificate=certificate,
                statement=context["statement"],
            )
        except ApplicationError as exc:
            context["error"] = exc.message
            return render(request, "copyright/takedown_new.html", context, status=exc.status)
        messages.success(request, _("投诉已提交，商家可以申辩，之后由审核员处理。"))
        return redirect("copyright:takedown_detail", notice.pk)
    return render(request, "copyright/takedown_new.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def takedown_detail(request: HttpRequest, notice_id: int) -> HttpResponse:
    from yaji.catalog.permissions import shop_can_manage

    try:
        notice = selectors.takedown_get(notice_id=notice_id, user=request.user)
    except ApplicationError as exc:
        raise Http404(str(exc.message)) from exc
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "counter":
                takedowns.takedown_counter(
                    seller=request.user,  # type: ignore[arg-type]
                    notice_id=notice.pk,
                    statement=request.POST.get("statement", ""),
                )
            else:
                takedowns.takedown_decide(
                    reviewer=request.user,  # type: ignore[arg-type]
                    notice_id=notice.pk,
                    uphold=action == "uphold",
                    reason=request.POST.get("reason", ""),
                )
        except ApplicationError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("已记录。"))
        return redirect("copyright:takedown_detail", notice.pk)
    context = {
        "notice": notice,
        "events": list(notice.events.select_related("actor")),
        "can_counter": notice.status == "filed"
        and shop_can_manage(request.user, notice.product.shop),
        "can_decide": notice.status in ("filed", "countered") and is_shop_reviewer(request.user),
    }
    return render(request, "copyright/takedown_detail.html", context)
