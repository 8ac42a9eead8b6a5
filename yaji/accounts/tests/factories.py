"""Test data for the accounts app. Users are made directly (fast); flows that matter go
through the services in the tests themselves."""

from __future__ import annotations

from datetime import date
from itertools import count

import factory
from django.utils import timezone

from yaji.accounts.kyc import id_number_make
from yaji.accounts.models import Device, Role, RoleAssignment, User

PASSWORD = "Yaji-墨香-2026!"
_phones = count(1)


def phone_number(n: int | None = None) -> str:
    n = next(_phones) if n is None else n
    return f"139{n:08d}"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    display_name = factory.Sequence(lambda n: f"用户{n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):  # type: ignore[no-untyped-def]
        password = kwargs.pop("password", PASSWORD)
        return model_class.objects.create_user(*args, password=password, **kwargs)


class PhoneUserFactory(UserFactory):
    email = None
    phone = factory.LazyFunction(phone_number)


class DeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Device

    user = factory.SubFactory(UserFactory)
    fingerprint = factory.Sequence(lambda n: f"{n:064x}")
    label = "Chrome · Windows"
    user_agent = "Mozilla/5.0 (Windows NT 10.0) Chrome/130"
    last_ip = "10.0.0.1"
    last_seen_at = factory.LazyFunction(timezone.now)


class RoleAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoleAssignment

    user = factory.SubFactory(UserFactory)
    role = Role.BUYER
    scope = ""


def operator() -> User:
    user = UserFactory()
    RoleAssignmentFactory(user=user, role=Role.OPERATOR)
    return user


def valid_id(*, birth: date = date(1990, 3, 7), seq: str = "123", region: str = "110101") -> str:
    return id_number_make(region=region, birth=birth, seq=seq)
