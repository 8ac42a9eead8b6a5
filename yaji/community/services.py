"""Writes of the community app: publishing works and verified listening."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from yaji.accounts.models import Role, User
from yaji.accounts.permissions import has_role, require_role
from yaji.catalog import selectors as catalog_selectors
from yaji.community.engagement import badges_evaluate
from yaji.community.errors import (
    CannotFollowSelf,
    CommentNotFound,
    InvalidComment,
    InvalidPost,
    InvalidTopic,
    InvalidWork,
    PlayExpired,
    PlayNotFound,
    PostNotFound,
    UnknownTag,
    UnsupportedKind,
    UserNotFound,
    WorkNotPlayable,
)
from yaji.community.listening import PlayState, heartbeat_apply
from yaji.community.media import cover_probe, media_probe, stored_name
from yaji.community.models import (
    Comment,
    ContestSubmission,
    Favourite,
    Follow,
    Like,
    Notification,
    NotificationKind,
    PlaySession,
    Post,
    PostImage,
    Share,
    Topic,
    Visibility,
    Work,
    WorkKind,
    WorkStatus,
)
from yaji.community.post_media import PostPicture, pictures_process, video_probe
from yaji.community.post_media import stored_name as post_stored_name
from yaji.core import clock
from yaji.core.errors import ApplicationError, PermissionDenied
from yaji.core.models import OutboxEvent
from yaji.core.outbox import consume_once, outbox_publish
from yaji.moderation.services import moderation_screen

TITLE_MAX = 120
DESCRIPTION_MAX = 10_000
TAGS_MAX = 10
TAG_MAX_CHARS = 20
# A token lives twice the track's length plus ten minutes: pauses are fine, replays take a new one.
PLAY_GRACE = timedelta(minutes=10)


def tags_normalize(tags: list[str] | str | None) -> list[str]:
    """Trimmed, '#'-less, de-duplicated (case-insensitively) tags; commas split a string."""
    if tags is None:
        return []
    raw = tags.replace("，", ",").split(",") if isinstance(tags, str) else tags
    seen: set[str] = set()
    out: list[str] = []
    for tag in raw:
        clean = " ".join(str(tag).strip().lstrip("#").split())
        if not clean or clean.casefold() in seen:
            continue
        if len(clean) > TAG_MAX_CHARS:
            raise InvalidWork(
                _("每个标签不超过 20 个字。"), extra={"field": "tags", "tag": clean[:40]}
            )
        seen.add(clean.casefold())
        out.append(clean)
    if len(out) > TAGS_MAX:
        raise InvalidWork(_("最多 10 个标签。"), extra={"field": "tags"})
    return out


@transaction.atomic(durable=True)
def work_publish(
    *,
    creator: User,
    title: str,
    kind: str,
    media: UploadedFile,
    description: str = "",
    tags: list[str] | str | None = None,
    cover: UploadedFile | None = None,
) -> Work:
    """Publish a work. Only creators; format and duration are read from the file itself."""
    require_role(creator, Role.CREATOR)
    title = (title or "").strip()
    if _has_control_chars(f"{title}{description}{tags or ''}"):
        raise InvalidWork(extra={"field": "description", "reason": "control_characters"})
    if not title or len(title) > TITLE_MAX:
        raise InvalidWork(_("标题须为 1 到 120 个字。"), extra={"field": "title"})
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise InvalidWork(_("简介不超过 10000 个字。"), extra={"field": "description"})
    if kind not in WorkKind.values:
        raise UnsupportedKind(extra={"field": "kind"})
    if kind == WorkKind.VIDEO:
        # No video parser yet: rather than trust a client's duration, video waits.
        raise UnsupportedKind(_("视频作品暂未开放上传。"), extra={"field": "kind"})
    clean_tags = tags_normalize(tags)
    probed = media_probe(upload=media, audio=kind == WorkKind.AUDIO)
    cover_format = cover_probe(upload=cover) if cover is not None else None

    work = Work(
        creator=creator,
        kind=kind,
        title=title,
        description=description,
        tags=clean_tags,
        media_format=probed.format,
        media_size=probed.size,
        duration_ms=probed.duration_ms,
        status=WorkStatus.PUBLISHED,
        published_at=clock.now(),
    )
    media.seek(0)
    work.media.save(stored_name(probed.format), media, save=False)
    if cover is not None and cover_format is not None:
        cover.seek(0)
        work.cover.save(stored_name(cover_format), cover, save=False)
    # Files written but the row not committed are removed again.
    names = [f.name for f in (work.media, work.cover) if f]
    storage = work.media.storage
    try:
        work.save()
        # Screened like a post, so it can be reported; held or blocked works stay hidden.
        screened = _screen(
            kind=SCREEN_KIND_WORK,
            object_id=work.pk,
            author=creator,
            text="\n".join([title, description, *clean_tags]),
            images=[],
        )
        if screened != Visibility.VISIBLE:
            work.status = WorkStatus.HIDDEN
            work.save(update_fields=["status", "updated_at"])
    except Exception:
        for name in names:
            storage.delete(name)
        raise
    return work


def _token_hash(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


@transaction.atomic(durable=True)
def play_start(*, user: User, work: Work) -> tuple[PlaySession, str]:
    """Issue a play token for ``work``. The raw token is returned once; only its hash is kept."""
    if work.status != WorkStatus.PUBLISHED:
        raise PlayNotFound()
    if not work.playable:
        raise WorkNotPlayable()
    raw_token = secrets.token_urlsafe(32)
    now = clock.now()
    session = PlaySession.objects.create(
        user=user,
        work=work,
        token_hash=_token_hash(raw_token),
        issued_at=now,
        expires_at=now + timedelta(milliseconds=work.duration_ms * 2) + PLAY_GRACE,
        last_heartbeat_at=now,
    )
    return session, raw_token


@dataclass(frozen=True)
class PlayProgress:
    session: PlaySession
    listened_ms: int
    coverage_pct: float
    completed: bool


def _ms(delta: timedelta) -> int:
    return int(delta.total_seconds() * 1000)


@transaction.atomic(durable=True)
def play_heartbeat(*, user: User, token: str, position_ms: int) -> PlayProgress:
    """Record where the player of ``user`` is. Credits only plausible, real-time progress.

    Raises play_not_found (unknown token, or another user's) and play_expired.
    """
    session = (
        PlaySession.objects.select_for_update()
        .select_related("work")
        .filter(token_hash=_token_hash(token or ""), user=user)
        .first()
    )
    if session is None:
        raise PlayNotFound()
    now = clock.now()
    if now >= session.expires_at:
        raise PlayExpired()
    work = session.work
    before = PlayState(
        duration_ms=work.duration_ms,
        last_at_ms=_ms(session.last_heartbeat_at - session.issued_at),
        last_position_ms=session.last_position_ms,
        max_position_ms=session.max_position_ms,
        coverage=tuple((int(s), int(e)) for s, e in session.coverage),
    )
    after = heartbeat_apply(before, at_ms=_ms(now - session.issued_at), position_ms=position_ms)
    session.last_heartbeat_at = max(now, session.last_heartbeat_at)
    session.last_position_ms = after.last_position_ms
    session.max_position_ms = after.max_position_ms
    session.coverage = [list(interval) for interval in after.coverage]
    session.listened_ms = after.listened_ms
    session.heartbeats += 1
    if after.complete and session.completed_at is None:
        session.completed_at = now
    session.save()
    return PlayProgress(
        session=session,
        listened_ms=after.listened_ms,
        coverage_pct=after.coverage_pct,
        completed=session.completed_at is not None,
    )


# === the social side: follows, posts, comments, reactions, shares, notifications ================
#
# Every top-level service below is one durable transaction. Counters on Post move with the rows
# they count (an F() update in the same transaction as the insert/delete), and inserts race on
# unique constraints, so under any interleaving like_count == number of Like rows.

MENTION_RE = re.compile(r"@([^\s@#，。！？、,.!?:：;；()（）\[\]]{1,32})")
HASHTAG_RE = re.compile(r"#([^\s@#，。！？、,.!?:：;；()（）\[\]<>&\"']{1,30})#?")
POST_TEXT_MAX = 2_000
COMMENT_TEXT_MAX = 1_000
TOPICS_PER_POST_MAX = 5
TAGGED_MAX = 10
MENTIONS_MAX = 10
TOPIC_DESCRIPTION_MAX = 2_000
SCREEN_KIND_POST = "community.post"
SCREEN_KIND_COMMENT = "community.comment"
SCREEN_KIND_WORK = "community.work"
SCREEN_KIND_SUBMISSION = "community.contest_submission"


_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _has_control_chars(text: str) -> bool:
    """NUL and other control characters: PostgreSQL refuses NUL in text, and none belong in
    what people write (tabs and line breaks are fine)."""
    return bool(_CONTROL_RE.search(text or ""))


def _live_user(user_id: int) -> User:
    user = User.objects.filter(pk=user_id, is_active=True, deleted_at__isnull=True).first()
    if user is None:
        raise UserNotFound()
    return user


def _notify(
    *,
    recipient_id: int,
    actor: User | None,
    kind: str,
    post: Post | None = None,
    comment: Comment | None = None,
    text: str = "",
) -> Notification | None:
    """One inbox entry plus its outbox event (push / SMS adapters subscribe to it)."""
    if actor is not None and actor.pk == recipient_id:
        return None  # nobody is told about their own doing
    notification = Notification.objects.create(
        recipient_id=recipient_id,
        actor=actor,
        kind=kind,
        post=post,
        comment=comment,
        text=text[:500],
    )
    outbox_publish(
        topic="community.notification_created",
        key=str(recipient_id),
        payload={
            "id": notification.pk,
            "recipient_id": recipient_id,
            "kind": kind,
            "actor_id": actor.pk if actor else None,
            "post_id": post.pk if post else None,
            "comment_id": comment.pk if comment else None,
        },
    )
    return notification


def _mentioned_ids(text: str, *, exclude: set[int]) -> list[int]:
    """Users named as ``@昵称`` (the whole display name, or its first word)."""
    names = list(dict.fromkeys(MENTION_RE.findall(text or "")))[:MENTIONS_MAX]
    if not names:
        return []
    match = Q()
    for name in names:
        match |= Q(display_name=name) | Q(display_name__startswith=f"{name} ")
    ids = (
        User.objects.filter(match, is_active=True, deleted_at__isnull=True)
        .exclude(pk__in=exclude)
        .order_by("pk")
        .values_list("pk", flat=True)[:MENTIONS_MAX]
    )
    return list(ids)


def _screen(*, kind: str, object_id: int, author: User, text: str, images: list[bytes]) -> str:
    result = moderation_screen(
        kind=kind, object_id=object_id, author=author, text=text, images=images or None
    )
    return str(result.status)


# --- follows -------------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def follow_add(*, follower: User, followee_id: int) -> bool:
    """Follow a user. Idempotent: True when a new edge was made, False when it existed."""
    if follower.pk == followee_id:
        raise CannotFollowSelf()
    followee = _live_user(followee_id)
    try:
        with transaction.atomic():
            Follow.objects.create(follower=follower, followee=followee)
    except IntegrityError:
        return False  # already following (or a concurrent twin got there first)
    _notify(recipient_id=followee.pk, actor=follower, kind=NotificationKind.FOLLOW)
    return True


@transaction.atomic(durable=True)
def follow_remove(*, follower: User, followee_id: int) -> bool:
    """Unfollow. Idempotent: True when an edge was removed."""
    if follower.pk == followee_id:
        raise CannotFollowSelf()
    deleted, _ = Follow.objects.filter(follower=follower, followee_id=followee_id).delete()
    return deleted > 0


# --- topics --------------------------------------------------------------------------------------


def topic_name_clean(name: str) -> str:
    clean = (name or "").strip().strip("#").strip()
    if (
        not clean
        or len(clean) > 30
        or _has_control_chars(clean)
        or not HASHTAG_RE.fullmatch(f"#{clean}")
    ):
        raise InvalidTopic(extra={"field": "topics", "topic": (name or "")[:40]})
    return clean


def _topic_slug(name: str) -> str:
    base = slugify(name, allow_unicode=True)[:50] or "topic"
    if not Topic.objects.filter(slug=base).exclude(name__iexact=name).exists():
        return base
    return f"{base}-{hashlib.sha256(name.casefold().encode()).hexdigest()[:8]}"


def _topics_ensure(names: list[str], *, actor: User | None) -> list[Topic]:
    topics: list[Topic] = []
    for name in names:
        topic = Topic.objects.filter(name__iexact=name).first()
        if topic is None:
            try:
                with transaction.atomic():
                    topic = Topic.objects.create(
                        name=name, slug=_topic_slug(name), created_by=actor
                    )
            except IntegrityError:  # made by a concurrent post a moment ago
                topic = Topic.objects.filter(name__iexact=name).first()
                if topic is None:
                    raise
        topics.append(topic)
    return topics


@transaction.atomic(durable=True)
def topic_upsert(*, actor: User, name: str, description: str = "") -> Topic:
    """Create a topic or edit its description (operators and reviewers)."""
    if not (actor.is_staff or has_role(actor, Role.OPERATOR)):
        raise PermissionDenied()
    clean = topic_name_clean(name)
    description = (description or "").strip()
    if len(description) > TOPIC_DESCRIPTION_MAX or _has_control_chars(description):
        raise InvalidTopic(extra={"field": "description"})
    (topic,) = _topics_ensure([clean], actor=actor)
    if topic.description != description:
        topic.description = description
        topic.save(update_fields=["description", "updated_at"])
    return topic


# --- posts ---------------------------------------------------------------------------------------


def _topic_names(text: str, topics: list[str] | str | None) -> list[str]:
    raw = topics.replace("，", ",").split(",") if isinstance(topics, str) else list(topics or [])
    names = [topic_name_clean(t) for t in raw if str(t).strip().strip("#").strip()]
    names += HASHTAG_RE.findall(text)
    unique: dict[str, str] = {}
    for name in names:
        unique.setdefault(name.casefold(), name)
    if len(unique) > TOPICS_PER_POST_MAX:
        raise InvalidTopic(
            _("每条动态最多 5 个话题。"), extra={"field": "topics", "max": TOPICS_PER_POST_MAX}
        )
    return list(unique.values())


def _ids_clean(ids: list[int] | None, field: str) -> list[int]:
    clean = list(dict.fromkeys(int(i) for i in ids or []))
    if len(clean) > TAGGED_MAX or any(not 0 < i < 2**63 for i in clean):
        raise InvalidPost(extra={"field": field, "max": TAGGED_MAX})
    return clean


def _tagged_products(ids: list[int]) -> list[int]:
    for product_id in ids:
        try:
            catalog_selectors.product_get_public(product_id=product_id)
        except ApplicationError as exc:
            raise UnknownTag(extra={"field": "product_ids", "id": product_id}) from exc
    return ids


def _tagged_works(ids: list[int]) -> list[int]:
    found = set(
        Work.objects.filter(pk__in=ids, status=WorkStatus.PUBLISHED).values_list("pk", flat=True)
    )
    missing = [i for i in ids if i not in found]
    if missing:
        raise UnknownTag(extra={"field": "work_ids", "id": missing[0]})
    return ids


def post_create(
    *,
    author: User,
    text: str = "",
    topics: list[str] | str | None = None,
    product_ids: list[int] | None = None,
    work_ids: list[int] | None = None,
    images: list[UploadedFile] | None = None,
    video: UploadedFile | None = None,
) -> Post:
    """Publish a post: text with pictures or one video, tagged products, works and #topics.

    Pictures are decoded and re-encoded before the transaction opens (slow, and no lock is
    needed for it). The post is screened by moderation in the same transaction, so it never
    exists without a decision; only a visible post notifies the people it mentions.
    """
    text = (text or "").strip()
    images = list(images or [])
    if _has_control_chars(text):
        raise InvalidPost(extra={"field": "text", "reason": "control_characters"})
    if len(text) > POST_TEXT_MAX:
        raise InvalidPost(_("动态不超过 2000 个字。"), extra={"field": "text"})
    if not text and not images and video is None:
        raise InvalidPost(_("写点什么，或者配一张图。"), extra={"field": "text"})
    if images and video is not None:
        raise InvalidPost(_("图片和视频只能二选一。"), extra={"field": "video"})
    topic_names = _topic_names(text, topics)
    products = _ids_clean(product_ids, "product_ids")
    works = _ids_clean(work_ids, "work_ids")
    pictures = pictures_process(images)
    video_format = video_probe(video) if video is not None else ""
    return _post_save(
        author=author,
        text=text,
        topic_names=topic_names,
        product_ids=products,
        work_ids=works,
        pictures=pictures,
        video=video,
        video_format=video_format,
    )


@transaction.atomic(durable=True)
def _post_save(
    *,
    author: User,
    text: str,
    topic_names: list[str],
    product_ids: list[int],
    work_ids: list[int],
    pictures: list[PostPicture],
    video: UploadedFile | None,
    video_format: str,
) -> Post:
    _tagged_products(product_ids)
    _tagged_works(work_ids)
    topics = _topics_ensure(topic_names, actor=author)
    post = Post.objects.create(author=author, text=text, video_format=video_format)
    written: list[str] = []
    try:
        if video is not None:
            video.seek(0)
            post.video.save(post_stored_name(video_format), video, save=False)
            written.append(post.video.name)
            post.save(update_fields=["video", "updated_at"])
        for position, picture in enumerate(pictures):
            row = PostImage(
                post=post, width=picture.width, height=picture.height, position=position
            )
            row.image.save(post_stored_name("webp"), ContentFile(picture.webp), save=False)
            written.append(row.image.name)
            row.save()
        post.topics.set(topics)
        post.works.set(work_ids)
        post.products.set(product_ids)
        post.status = _screen(
            kind=SCREEN_KIND_POST,
            object_id=post.pk,
            author=author,
            text=text,
            images=[picture.original for picture in pictures],
        )
        post.save(update_fields=["status", "updated_at"])
        if post.status == Visibility.VISIBLE:
            _post_announce(post)
    except BaseException:
        storage = post.video.storage  # files of a post that never commits are removed again
        for name in written:
            storage.delete(name)
        raise
    return post


def _post_announce(post: Post) -> None:
    """Tell the people a newly visible post mentions."""
    for user_id in _mentioned_ids(post.text, exclude={post.author_id}):
        _notify(recipient_id=user_id, actor=post.author, kind=NotificationKind.MENTION, post=post)
    badges_evaluate(user=post.author)
    outbox_publish(
        topic="community.post_published",
        key=str(post.pk),
        payload={"post_id": post.pk, "author_id": post.author_id},
    )


def _post_for_update(*, post_id: int) -> Post:
    post = Post.objects.select_for_update().filter(pk=post_id).first()
    if post is None:
        raise PostNotFound()
    return post


def _can_see_post(user: User | None, post: Post) -> bool:
    if post.deleted_at is not None:
        return False
    if post.status == Visibility.VISIBLE:
        return True
    return user is not None and user.pk == post.author_id


@transaction.atomic(durable=True)
def post_delete(*, user: User, post_id: int) -> None:
    """The author (or staff) removes a post. Others: 404 if they can't see it, else 403."""
    post = _post_for_update(post_id=post_id)
    if not _can_see_post(user, post) and not user.is_staff:
        raise PostNotFound()
    if post.author_id != user.pk and not user.is_staff:
        raise PermissionDenied()
    post.deleted_at = clock.now()
    post.save(update_fields=["deleted_at", "updated_at"])


def _visible_post(*, post_id: int) -> Post:
    post = Post.objects.filter(
        pk=post_id, status=Visibility.VISIBLE, deleted_at__isnull=True
    ).first()
    if post is None:
        raise PostNotFound()
    return post


# --- comments ------------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def comment_create(
    *, author: User, post_id: int, text: str, parent_id: int | None = None
) -> Comment:
    """Comment on a post, or reply to one of its comments (the thread hangs off its root)."""
    text = (text or "").strip()
    if not text or len(text) > COMMENT_TEXT_MAX or _has_control_chars(text):
        raise InvalidComment(extra={"field": "text", "max": COMMENT_TEXT_MAX})
    post = Post.objects.filter(pk=post_id, deleted_at__isnull=True).first()
    if post is None or not _can_see_post(author, post):
        raise PostNotFound()
    parent = None
    if parent_id is not None:
        parent = Comment.objects.filter(
            pk=parent_id, post=post, deleted_at__isnull=True, status=Visibility.VISIBLE
        ).first()
        if parent is None:
            raise CommentNotFound(extra={"field": "parent_id"})
    comment = Comment.objects.create(
        post=post,
        author=author,
        parent=parent,
        root=(parent.root or parent) if parent is not None else None,
        text=text,
    )
    comment.status = _screen(
        kind=SCREEN_KIND_COMMENT, object_id=comment.pk, author=author, text=text, images=[]
    )
    comment.save(update_fields=["status", "updated_at"])
    if comment.status == Visibility.VISIBLE:
        _comment_went_visible(comment, announce=True)
    return comment


