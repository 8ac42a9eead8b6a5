"""Who may review: reviewers and operators (superusers hold every role)."""

from __future__ import annotations

from typing import Any

from yaji.accounts.models import Role
from yaji.accounts.permissions import has_role, is_operator


def is_moderation_reviewer(user: Any) -> bool:
    return has_role(user, Role.REVIEWER) or is_operator(user)
