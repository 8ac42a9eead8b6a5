"""Test data for the copyright app: creators, real image works and registered works."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from yaji.accounts.models import Role, RoleAssignment, User
from yaji.accounts.tests.factories import UserFactory
from yaji.community import services as community
from yaji.community.models import Work
from yaji.copyright import services
from yaji.copyright.measurements import VARIANTS, original, png
from yaji.copyright.models import Registration


def creator(**kwargs: Any) -> User:
    user = UserFactory(**kwargs)
    RoleAssignment.objects.create(user=user, role=Role.CREATOR)
    return user


def reviewer(**kwargs: Any) -> User:
    user = UserFactory(**kwargs)
    RoleAssignment.objects.create(user=user, role=Role.REVIEWER)
    return user


def design_bytes(seed: int, variant: str | None = None) -> bytes:
    image = original(seed)
    return VARIANTS[variant](image) if variant else png(image)


def design_work(
    author: User | None = None, *, seed: int = 1, variant: str | None = None, kind: str = "design"
) -> Work:
    return community.work_publish(
        creator=author or creator(),
        title=f"纹样 {seed}",
        kind=kind,
        media=SimpleUploadedFile("design.png", design_bytes(seed, variant), "image/png")
        if not variant or variant != "jpeg_q40"
        else SimpleUploadedFile("design.jpg", design_bytes(seed, variant), "image/jpeg"),
    )


def registered(author: User | None = None, *, seed: int = 1) -> Registration:
    work = design_work(author, seed=seed)
    return services.work_register(user=work.creator, work_id=work.pk)
