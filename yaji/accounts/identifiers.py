"""Login identifiers: a mainland mobile number or an e-mail address, normalised."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from yaji.accounts.errors import InvalidIdentifier
from yaji.core.encryption import blind_index
from yaji.core.masking import mask_email, mask_phone

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
_PHONE_NOISE = re.compile(r"[\s\-()]")
PHONE_INDEX_PURPOSE = "accounts.phone"
TARGET_INDEX_PURPOSE = "accounts.code-target"


@dataclass(frozen=True)
class Identifier:
    kind: Literal["phone", "email"]
    value: str

    @property
    def channel(self) -> Literal["sms", "email"]:
        return "sms" if self.kind == "phone" else "email"

    @property
    def masked(self) -> str:
        return mask_phone(self.value) if self.kind == "phone" else mask_email(self.value)

    @property
    def target_index(self) -> str:
        """Blind index used to key codes, lockouts and login events (no plaintext stored)."""
        return blind_index(f"{self.kind}:{self.value}", purpose=TARGET_INDEX_PURPOSE)


def phone_normalize(value: str) -> str | None:
    raw = _PHONE_NOISE.sub("", value or "")
    if raw.startswith("+86"):
        raw = raw[3:]
    elif raw.startswith("0086"):
        raw = raw[4:]
    elif raw.startswith("86") and len(raw) == 13:
        raw = raw[2:]
    return raw if PHONE_RE.match(raw) else None


def phone_index(phone: str) -> str:
    return blind_index(phone, purpose=PHONE_INDEX_PURPOSE)


def identifier_parse(value: str) -> Identifier:
    """Parse what a person typed into a login box; raise ``invalid_identifier`` otherwise."""
    value = (value or "").strip()
    if "@" in value:
        email = value.lower()
        try:
            validate_email(email)
        except ValidationError as exc:
            raise InvalidIdentifier() from exc
        if len(email) > 254:
            raise InvalidIdentifier()
        return Identifier("email", email)
    phone = phone_normalize(value)
    if phone is None:
        raise InvalidIdentifier()
    return Identifier("phone", phone)
