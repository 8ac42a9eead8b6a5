"""Test data for moderation: people with roles, and items screened through the service."""

from __future__ import annotations

import io
from itertools import count
from typing import Any

from django.db import transaction
from PIL import Image, ImageDraw

from yaji.accounts.models import Role, RoleAssignment, User
from yaji.accounts.tests.factories import PASSWORD, UserFactory
from yaji.moderation import services
from yaji.moderation.models import ModerationItem

__all__ = ["PASSWORD", "UserFactory"]

_ids = count(1000)


def reviewer_user(role: str = Role.REVIEWER, **kwargs: Any) -> User:
    user = UserFactory(**kwargs)
    RoleAssignment.objects.create(user=user, role=role)
    return user


def screened(
    text: str = "一幅很美的苏绣",
    *,
    author: User | None = None,
    kind: str = "community.post",
    images: list[bytes] | None = None,
) -> ModerationItem:
    author = author or UserFactory()
    object_id = next(_ids)
    with transaction.atomic():
        services.moderation_screen(
            kind=kind, object_id=object_id, author=author, text=text, images=images
        )
    return ModerationItem.objects.get(kind=kind, object_id=object_id)


def held_item(**kwargs: Any) -> ModerationItem:
    """Held for review by the default word list ("百家乐" holds)."""
    return screened("周末一起玩百家乐吗", **kwargs)


def blocked_item(**kwargs: Any) -> ModerationItem:
    return screened("出售高仿故宫文创", **kwargs)


def png(seed: int = 0, size: tuple[int, int] = (64, 48), fmt: str = "PNG") -> bytes:
    """A deterministic picture with structure (gradient + shapes) so its dHash is meaningful."""
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    width, height = size
    for x in range(width):
        shade = (x * 255 // width + seed * 37) % 256
        draw.line([(x, 0), (x, height)], fill=(shade, (shade * 3) % 256, 255 - shade))
    draw.ellipse(
        [width // 4, height // 4, width // 2 + seed % 7, height // 2 + seed % 5],
        fill=(255, 255, 255),
    )
    out = io.BytesIO()
    image.save(out, format=fmt, quality=85) if fmt == "JPEG" else image.save(out, format=fmt)
    return out.getvalue()
