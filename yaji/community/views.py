"""Site pages of the community app: works (play, upload) and the social side — feeds, the
composer, posts with comments, people's profiles, topics and the notification inbox.

HTMX requests (``request.htmx``) get the fragment they swap; plain requests get the page or a
redirect, so every action also works without JavaScript."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from yaji.accounts.models import Role
from yaji.accounts.permissions import has_role
from yaji.catalog.page_cache import CSRF_PLACEHOLDER, PATH_PLACEHOLDER, SHELL_TTL_SECONDS
from yaji.community import challenges, contests, engagement, selectors, services
from yaji.community.errors import WorkNotFound
from yaji.community.forms import CommentForm, PostForm, WorkPublishForm
from yaji.community.fragments import comment_threads_html
from yaji.community.models import Post
from yaji.core.errors import ApplicationError, NotFound
from yaji.risk.services import risk_device_fingerprint


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


# === the social side =============================================================================


def _htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _or_404(call: Any, **kwargs: Any) -> Any:
    try:
        return call(**kwargs)
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(fallback)


def _post_list(request: HttpRequest, page: Any, *, more_url: str | None) -> HttpResponse:
    """The list fragment HTMX appends when "load more" is clicked."""
    return render(
        request,
        "community/partials/post_list.html",
        {"posts": page.items, "more_url": more_url},
    )


def _more_url(request: HttpRequest, **params: Any) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items() if value)
    return f"{request.path}?{query}"


@require_GET
def feed(request: HttpRequest) -> HttpResponse:
    """Following (signed in) or trending; "load more" continues with the cursor / page."""
    signed_in = request.user.is_authenticated
    tab = request.GET.get("tab") or ("following" if signed_in else "trending")
    if tab not in ("following", "trending") or (tab == "following" and not signed_in):
        tab = "trending"
    try:
        if tab == "following":
            page = selectors.feed_following(
                viewer=request.user,  # type: ignore[arg-type]  # signed in
                cursor=request.GET.get("cursor"),
            )
            more = (
                _more_url(request, tab=tab, cursor=page.next_cursor) if page.next_cursor else None
            )
        else:
            raw_page = request.GET.get("page") or "1"
            number = int(raw_page) if raw_page.isdigit() and len(raw_page) < 6 else 1
            trending = selectors.feed_trending(viewer=request.user, page=number)
            page = trending
            more = (
                _more_url(request, tab=tab, page=trending.page + 1) if trending.has_next else None
            )
    except ApplicationError as exc:
        raise Http404(str(exc.message)) from exc
    if _htmx(request) and request.GET.get("fragment") != "page":
        return _post_list(request, page, more_url=more)
    context = {
        "tab": tab,
        "posts": page.items,
        "more_url": more,
        "topics": selectors.topics_popular(limit=12),
        "challenges": challenges.challenges_running(limit=5),
        "unread": selectors.notifications_unread_count(user=request.user),
    }
    return render(request, "community/feed.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def post_new(request: HttpRequest) -> HttpResponse:
    initial = {}
    if topic := request.GET.get("topic"):
        initial["topics"] = topic[:30]
    if work := request.GET.get("work"):
        initial["work_ids"] = work[:20]
    form = PostForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            post = services.post_create(
                author=request.user,  # type: ignore[arg-type]  # login_required
                text=data["text"],
                topics=data["topics"],
                product_ids=data["product_ids"],
                work_ids=data["work_ids"],
                images=data["images"],
                video=data["video"] or None,
            )
        except ApplicationError as exc:
            form.add_application_error(exc)
        else:
            if post.status == "visible":
                messages.success(request, _("动态已发布。"))
            else:
                messages.info(request, _("动态已提交，审核通过后其他人才能看到。"))
            return redirect("community:post_detail", post_id=post.pk)
    return render(request, "community/post_new.html", {"form": form})


def _post_context(
    request: HttpRequest, post: Post, form: CommentForm | None = None, *, csrf: str | None = None
) -> dict:
    comments = selectors.comments_of_post(post=post, viewer=request.user, limit=50)
    return {
        "post": post,
        "threads": comments.threads,
        "threads_html": comment_threads_html(
            comments.threads, post=post, viewer=request.user, csrf_token=csrf or get_token(request)
        ),
        "comment_form": form or CommentForm(),
        "can_delete": request.user.is_authenticated and request.user.pk == post.author_id,
    }


def _without_session(request: HttpRequest) -> bool:
    """A visitor whose header and footer are everyone's (the page cache's rule, ADR 0037)."""
    cookies = request.COOKIES
    return (
        settings.YAJI_PAGE_CACHE
        and request.method == "GET"
        and settings.SESSION_COOKIE_NAME not in cookies
        and "messages" not in cookies
    )


@require_GET
def post_detail(request: HttpRequest, post_id: int) -> HttpResponse:
    post = _or_404(selectors.post_get, post_id=post_id, viewer=request.user)
    if not _without_session(request):
        return render(request, "community/post_detail.html", _post_context(request, post))
    # The shared header and footer come from their fragment cache (web/base.html): rendered with
    # placeholders for the CSRF token and the language form's path, filled in for this visitor.
    context = {
        **_post_context(request, post, csrf=CSRF_PLACEHOLDER),
        "csrf_token": CSRF_PLACEHOLDER,
        "page_path": PATH_PLACEHOLDER,
        "shell_ttl": SHELL_TTL_SECONDS,
    }
    response = render(request, "community/post_detail.html", context)
    response.content = response.content.replace(
        CSRF_PLACEHOLDER.encode(), get_token(request).encode()
    ).replace(PATH_PLACEHOLDER.encode(), escape(request.get_full_path()).encode())
    return response


@login_required
@require_POST
def comment_add(request: HttpRequest, post_id: int) -> HttpResponse:
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.comment_create(
                author=request.user,  # type: ignore[arg-type]  # login_required
                post_id=post_id,
                text=form.cleaned_data["text"],
                parent_id=form.cleaned_data["parent_id"],
            )
        except NotFound as exc:
            raise Http404(str(exc.message)) from exc
        except ApplicationError as exc:
            form.add_error("text", str(exc.message))
        else:
            form = CommentForm()
    post = _or_404(selectors.post_get, post_id=post_id, viewer=request.user)
    context = _post_context(request, post, form)
    status = 422 if form.errors else 200
    if _htmx(request):
        # The post's action bar (its comment count) is refreshed out of band.
        context["oob"] = True
        return render(request, "community/partials/comments.html", context, status=status)
    if not form.errors:
        return redirect(reverse("community:post_detail", args=[post_id]) + "#comments")
    return render(request, "community/post_detail.html", context, status=status)


@login_required
@require_POST
def comment_remove(request: HttpRequest, comment_id: int) -> HttpResponse:
    try:
        services.comment_delete(user=request.user, comment_id=comment_id)  # type: ignore[arg-type]
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    except ApplicationError as exc:
        return HttpResponse(str(exc.message), status=exc.status)
    return _back(request, reverse("community:feed"))


@login_required
@require_POST
def post_react(request: HttpRequest, post_id: int, reaction: str) -> HttpResponse:
    """Toggle a like or a favourite; HTMX swaps the post's action bar."""
    user = request.user
    on = request.POST.get("on") == "1"
    actions = {
        ("like", True): services.like_add,
        ("like", False): services.like_remove,
        ("favourite", True): services.favourite_add,
        ("favourite", False): services.favourite_remove,
    }
    action = actions.get((reaction, on))
    if action is None:
        raise Http404()
    try:
        action(user=user, post_id=post_id)
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    if _htmx(request):
        post = _or_404(selectors.post_get, post_id=post_id, viewer=user)
        return render(request, "community/partials/post_actions.html", {"post": post})
    return _back(request, reverse("community:post_detail", args=[post_id]))


