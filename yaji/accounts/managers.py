from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import BaseUserManager


class UserManager(BaseUserManager):
    """Creation helpers for ``createsuperuser``, the admin and tests.

    Sign-ups go through :func:`yaji.accounts.services.user_register` (codes, audit, roles).
    """

    use_in_migrations = True

    def create_user(self, email: str | None = None, password: str | None = None, **extra: Any):  # type: ignore[no-untyped-def]
        from yaji.accounts.identifiers import phone_index, phone_normalize

        email = email.strip().lower() if email else None
        phone = extra.pop("phone", None)
        user = self.model(email=email, **extra)
        if phone:
            normalized = phone_normalize(phone)
            if normalized is None:
                raise ValueError(f"not a mainland mobile number: {phone!r}")
            user.phone = normalized
            user.phone_index = phone_index(normalized)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any):  # type: ignore[no-untyped-def]
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)