def _comment_went_visible(comment: Comment, *, announce: bool) -> None:
    """Count it; the first time, tell the post's author, the one answered, and mentions."""
    Post.objects.filter(pk=comment.post_id).update(comment_count=F("comment_count") + 1)
    if not announce:
        return
    post = comment.post
    told = {comment.author_id}
    if comment.parent is not None and comment.parent.author_id not in told:
        _notify(
            recipient_id=comment.parent.author_id,
            actor=comment.author,
            kind=NotificationKind.REPLY,
            post=post,
            comment=comment,
        )
        told.add(comment.parent.author_id)
    if post.author_id not in told:
        _notify(
            recipient_id=post.author_id,
            actor=comment.author,
            kind=NotificationKind.COMMENT,
            post=post,
            comment=comment,
        )
        told.add(post.author_id)
    for user_id in _mentioned_ids(comment.text, exclude=told):
        _notify(
            recipient_id=user_id,
            actor=comment.author,
            kind=NotificationKind.MENTION,
            post=post,
            comment=comment,
        )


@transaction.atomic(durable=True)
def comment_delete(*, user: User, comment_id: int) -> None:
    """The comment's author, the post's author or staff remove a comment."""
    comment = (
        Comment.objects.select_for_update(of=("self",))
        .select_related("post")
        .filter(pk=comment_id, deleted_at__isnull=True)
        .first()
    )
    if comment is None or (
        comment.status != Visibility.VISIBLE and comment.author_id != user.pk and not user.is_staff
    ):
        raise CommentNotFound()
    if user.pk not in (comment.author_id, comment.post.author_id) and not user.is_staff:
        raise PermissionDenied()
    comment.deleted_at = clock.now()
    comment.save(update_fields=["deleted_at", "updated_at"])
    if comment.status == Visibility.VISIBLE:
        Post.objects.filter(pk=comment.post_id).update(comment_count=F("comment_count") - 1)