@login_required
@require_POST
def post_share(request: HttpRequest, post_id: int) -> HttpResponse:
    try:
        share = services.share_create(
            user=request.user,  # type: ignore[arg-type]  # login_required
            post_id=post_id,
            channel="web",
        )
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    url = request.build_absolute_uri(reverse("community:share_open", args=[share.code]))
    if _htmx(request):
        return render(
            request, "community/partials/share_link.html", {"url": url, "code": share.code}
        )
    messages.success(request, _("分享链接：%(url)s") % {"url": url})
    return redirect("community:post_detail", post_id=post_id)


@login_required
@require_POST
def post_remove(request: HttpRequest, post_id: int) -> HttpResponse:
    try:
        services.post_delete(user=request.user, post_id=post_id)  # type: ignore[arg-type]
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc
    except ApplicationError as exc:
        return HttpResponse(str(exc.message), status=exc.status)
    messages.success(request, _("动态已删除。"))
    return redirect("community:person_detail", user_id=request.user.pk)


@require_GET
def share_open(request: HttpRequest, code: str) -> HttpResponse:
    """A visit through a share link: remember the code for purchase attribution, show the post."""
    ref = _or_404(selectors.share_resolve, code=code)
    services.share_opened(code=ref.code)
    request.session[selectors.REFERRAL_SESSION_KEY] = ref.code
    return redirect("community:post_detail", post_id=ref.post_id)


