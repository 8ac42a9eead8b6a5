"""Site pages of the community app: the play page and the creator's upload page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from yaji.accounts.models import Role
from yaji.accounts.permissions import has_role
from yaji.community import selectors, services
from yaji.community.errors import WorkNotFound
from yaji.community.forms import WorkPublishForm
from yaji.core.errors import ApplicationError


@require_GET
def work_play(request: HttpRequest, work_id: int) -> HttpResponse:
    try:
        work = selectors.work_get(work_id=work_id)
    except WorkNotFound as exc:
        raise Http404(str(exc.message)) from exc
    best = selectors.play_best_progress(user=request.user, work=work)  # type: ignore[arg-type]
    completed = selectors.play_completed(user=request.user, work=work)  # type: ignore[arg-type]
    pct = 0.0
    if best is not None and work.duration_ms:
        pct = round(min(100.0, best.listened_ms * 100 / work.duration_ms), 1)
    context = {"work": work, "completed": completed, "best_pct": pct}
    return render(request, "community/work_play.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def work_new(request: HttpRequest) -> HttpResponse:
    if not has_role(request.user, Role.CREATOR):
        return render(request, "community/work_new.html", {"forbidden": True}, status=403)
    form = WorkPublishForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            work = services.work_publish(
                creator=request.user,  # type: ignore[arg-type]  # login_required
                title=data["title"],
                kind=data["kind"],
                description=data["description"],
                tags=data["tags"],
                media=data["media"],
                cover=data["cover"] or None,
            )
        except ApplicationError as exc:
            form.add_application_error(exc)
        else:
            messages.success(request, _("作品已发布。"))
            return redirect("community:work_play", work_id=work.pk)
    return render(request, "community/work_new.html", {"form": form}, status=200)