# --- likes and favourites ------------------------------------------------------------------------


@transaction.atomic(durable=True)
def like_add(*, user: User, post_id: int) -> bool:
    """Like a visible post. Idempotent: True only for a new like (which notifies the author)."""
    post = _visible_post(post_id=post_id)
    try:
        with transaction.atomic():
            Like.objects.create(user=user, post=post)
    except IntegrityError:
        return False
    Post.objects.filter(pk=post.pk).update(like_count=F("like_count") + 1)
    already_told = Notification.objects.filter(
        recipient_id=post.author_id, actor=user, kind=NotificationKind.LIKE, post=post
    ).exists()
    if not already_told:  # like, unlike, like again does not ring twice
        _notify(recipient_id=post.author_id, actor=user, kind=NotificationKind.LIKE, post=post)
    return True


@transaction.atomic(durable=True)
def like_remove(*, user: User, post_id: int) -> bool:
    deleted, _ = Like.objects.filter(user=user, post_id=post_id).delete()
    if deleted:
        Post.objects.filter(pk=post_id).update(like_count=F("like_count") - 1)
    return deleted > 0


@transaction.atomic(durable=True)
def favourite_add(*, user: User, post_id: int) -> bool:
    post = _visible_post(post_id=post_id)
    try:
        with transaction.atomic():
            Favourite.objects.create(user=user, post=post)
    except IntegrityError:
        return False
    Post.objects.filter(pk=post.pk).update(favourite_count=F("favourite_count") + 1)
    return True