@require_GET
def person_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    person = _or_404(selectors.person_get, user_id=user_id)
    try:
        posts = selectors.feed_author(
            author=person, viewer=request.user, cursor=request.GET.get("cursor")
        )
    except ApplicationError as exc:
        raise Http404(str(exc.message)) from exc
    more = _more_url(request, cursor=posts.next_cursor) if posts.next_cursor else None
    if _htmx(request) and request.GET.get("cursor"):
        return _post_list(request, posts, more_url=more)
    context = {
        "person": person,
        "counts": selectors.follow_counts(user=person),
        "is_following": selectors.is_follower(request.user, person),
        "is_me": request.user.pk == person.pk,
        "is_creator": has_role(person, Role.CREATOR),
        "works": selectors.work_list_by_creator(creator=person, limit=12),
        "products": selectors.products_of_person(user=person, limit=8),
        "posts": posts.items,
        "more_url": more,
        "badges": engagement.badges_of(user=person),
        "checkin": engagement.checkin_status(user=person),
    }
    return render(request, "community/person_detail.html", context)


@login_required
@require_POST
def person_follow(request: HttpRequest, user_id: int) -> HttpResponse:
    person = _or_404(selectors.person_get, user_id=user_id)
    try:
        if request.POST.get("on") == "1":
            services.follow_add(follower=request.user, followee_id=person.pk)  # type: ignore[arg-type]
        else:
            services.follow_remove(follower=request.user, followee_id=person.pk)  # type: ignore[arg-type]
    except ApplicationError as exc:
        return HttpResponse(str(exc.message), status=exc.status)
    if _htmx(request):
        context = {
            "person": person,
            "counts": selectors.follow_counts(user=person),
            "is_following": selectors.is_follower(request.user, person),
        }
        return render(request, "community/partials/follow_box.html", context)
    return _back(request, reverse("community:person_detail", args=[person.pk]))


@require_GET
def topic_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "community/topic_list.html", {"topics": selectors.topics_popular(limit=60)}
    )


@require_GET
def topic_detail(request: HttpRequest, slug: str) -> HttpResponse:
    topic = _or_404(selectors.topic_get, slug=slug)
    try:
        page = selectors.feed_topic(
            topic=topic, viewer=request.user, cursor=request.GET.get("cursor")
        )
    except ApplicationError as exc:
        raise Http404(str(exc.message)) from exc
    more = _more_url(request, cursor=page.next_cursor) if page.next_cursor else None
    if _htmx(request) and request.GET.get("cursor"):
        return _post_list(request, page, more_url=more)
    challenge = challenges.challenge_of_topic(topic=topic)
    context = {
        "topic": topic,
        "posts": page.items,
        "more_url": more,
        "challenge": challenge,
        "challenge_state": challenges.challenge_state(challenge) if challenge else "",
    }
    return render(request, "community/topic_detail.html", context)


@login_required
@require_GET
def notifications(request: HttpRequest) -> HttpResponse:
    user = request.user
    try:
        page = selectors.notifications_page(user=user, cursor=request.GET.get("cursor"))  # type: ignore[arg-type]
    except ApplicationError as exc:
        raise Http404(str(exc.message)) from exc
    context = {
        "notifications": page.items,
        "more_url": _more_url(request, cursor=page.next_cursor) if page.next_cursor else None,
        "unread": selectors.notifications_unread_count(user=user),
    }
    return render(request, "community/notifications.html", context)


@login_required
@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    services.notifications_mark_read(user=request.user)  # type: ignore[arg-type]
    return redirect("community:notifications")


# === challenges, design contests, engagement ======================================================


