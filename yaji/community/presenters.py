"""Plain dicts of community objects for the API (one place, so pages and API agree)."""

from __future__ import annotations

from typing import Any

from yaji.community.models import Comment, Notification, Post, Topic


def person_dict(user: Any) -> dict[str, Any]:
    return {"id": user.pk, "display_name": str(user)}


def topic_dict(topic: Topic) -> dict[str, Any]:
    return {
        "id": topic.pk,
        "name": topic.name,
        "slug": topic.slug,
        "description": topic.description,
    }


def post_dict(post: Post) -> dict[str, Any]:
    return {
        "id": post.pk,
        "author": person_dict(post.author),
        "text": post.text,
        "status": post.status,
        "images": [
            {"url": image.image.url, "width": image.width, "height": image.height}
            for image in post.card_images  # type: ignore[attr-defined]  # set by cards
        ],
        "video_url": post.video.url if post.video else None,
        "topics": [topic_dict(topic) for topic in post.card_topics],  # type: ignore[attr-defined]
        "works": [{"id": w.pk, "title": w.title, "kind": w.kind} for w in post.card_works],  # type: ignore[attr-defined]
        "product_ids": [product.pk for product in post.card_products],  # type: ignore[attr-defined]
        "like_count": post.like_count,
        "favourite_count": post.favourite_count,
        "comment_count": post.comment_count,
        "share_count": post.share_count,
        "liked": bool(getattr(post, "viewer_liked", False)),
        "favourited": bool(getattr(post, "viewer_favourited", False)),
        "created_at": post.created_at,
    }


def comment_dict(comment: Comment) -> dict[str, Any]:
    return {
        "id": comment.pk,
        "post_id": comment.post_id,
        "author": person_dict(comment.author),
        "parent_id": comment.parent_id,
        "root_id": comment.root_id,
        "text": comment.text,
        "status": comment.status,
        "created_at": comment.created_at,
    }


def notification_dict(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "actor": person_dict(notification.actor) if notification.actor else None,
        "post_id": notification.post_id,
        "comment_id": notification.comment_id,
        "text": notification.text,
        "read": notification.read_at is not None,
        "created_at": notification.created_at,
    }
