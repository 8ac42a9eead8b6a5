"""Moderation pages: the reviewers' queue and item page, the author's "my moderated
content" page with appeals, and the report form target.

Each view validates a form, calls one service or selector, and renders. The queue is a 404 for
anyone who is not a reviewer or operator, like the catalog's review pages.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yaji.core.errors import ApplicationError, NotFound, PermissionDenied
from yaji.moderation import selectors, services
from yaji.moderation.forms import DecisionForm, ReasonForm, ReportForm
from yaji.moderation.permissions import is_moderation_reviewer


def _reviewer_or_404(request: HttpRequest) -> None:
    if not is_moderation_reviewer(request.user):
        raise Http404()


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    _reviewer_or_404(request)
    try:
        page = selectors.moderation_queue(
            reviewer=request.user, cursor=request.GET.get("cursor") or None, limit=50
        )
    except ApplicationError as exc:
        raise Http404() from exc
    return render(request, "moderation/queue.html", {"page": page, "is_reviewer": True})


@login_required
@require_http_methods(["GET", "POST"])
def item_review(request: HttpRequest, item_id: int) -> HttpResponse:
    _reviewer_or_404(request)
    try:
        item = selectors.moderation_item_for_review(reviewer=request.user, item_id=item_id)
    except (NotFound, PermissionDenied) as exc:
        raise Http404() from exc
    form = DecisionForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        decision = form.cleaned_data["decision"]
        try:
            services.moderation_decide(
                reviewer=request.user,
                item_id=item.pk,
                decision=decision,
                reason=form.cleaned_data["reason"],
            )
        except ApplicationError as exc:
            error = str(exc.message)
        else:
            if decision == "approve":
                messages.success(request, _("已通过，内容恢复可见。"))
            else:
                messages.success(request, _("已屏蔽该内容。"))
            return redirect("moderation:queue")
    log = selectors.moderation_item_log(reviewer=request.user, item_id=item.pk)
    context = {"item": item, "log": log, "form": form, "error": error, "is_reviewer": True}
    return render(request, "moderation/item.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def mine(request: HttpRequest) -> HttpResponse:
    """My held and blocked content; a blocked item can be appealed once."""
    form = ReasonForm(request.POST or None)
    error = ""
    if request.method == "POST":
        try:
            item_id = int(request.POST.get("item_id", ""))
        except ValueError as exc:
            raise Http404() from exc
        if form.is_valid():
            try:
                services.moderation_appeal(
                    author=request.user, item_id=item_id, reason=form.cleaned_data["reason"]
                )
            except NotFound as exc:
                raise Http404() from exc
            except ApplicationError as exc:
                error = str(exc.message)
            else:
                messages.success(request, _("申诉已提交，审核员会在 72 小时内处理。"))
                return redirect("moderation:mine")
    items = selectors.moderation_items_mine(author=request.user)
    context = {
        "items": items,
        "error": error,
        "is_reviewer": is_moderation_reviewer(request.user),
    }
    return render(request, "moderation/mine.html", context)


@login_required
@require_POST
def report(request: HttpRequest) -> HttpResponse:
    """Target of the report form other apps' pages include (moderation/partials/report.html)."""
    form = ReportForm(request.POST)
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    if not form.is_valid():
        messages.error(request, _("请填写举报原因。"))
        return redirect(target)
    try:
        services.moderation_report(
            reporter=request.user,
            kind=form.cleaned_data["kind"],
            object_id=form.cleaned_data["object_id"],
            reason=form.cleaned_data["reason"],
        )
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("感谢举报，我们会尽快处理。"))
    return redirect(target)
