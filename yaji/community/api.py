"""The community API: works and verified listening (tag "works"); people, follows, posts,
comments, likes, favourites, shares, topics, feeds and notifications (tag "community").

Thin: each endpoint validates its input (schemas), calls one service or selector, renders."""

from __future__ import annotations

import json

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import File, Form, Path, Query, Router, Status, UploadedFile
from ninja.responses import NinjaJSONEncoder, codes_4xx

from yaji.accounts.auth import api_auth
from yaji.accounts.models import User
from yaji.community import challenges, contests, engagement, selectors, services
from yaji.community.models import Work
from yaji.community.presenters import (
    comment_dict,
    notification_dict,
    person_dict,
    post_dict,
    topic_dict,
)
from yaji.community.schemas import (
    ChallengeOut,
    CheckInOut,
    CommentIn,
    CommentOut,
    CommentPageOut,
    ContestOut,
    ErrorOut,
    FollowOut,
    HeartbeatIn,
    HeartbeatOut,
    MarkedOut,
    MarkReadIn,
    NotificationPageOut,
    PersonCardOut,
    PersonPageOut,
    PlayOut,
    PostIn,
    PostOut,
    PostPageOut,
    ReactionOut,
    ShareIn,
    ShareOut,
    SubmissionIn,
    SubmissionOut,
    TopicIn,
    TopicOut,
    TrendingPageOut,
    UnreadOut,
    VoteIn,
    VoteOut,
    WeeklyRowOut,
    WorkIn,
    WorkOut,
)
from yaji.core.idempotency import idempotent
from yaji.risk.services import risk_device_fingerprint

router = Router(tags=["works"], auth=api_auth)

MAX_ID = 2**63 - 1
ERRORS = {codes_4xx: ErrorOut}
HEARTBEAT_INTERVAL_MS = 5_000


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined, return-value]  # set by api_auth


def work_out(work: Work) -> dict:
    return {
        "id": work.pk,
        "kind": work.kind,
        "title": work.title,
        "description": work.description,
        "tags": list(work.tags or []),
        "media_url": work.media.url,
        "media_format": work.media_format,
        "media_size": work.media_size,
        "duration_ms": work.duration_ms,
        "cover_url": work.cover.url if work.cover else None,
        "creator": {"id": work.creator.pk, "display_name": work.creator.display_name or ""},
        "published_at": work.published_at,
    }


@router.post(
    "/works",
    response={201: WorkOut, **ERRORS},
    summary="Publish a work (creators; multipart; format and duration are read from the file)",
)
@idempotent
def work_create(
    request: HttpRequest,
    payload: Form[WorkIn],
    media: File[UploadedFile],
    cover: File[UploadedFile | None] = None,
):
    work = services.work_publish(
        creator=_user(request),
        title=payload.title,
        kind=payload.kind,
        description=payload.description,
        tags=payload.tags,
        media=media,
        cover=cover,
    )
    return Status(201, work_out(work))


@router.get("/works/{work_id}", auth=None, response={200: WorkOut, **ERRORS}, summary="A work")
def work_detail(request: HttpRequest, work_id: int = Path(..., ge=1, le=MAX_ID)):
    return work_out(selectors.work_get(work_id=work_id))


@router.post(
    "/works/{work_id}/plays",
    response={201: PlayOut, **ERRORS},
    summary="Start a verified play: returns a play token for heartbeats",
)
def play_create(request: HttpRequest, work_id: int = Path(..., ge=1, le=MAX_ID)):
    work = selectors.work_get(work_id=work_id)
    session, token = services.play_start(user=_user(request), work=work)
    return Status(
        201,
        {
            "token": token,
            "session_id": session.pk,
            "duration_ms": work.duration_ms,
            "expires_at": session.expires_at,
            "heartbeat_interval_ms": HEARTBEAT_INTERVAL_MS,
        },
    )