@transaction.atomic(durable=True)
def favourite_remove(*, user: User, post_id: int) -> bool:
    deleted, _ = Favourite.objects.filter(user=user, post_id=post_id).delete()
    if deleted:
        Post.objects.filter(pk=post_id).update(favourite_count=F("favourite_count") - 1)
    return deleted > 0


# --- shares --------------------------------------------------------------------------------------

SHARE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes get read aloud
SHARE_CODE_LENGTH = 10


def share_code_new() -> str:
    return "".join(secrets.choice(SHARE_ALPHABET) for _ in range(SHARE_CODE_LENGTH))


@transaction.atomic(durable=True)
def share_create(*, user: User, post_id: int, channel: str = "") -> Share:
    """A share link of a visible post, with a code that later purchases are attributed to."""
    post = _visible_post(post_id=post_id)
    share = Share.objects.create(
        code=share_code_new(),
        post=post,
        sharer=user,
        channel=re.sub(r"[^A-Za-z0-9_.-]", "", channel or "")[:20],
    )
    Post.objects.filter(pk=post.pk).update(share_count=F("share_count") + 1)
    return share


def share_opened(*, code: str) -> None:
    """Count a visit through a share link (best effort: a plain counter)."""
    Share.objects.filter(code=code).update(opened_count=F("opened_count") + 1)


