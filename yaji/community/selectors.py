"""Reads of the community app."""

from __future__ import annotations

from django.db.models import QuerySet

from yaji.accounts.models import User
from yaji.community.errors import WorkNotFound
from yaji.community.models import PlaySession, Work, WorkStatus


def work_get(*, work_id: int) -> Work:
    """A published work, with its creator. Raises work_not_found."""
    work = (
        Work.objects.select_related("creator")
        .filter(pk=work_id, status=WorkStatus.PUBLISHED)
        .first()
    )
    if work is None:
        raise WorkNotFound()
    return work


def work_list_by_creator(*, creator: User, limit: int = 50) -> QuerySet[Work]:
    return (
        Work.objects.select_related("creator")
        .filter(creator=creator, status=WorkStatus.PUBLISHED)
        .order_by("-published_at", "-pk")[:limit]
    )


def play_completed(*, user: User, work: Work) -> bool:
    """Has ``user`` listened to ``work`` in full (≥ 95 % coverage in one verified play)?

    The condition red packets use.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return PlaySession.objects.filter(user=user, work=work, completed_at__isnull=False).exists()


def play_best_progress(*, user: User, work: Work) -> PlaySession | None:
    """The user's play of ``work`` that covered the most (for showing progress)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return PlaySession.objects.filter(user=user, work=work).order_by("-listened_ms", "-pk").first()