@router.post(
    "/plays/heartbeat",
    response={200: HeartbeatOut, **ERRORS},
    summary="Report the player's position; returns the verified progress",
)
def play_heartbeat(request: HttpRequest, payload: HeartbeatIn):
    progress = services.play_heartbeat(
        user=_user(request), token=payload.token, position_ms=payload.position_ms
    )
    return {
        "listened_ms": progress.listened_ms,
        "coverage_pct": progress.coverage_pct,
        "completed": progress.completed,
        "max_position_ms": progress.session.max_position_ms,
    }


# === the social side (tag "community") ==========================================================

social = Router(tags=["community"], auth=api_auth)
CURSOR = Query(None, max_length=64)
LIMIT = Query(20, ge=1, le=50)


def _anyone(request: HttpRequest) -> AnonymousUser:
    # Last in an auth list: the endpoint is public, and a signed-in caller is still recognised.
    return AnonymousUser()


OPTIONAL_AUTH = [*api_auth, _anyone]


def _ids(raw: str) -> list[int]:
    return [int(part) for part in raw.replace(" ", "").split(",") if part]


def _posts(page) -> dict:  # type: ignore[no-untyped-def]
    return {"items": [post_dict(p) for p in page.items], "next_cursor": page.next_cursor}


def _posts_json(page) -> HttpResponse:  # type: ignore[no-untyped-def]
    """A feed page whose items are ``post_dict``'s dicts already (``as_dicts=True``, built from
    the rows, ADR 0046), answered without ninja re-validating them through ``PostPageOut``: the
    validation was a tenth of the feed's time (ADR 0041). Encoded like ninja's own renderer, so
    the bytes are the same (a test compares them); the schema still documents the answer."""
    body = {"items": page.items, "next_cursor": page.next_cursor}
    return HttpResponse(json.dumps(body, cls=NinjaJSONEncoder), content_type="application/json")


def _share_out(request: HttpRequest, ref) -> dict:  # type: ignore[no-untyped-def]
    return {
        "code": ref.code,
        "post_id": ref.post_id,
        "sharer_id": ref.sharer_id,
        "url": request.build_absolute_uri(reverse("community:share_open", args=[ref.code])),
        "created_at": ref.created_at,
    }


# --- people and follows --------------------------------------------------------------------------


@social.get(
    "/people/{user_id}",
    auth=OPTIONAL_AUTH,
    response={200: PersonCardOut, **ERRORS},
    summary="A person's card: follower and following counts, and whether the caller follows",
)
def person_card(request: HttpRequest, user_id: int = Path(..., ge=1, le=MAX_ID)):
    person = selectors.person_get(user_id=user_id)
    counts = selectors.follow_counts(user=person)
    return {
        **person_dict(person),
        "followers": counts.followers,
        "following": counts.following,
        "is_following": selectors.is_follower(request.auth, person),  # type: ignore[attr-defined]
    }


def _follow_out(follower: User, followee_id: int, *, changed: bool) -> dict:
    return {
        "following": selectors.is_follower(follower, followee_id),
        "changed": changed,
        "followers": selectors.follow_counts(
            user=selectors.person_get(user_id=followee_id)
        ).followers,
    }


@social.post(
    "/people/{user_id}/follow",
    response={200: FollowOut, **ERRORS},
    summary="Follow (idempotent; following yourself is cannot_follow_self)",
)
def follow(request: HttpRequest, user_id: int = Path(..., ge=1, le=MAX_ID)):
    changed = services.follow_add(follower=_user(request), followee_id=user_id)
    return _follow_out(_user(request), user_id, changed=changed)


@social.delete(
    "/people/{user_id}/follow", response={200: FollowOut, **ERRORS}, summary="Unfollow (idempotent)"
)
def unfollow(request: HttpRequest, user_id: int = Path(..., ge=1, le=MAX_ID)):
    selectors.person_get(user_id=user_id)
    changed = services.follow_remove(follower=_user(request), followee_id=user_id)
    return _follow_out(_user(request), user_id, changed=changed)