# --- notifications -------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def notification_system_send(*, recipient: User, text: str) -> Notification:
    """A system notice in someone's inbox (announcements, decisions about their content)."""
    text = (text or "").strip()
    if not text:
        raise InvalidPost(extra={"field": "text"})
    notification = _notify(
        recipient_id=recipient.pk, actor=None, kind=NotificationKind.SYSTEM, text=text
    )
    assert notification is not None  # no actor, so never skipped
    return notification


@transaction.atomic(durable=True)
def notifications_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    """Mark the given notifications (or all) of ``user`` read; returns how many changed."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=clock.now(), updated_at=clock.now())


# --- moderation decisions ------------------------------------------------------------------------


def on_moderation_decided(event: OutboxEvent) -> None:
    """A reviewer decided a held (or reported) item: apply the status, announce what surfaced."""
    payload = event.payload
    kind = payload.get("kind")
    if kind not in (
        SCREEN_KIND_POST,
        SCREEN_KIND_COMMENT,
        SCREEN_KIND_WORK,
        SCREEN_KIND_SUBMISSION,
    ):
        return
    status = payload.get("status")
    if status not in Visibility.values:
        return
    with transaction.atomic():
        if not consume_once(consumer="community.moderation_decided", event_id=event.id):
            return
        object_id = int(payload["object_id"])
        if kind == SCREEN_KIND_WORK:
            work_status = (
                WorkStatus.PUBLISHED if status == Visibility.VISIBLE else WorkStatus.HIDDEN
            )
            Work.objects.filter(pk=object_id).update(status=work_status, updated_at=clock.now())
            return
        if kind == SCREEN_KIND_SUBMISSION:
            ContestSubmission.objects.filter(pk=object_id).update(
                status=status, updated_at=clock.now()
            )
            return
        if kind == SCREEN_KIND_POST:
            post = Post.objects.select_for_update().filter(pk=object_id).first()
            if post is None or post.status == status:
                return
            was = post.status
            post.status = status
            post.save(update_fields=["status", "updated_at"])
            if status == Visibility.VISIBLE and was == Visibility.HELD:
                _post_announce(post)
            return
        comment = (
            Comment.objects.select_for_update(of=("self",))
            .select_related("post", "parent", "author")
            .filter(pk=object_id)
            .first()
        )
        if comment is None or comment.status == status:
            return
        was = comment.status
        comment.status = status
        comment.save(update_fields=["status", "updated_at"])
        if comment.deleted_at is not None:
            return
        if status == Visibility.VISIBLE:
            _comment_went_visible(comment, announce=was == Visibility.HELD)
        elif was == Visibility.VISIBLE:
            Post.objects.filter(pk=comment.post_id).update(comment_count=F("comment_count") - 1)