def _client_device(request: HttpRequest) -> str:
    # The browser's device cookie (set by the accounts pages, ``yaji_device``) or an app's
    # X-Device-Id, as risk control's fingerprint.
    raw = request.COOKIES.get("yaji_device", "") or request.headers.get("X-Device-Id", "")
    return risk_device_fingerprint(raw)


@require_GET
def challenge_detail(request: HttpRequest, slug: str) -> HttpResponse:
    challenge = _or_404(challenges.challenge_get, slug=slug)
    context = {
        "challenge": challenge,
        "topic": challenge.topic,
        "state": challenges.challenge_state(challenge),
        "rows": challenges.challenge_leaderboard(challenge=challenge, limit=20),
        "entry_count": challenges.challenge_entry_count(challenge=challenge),
    }
    return render(request, "community/challenge_detail.html", context)


@require_GET
def contest_list(request: HttpRequest) -> HttpResponse:
    items = [(c, contests.contest_phase(c)) for c in contests.contests_list(limit=30)]
    return render(request, "community/contest_list.html", {"contests": items})


def _contest_context(request: HttpRequest, contest: Any) -> dict:
    phase = contests.contest_phase(contest)
    return {
        "contest": contest,
        "phase": phase,
        "submissions": contests.contest_submissions(contest=contest, viewer=request.user),
        "my_vote": contests.contest_vote_of(contest=contest, voter=request.user),
        "tally": contests.contest_tally(contest=contest),
        "show_counts": phase == "published",
    }


@require_GET
def contest_detail(request: HttpRequest, slug: str) -> HttpResponse:
    contest = _or_404(contests.contest_get, slug=slug)
    return render(request, "community/contest_detail.html", _contest_context(request, contest))


@login_required
@require_POST
def contest_submit(request: HttpRequest, slug: str) -> HttpResponse:
    contest = _or_404(contests.contest_get, slug=slug)
    try:
        submission = contests.contest_submit(
            author=request.user,  # type: ignore[arg-type]  # login_required
            contest_id=contest.pk,
            title=request.POST.get("title", ""),
            description=request.POST.get("description", ""),
            image=request.FILES.get("image"),  # type: ignore[arg-type]  # None is refused inside
        )
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
        context = _contest_context(request, contest)
        return render(request, "community/contest_detail.html", context, status=exc.status)
    if submission.status == "visible":
        messages.success(request, _("作品已提交。"))
    else:
        messages.info(request, _("作品已提交，审核通过后其他人才能看到。"))
    return redirect("community:contest_detail", slug=contest.slug)


@login_required
@require_POST
def contest_vote(request: HttpRequest, slug: str, submission_id: int) -> HttpResponse:
    contest = _or_404(contests.contest_get, slug=slug)
    status, error = 200, ""
    try:
        contests.contest_vote(
            voter=request.user,  # type: ignore[arg-type]  # login_required
            contest_id=contest.pk,
            submission_id=submission_id,
            device=_client_device(request),
            ip=request.META.get("REMOTE_ADDR") or None,
        )
    except ApplicationError as exc:
        status, error = exc.status, str(exc.message)
    if _htmx(request):
        # htmx swaps only 2xx answers: the refusal is shown inside the fragment it swaps.
        context = {**_contest_context(request, contest), "vote_error": error}
        return render(request, "community/partials/contest_entries.html", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("投票成功。"))
    if status != 200:
        context = _contest_context(request, contest)
        return render(request, "community/contest_detail.html", context, status=status)
    return redirect("community:contest_detail", slug=contest.slug)


@login_required
@require_POST
def checkin(request: HttpRequest) -> HttpResponse:
    try:
        result = engagement.checkin_today(user=request.user)  # type: ignore[arg-type]
    except ApplicationError as exc:
        messages.info(request, str(exc.message))
    else:
        messages.success(request, _("签到成功，已连续 %(n)d 天。") % {"n": result.checkin.streak})
    return _back(request, reverse("community:person_detail", args=[request.user.pk]))


@require_GET
def leaderboard_weekly(request: HttpRequest) -> HttpResponse:
    rows = engagement.weekly_leaderboard(limit=50)
    week = engagement.week_start(engagement.china_day())
    return render(request, "community/leaderboard.html", {"rows": rows, "week": week})