@social.get(
    "/people/{user_id}/followers",
    auth=None,
    response={200: PersonPageOut, **ERRORS},
    summary="Who follows this person, newest first (cursor-paginated)",
)
def followers(
    request: HttpRequest,
    user_id: int = Path(..., ge=1, le=MAX_ID),
    cursor: str | None = CURSOR,
    limit: int = LIMIT,
):
    page = selectors.followers_page(
        user=selectors.person_get(user_id=user_id), cursor=cursor, limit=limit
    )
    return {"items": [person_dict(u) for u in page.items], "next_cursor": page.next_cursor}


@social.get(
    "/people/{user_id}/following",
    auth=None,
    response={200: PersonPageOut, **ERRORS},
    summary="Whom this person follows, newest first (cursor-paginated)",
)
def following(
    request: HttpRequest,
    user_id: int = Path(..., ge=1, le=MAX_ID),
    cursor: str | None = CURSOR,
    limit: int = LIMIT,
):
    page = selectors.following_page(
        user=selectors.person_get(user_id=user_id), cursor=cursor, limit=limit
    )
    return {"items": [person_dict(u) for u in page.items], "next_cursor": page.next_cursor}


@social.get(
    "/people/{user_id}/posts",
    auth=OPTIONAL_AUTH,
    response={200: PostPageOut, **ERRORS},
    summary="A person's posts, newest first (cursor-paginated)",
)
def person_posts(
    request: HttpRequest,
    user_id: int = Path(..., ge=1, le=MAX_ID),
    cursor: str | None = CURSOR,
    limit: int = LIMIT,
):
    author = selectors.person_get(user_id=user_id)
    return _posts(
        selectors.feed_author(author=author, viewer=request.auth, cursor=cursor, limit=limit)  # type: ignore[attr-defined]
    )


# --- posts ---------------------------------------------------------------------------------------


@social.post(
    "/posts",
    response={201: PostOut, **ERRORS},
    summary="Publish a post (multipart: text, up to 9 images or one video, topics, tags)",
)
@idempotent
def post_create(
    request: HttpRequest,
    payload: Form[PostIn],
    images: File[list[UploadedFile]] = None,  # type: ignore[assignment]  # optional upload list
    video: File[UploadedFile | None] = None,
):
    post = services.post_create(
        author=_user(request),
        text=payload.text,
        topics=payload.topics,
        product_ids=_ids(payload.product_ids),
        work_ids=_ids(payload.work_ids),
        images=list(images or []),
        video=video,
    )
    return Status(201, post_dict(selectors.post_get(post_id=post.pk, viewer=_user(request))))


@social.get(
    "/posts/{post_id}",
    auth=OPTIONAL_AUTH,
    response={200: PostOut, **ERRORS},
    summary="A post (held or blocked ones only for their author)",
)
def post_detail(request: HttpRequest, post_id: int = Path(..., ge=1, le=MAX_ID)):
    return post_dict(selectors.post_get(post_id=post_id, viewer=request.auth))  # type: ignore[attr-defined]


@social.delete("/posts/{post_id}", response={204: None, **ERRORS}, summary="Delete your post")
def post_delete(request: HttpRequest, post_id: int = Path(..., ge=1, le=MAX_ID)):
    services.post_delete(user=_user(request), post_id=post_id)
    return Status(204, None)


@social.get(
    "/posts/{post_id}/comments",
    auth=OPTIONAL_AUTH,
    response={200: CommentPageOut, **ERRORS},
    summary="Comment threads of a post, oldest first, each with its replies (cursor-paginated)",
)
def comment_list(
    request: HttpRequest,
    post_id: int = Path(..., ge=1, le=MAX_ID),
    cursor: str | None = CURSOR,
    limit: int = LIMIT,
):
    viewer = request.auth  # type: ignore[attr-defined]
    post = selectors.post_get(post_id=post_id, viewer=viewer)
    page = selectors.comments_of_post(post=post, viewer=viewer, cursor=cursor, limit=limit)
    return {
        "threads": [
            {
                "comment": comment_dict(thread.comment),
                "replies": [comment_dict(r) for r in thread.replies],
            }
            for thread in page.threads
        ],
        "next_cursor": page.next_cursor,
    }


