"""Test data for risk control: real-name verified users (adults and minors) through the
accounts service and its sandbox provider."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import count

from yaji.accounts.kyc import id_number_make
from yaji.accounts.models import User
from yaji.accounts.selectors import local_today
from yaji.accounts.services import kyc_submit

_serial = count(1)


def kyc_verified(user: User, *, birth: date | None = None) -> User:
    """Verify ``user``'s real name (an adult born in the 1980s unless ``birth`` is given)."""
    n = next(_serial)
    birth = birth or date(1980, 1, 1) + timedelta(days=n)
    id_number = id_number_make(region="110101", birth=birth, seq=f"{100 + n % 800:03d}")
    kyc_submit(user=user, real_name="张三", id_number=id_number)
    user.refresh_from_db()
    return user


def make_minor(user: User, *, age: int = 15) -> User:
    n = next(_serial)
    today = local_today()
    birth = date(today.year - age, 1, 1) + timedelta(days=n % 200)
    if birth > today.replace(year=today.year - age):
        birth = birth.replace(year=birth.year - 1) if age >= 1 else birth
    return kyc_verified(user, birth=birth)
