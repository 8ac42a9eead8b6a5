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


# --- digital passports -------------------------------------------------------------------------

PASSPORT_STEP_LABELS = {
    "registered": gettext_lazy("设计登记"),
    "produced": gettext_lazy("生产编号"),
    "sold": gettext_lazy("售出"),
    "transferred": gettext_lazy("转让（转售或赠予）"),
    "voided": gettext_lazy("作废"),
}
CLONE_FLAG_LABELS = {
    "impossible_travel": gettext_lazy("相隔太远的两地在过短时间内先后扫描"),
    "too_many_scans": gettext_lazy("一天内扫描次数过多"),
    "too_many_places": gettext_lazy("一天内在过多地点被扫描"),
}


def _flag_text(flag: dict[str, Any]) -> str:
    from yaji.copyright.scan_places import city_name

    label = str(CLONE_FLAG_LABELS.get(flag.get("kind", ""), flag.get("kind", "")))
    if flag.get("kind") == "impossible_travel":
        return _("%(label)s：%(a)s → %(b)s，%(km)s 公里，%(min)s 分钟") % {
            "label": label,
            "a": city_name(flag.get("from_city", "")),
            "b": city_name(flag.get("to_city", "")),
            "km": flag.get("distance_km"),
            "min": flag.get("minutes"),
        }
    return label


def _passport_context(passport: Any) -> dict[str, Any]:
    from yaji.copyright import scan_places

    checkpoint = selectors.checkpoint_covering(index=selectors.log_size() - 1)
    if checkpoint is None or checkpoint.size < selectors.log_size():
        checkpoint = services.checkpoint_create() or checkpoint
    trail = selectors.passport_trail(passport=passport, checkpoint=checkpoint)
    for step in trail:
        step["label"] = PASSPORT_STEP_LABELS.get(step["kind"], step["kind"])
    scans = list(passport.scans.all()[:10])
    open_case = passport.clone_cases.filter(status="open").first()
    flags = [_flag_text(reason) for reason in (open_case.reasons if open_case else [])[-5:]]
    return {
        "passport": passport,
        "product": passport.design.product,
        "registration": passport.design.registration,
        "trail": trail,
        "trail_ok": all(step["status"] == "verified" for step in trail),
        "checkpoint": checkpoint,
        "scans": [
            {"at": s.created_at, "city": scan_places.city_name(s.city), "flagged": bool(s.flags)}
            for s in scans
        ],
        "flags": flags,
        "cities": [(code, str(entry[0])) for code, entry in scan_places.CITIES.items()],
    }


@require_GET
def passport_page(request: HttpRequest, token: str) -> HttpResponse:
    """What a phone opens from the QR code: the payload is verified before anything is
    recorded; a genuine one records the scan (a city, an address prefix) and shows the trail."""
    from yaji.copyright import passports
    from yaji.copyright.errors import PassportInvalid, PassportNotFound

    try:
        result = passports.passport_scan(
            token=token,
            city=request.GET.get("city", "")[:20],
            ip=request.META.get("REMOTE_ADDR") or "",
        )
    except (PassportInvalid, PassportNotFound) as exc:
        return render(
            request,
            "copyright/passport_invalid.html",
            {"error": exc.message, "code": exc.code},
            status=exc.status,
        )
    context = _passport_context(result.passport)
    context["this_scan_flagged"] = bool(result.flags)
    context["token"] = token
    return render(request, "copyright/passport.html", context)


@require_GET
def passport_qr(request: HttpRequest, serial: str) -> HttpResponse:
    """The passport's QR code as a PNG, for its holder and the shop that made the unit."""
    import io

    import segno

    from yaji.catalog.permissions import shop_can_manage
    from yaji.copyright.models import Passport

    passport = (
        Passport.objects.select_related("design__product__shop").filter(serial=serial[:40]).first()
    )
    if passport is None or not (
        (request.user.is_authenticated and passport.holder_id == request.user.pk)
        or shop_can_manage(request.user, passport.design.product.shop)
    ):
        raise Http404()
    url = request.build_absolute_uri(f"/copyright/p/{passport.token}/")
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=6, border=4)
    return HttpResponse(buffer.getvalue(), content_type="image/png")


@login_required
@require_http_methods(["GET", "POST"])
def my_passports(request: HttpRequest) -> HttpResponse:
    from yaji.accounts.models import User
    from yaji.copyright import passports

    if request.method == "POST":
        recipient = User.objects.filter(
            email__iexact=request.POST.get("to", "").strip()[:254]
        ).first()
        try:
            if recipient is None:
                from yaji.copyright.errors import PassportNotTransferable

                raise PassportNotTransferable()
            passports.passport_transfer(
                holder=request.user,  # type: ignore[arg-type]  # login_required
                serial=request.POST.get("serial", ""),
                to_user=recipient,
            )
        except ApplicationError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("已转让，转让记录已写入存证日志。"))
        return redirect("copyright:passports_mine")
    return render(
        request,
        "copyright/passports_mine.html",
        {"passports": selectors.passports_held_by(user=request.user)},
    )


@login_required
@require_GET
def clone_queue(request: HttpRequest) -> HttpResponse:
    _reviewer_only(request)
    cases = selectors.clone_queue()
    for case in cases:
        case.flag_texts = [_flag_text(r) for r in case.reasons[-3:]]
    return render(request, "copyright/clone_queue.html", {"cases": cases})


@login_required
@require_http_methods(["GET", "POST"])
def clone_decide(request: HttpRequest, case_id: int) -> HttpResponse:
    from yaji.copyright import passports

    _reviewer_only(request)
    try:
        case = selectors.clone_case_get(case_id=case_id)
    except ApplicationError as exc:
        raise Http404(str(exc.message)) from exc
    if request.method == "POST":
        try:
            passports.clone_case_decide(
                reviewer=request.user,  # type: ignore[arg-type]  # login_required
                case_id=case.pk,
                clone=request.POST.get("verdict") == "clone",
                reason=request.POST.get("reason", ""),
            )
        except ApplicationError as exc:
            messages.error(request, str(exc.message))
            return redirect("copyright:clone_decide", case.pk)
        messages.success(request, _("已处理。"))
        return redirect("copyright:clone_queue")
    from yaji.copyright import scan_places

    scans = [
        {
            "at": s.created_at,
            "city": scan_places.city_name(s.city),
            "prefix": s.ip_prefix,
            "flags": [_flag_text(f) for f in s.flags],
        }
        for s in case.passport.scans.all()[:50]
    ]
    return render(
        request,
        "copyright/clone_decide.html",
        {"case": case, "scans": scans, "flags": [_flag_text(r) for r in case.reasons]},
    )