@social.post(
    "/posts/{post_id}/comments",
    response={201: CommentOut, **ERRORS},
    summary="Comment on a post, or reply to a comment with parent_id",
)
@idempotent
def comment_create(
    request: HttpRequest, payload: CommentIn, post_id: int = Path(..., ge=1, le=MAX_ID)
):
    comment = services.comment_create(
        author=_user(request), post_id=post_id, text=payload.text, parent_id=payload.parent_id
    )
    return Status(201, comment_dict(comment))


@social.delete(
    "/comments/{comment_id}",
    response={204: None, **ERRORS},
    summary="Delete a comment (its author or the post's author)",
)
def comment_delete(request: HttpRequest, comment_id: int = Path(..., ge=1, le=MAX_ID)):
    services.comment_delete(user=_user(request), comment_id=comment_id)
    return Status(204, None)


def _reaction(post_id: int, field: str, *, active: bool, changed: bool) -> dict:
    counters = selectors.post_counters(post_id=post_id)
    return {"active": active, "changed": changed, "count": counters[field]}


@social.post("/posts/{post_id}/like", response={200: ReactionOut, **ERRORS}, summary="Like")
def like(request: HttpRequest, post_id: int = Path(..., ge=1, le=MAX_ID)):
    changed = services.like_add(user=_user(request), post_id=post_id)
    return _reaction(post_id, "like_count", active=True, changed=changed)


@social.delete("/posts/{post_id}/like", response={200: ReactionOut, **ERRORS}, summary="Unlike")
def unlike(request: HttpRequest, post_id: int = Path(..., ge=1, le=MAX_ID)):
    changed = services.like_remove(user=_user(request), post_id=post_id)
    return _reaction(post_id, "like_count", active=False, changed=changed)


@social.post("/posts/{post_id}/favourite", response={200: ReactionOut, **ERRORS}, summary="Save")
def favourite(request: HttpRequest, post_id: int = Path(..., ge=1, le=MAX_ID)):
    changed = services.favourite_add(user=_user(request), post_id=post_id)
    return _reaction(post_id, "favourite_count", active=True, changed=changed)


@social.delete(
    "/posts/{post_id}/favourite", response={200: ReactionOut, **ERRORS}, summary="Unsave"
)
def unfavourite(request: HttpRequest, post_id: int = Path(..., ge=1, le=MAX_ID)):
    changed = services.favourite_remove(user=_user(request), post_id=post_id)
    return _reaction(post_id, "favourite_count", active=False, changed=changed)


@social.post(
    "/posts/{post_id}/shares",
    response={201: ShareOut, **ERRORS},
    summary="Share a post: a link with a referral code later purchases are attributed to",
)
def share_create(request: HttpRequest, payload: ShareIn, post_id: int = Path(..., ge=1, le=MAX_ID)):
    share = services.share_create(user=_user(request), post_id=post_id, channel=payload.channel)
    return Status(201, _share_out(request, selectors.share_resolve(share.code)))


@social.get(
    "/shares/{code}",
    auth=None,
    response={200: ShareOut, **ERRORS},
    summary="Resolve a referral code to its post and sharer",
)
def share_resolve(request: HttpRequest, code: str = Path(..., min_length=1, max_length=16)):
    return _share_out(request, selectors.share_resolve(code))


@social.get(
    "/me/favourites",
    response={200: PostPageOut, **ERRORS},
    summary="Posts you saved, most recently saved first (cursor-paginated)",
)
def my_favourites(request: HttpRequest, cursor: str | None = CURSOR, limit: int = LIMIT):
    return _posts(selectors.feed_favourites(user=_user(request), cursor=cursor, limit=limit))


# --- feeds and topics ----------------------------------------------------------------------------


@social.get(
    "/feed/following",
    response={200: PostPageOut, **ERRORS},
    summary="Posts of the people you follow and your own, newest first (cursor-paginated)",
)
def feed_following(request: HttpRequest, cursor: str | None = CURSOR, limit: int = LIMIT):
    page = selectors.feed_following(
        viewer=_user(request), cursor=cursor, limit=limit, as_dicts=True
    )
    return _posts_json(page)


@social.get(
    "/feed/trending",
    auth=OPTIONAL_AUTH,
    response={200: TrendingPageOut, **ERRORS},
    summary="The week's posts ranked by engagement decayed with age (page-numbered)",
)
def feed_trending(request: HttpRequest, page: int = Query(1, ge=1, le=100), limit: int = LIMIT):
    result = selectors.feed_trending(viewer=request.auth, page=page, limit=limit)  # type: ignore[attr-defined]
    return {
        "items": [post_dict(p) for p in result.items],
        "page": result.page,
        "has_next": result.has_next,
    }


@social.get(
    "/topics", auth=None, response={200: list[TopicOut], **ERRORS}, summary="Popular topics"
)
def topic_list(request: HttpRequest, limit: int = LIMIT):
    return [topic_dict(t) for t in selectors.topics_popular(limit=limit)]


@social.post(
    "/topics",
    response={200: TopicOut, **ERRORS},
    summary="Create a topic or edit its description (operators)",
)
def topic_upsert(request: HttpRequest, payload: TopicIn):
    topic = services.topic_upsert(
        actor=_user(request), name=payload.name, description=payload.description
    )
    return topic_dict(topic)


@social.get("/topics/{slug}", auth=None, response={200: TopicOut, **ERRORS}, summary="A topic")
def topic_detail(request: HttpRequest, slug: str = Path(..., min_length=1, max_length=60)):
    return topic_dict(selectors.topic_get(slug=slug))


@social.get(
    "/topics/{slug}/posts",
    auth=OPTIONAL_AUTH,
    response={200: PostPageOut, **ERRORS},
    summary="A topic's posts, newest first (cursor-paginated)",
)
def topic_posts(
    request: HttpRequest,
    slug: str = Path(..., min_length=1, max_length=60),
    cursor: str | None = CURSOR,
    limit: int = LIMIT,
):
    topic = selectors.topic_get(slug=slug)
    return _posts(
        selectors.feed_topic(topic=topic, viewer=request.auth, cursor=cursor, limit=limit)  # type: ignore[attr-defined]
    )


# --- notifications -------------------------------------------------------------------------------


@social.get(
    "/notifications",
    response={200: NotificationPageOut, **ERRORS},
    summary="Your inbox, newest first (cursor-paginated), with the unread count",
)
def notification_list(
    request: HttpRequest,
    cursor: str | None = CURSOR,
    limit: int = LIMIT,
    unread_only: bool = False,
):
    user = _user(request)
    page = selectors.notifications_page(
        user=user, cursor=cursor, limit=limit, unread_only=unread_only
    )
    return {
        "items": [notification_dict(n) for n in page.items],
        "next_cursor": page.next_cursor,
        "unread": selectors.notifications_unread_count(user=user),
    }


@social.get("/notifications/unread", response={200: UnreadOut, **ERRORS}, summary="Unread count")
def notification_unread(request: HttpRequest):
    return {"unread": selectors.notifications_unread_count(user=_user(request))}


@social.post(
    "/notifications/read",
    response={200: MarkedOut, **ERRORS},
    summary="Mark notifications read (the given ids, or all)",
)
def notification_mark_read(request: HttpRequest, payload: MarkReadIn):
    user = _user(request)
    marked = services.notifications_mark_read(user=user, ids=payload.ids)
    return {"marked": marked, "unread": selectors.notifications_unread_count(user=user)}


router.add_router("", social)


# --- challenges, design contests, engagement -----------------------------------------------------


@social.get(
    "/challenges/{slug}",
    auth=None,
    response={200: ChallengeOut, **ERRORS},
    summary="A challenge (by its topic's slug) with its leaderboard",
)
def challenge_detail(request: HttpRequest, slug: str = Path(..., min_length=1, max_length=60)):
    challenge = challenges.challenge_get(slug=slug)
    rows = challenges.challenge_leaderboard(challenge=challenge, limit=20)
    return {
        "topic": challenge.topic.name,
        "slug": challenge.topic.slug,
        "title": challenge.title,
        "rules": challenge.rules,
        "prizes": challenge.prizes,
        "starts_at": challenge.starts_at,
        "ends_at": challenge.ends_at,
        "state": challenges.challenge_state(challenge),
        "entry_count": challenges.challenge_entry_count(challenge=challenge),
        "leaderboard": [
            {"rank": r.rank, "score": r.score, "post_id": r.post.pk, "author_id": r.post.author_id}
            for r in rows
        ],
    }


def _submission_out(s) -> dict:  # type: ignore[no-untyped-def]
    return {
        "id": s.pk,
        "title": s.title,
        "description": s.description,
        "author_id": s.author_id,
        "image_url": s.image.url if s.image else "",
        "status": s.status,
        "final_votes": s.final_votes,
    }


@social.get(
    "/contests/{slug}",
    auth=OPTIONAL_AUTH,
    response={200: ContestOut, **ERRORS},
    summary="A design contest with its designs (vote counts once the results are out)",
)
def contest_detail(request: HttpRequest, slug: str = Path(..., min_length=1, max_length=60)):
    contest = contests.contest_get(slug=slug)
    viewer = request.auth  # type: ignore[attr-defined]
    return {
        "id": contest.pk,
        "slug": contest.slug,
        "title": contest.title,
        "brief": contest.brief,
        "prizes": contest.prizes,
        "submissions_open_at": contest.submissions_open_at,
        "submissions_close_at": contest.submissions_close_at,
        "voting_open_at": contest.voting_open_at,
        "voting_close_at": contest.voting_close_at,
        "phase": contests.contest_phase(contest),
        "results_published_at": contest.results_published_at,
        "winner_submission_id": contest.winner_id,
        "product_id": contest.product_id,
        "submissions": [
            _submission_out(s) for s in contests.contest_submissions(contest=contest, viewer=viewer)
        ],
    }


@social.post(
    "/contests/{slug}/submissions",
    response={201: SubmissionOut, **ERRORS},
    summary="Enter a design (multipart: title, description, image) during the submission window",
)
def contest_submit(
    request: HttpRequest,
    payload: Form[SubmissionIn],
    image: File[UploadedFile],
    slug: str = Path(..., min_length=1, max_length=60),
):
    contest = contests.contest_get(slug=slug)
    submission = contests.contest_submit(
        author=_user(request),
        contest_id=contest.pk,
        title=payload.title,
        description=payload.description,
        image=image,
    )
    return Status(201, _submission_out(submission))


@social.post(
    "/contests/{slug}/votes",
    response={201: VoteOut, **ERRORS},
    summary="Vote for a design (real-name-verified accounts, once per contest, voting window)",
)
def contest_vote(
    request: HttpRequest, payload: VoteIn, slug: str = Path(..., min_length=1, max_length=60)
):
    contest = contests.contest_get(slug=slug)
    vote = contests.contest_vote(
        voter=_user(request),
        contest_id=contest.pk,
        submission_id=payload.submission_id,
        device=risk_device_fingerprint(request.headers.get("X-Device-Id", "")),
        ip=request.META.get("REMOTE_ADDR") or None,
    )
    return Status(
        201, {"id": vote.pk, "submission_id": vote.submission_id, "flagged": vote.flagged}
    )


@social.post(
    "/checkins",
    response={201: CheckInOut, **ERRORS},
    summary="Check in for today (China day); returns the streak and any new badges",
)
def checkin(request: HttpRequest):
    result = engagement.checkin_today(user=_user(request))
    return Status(
        201,
        {
            "day": result.checkin.day.isoformat(),
            "streak": result.checkin.streak,
            "new_badges": result.new_badges,
        },
    )


@social.get(
    "/leaderboards/weekly",
    auth=None,
    response={200: list[WeeklyRowOut], **ERRORS},
    summary="This week's most engaged people (Monday 00:00 Beijing time onwards)",
)
def leaderboard_weekly(request: HttpRequest, limit: int = LIMIT):
    return [
        {
            "rank": r.rank,
            "user_id": r.user.pk,
            "display_name": str(r.user),
            "points": r.points,
        }
        for r in engagement.weekly_leaderboard(limit=limit)
    ]
