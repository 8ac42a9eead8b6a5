"""Real-name verification (实名认证) behind a small provider interface.

A real provider (公安 identity check, face liveness) is a paid network service; the platform
talks to it only through :class:`VerificationProvider`. :class:`SandboxVerificationProvider`
behaves like one offline:

* the ID number must be a valid 18-character mainland resident ID (GB 11643-1999): a plausible
  province/region code, a real birth date not in the future, and the ISO 7064 MOD 11-2 check
  character;
* the name must be 2–20 CJK characters (``·`` allowed between parts, as in minority names)
  or latin letters with spaces, ``'``, ``-`` or ``.``;
* deterministic failures, selected by the three-digit sequence code (characters 15–17),
  so every failure path can be exercised:

  ======== ============================================ ===================================
  sequence result                                       example (region 110101, 1990-03-07)
  ======== ============================================ ===================================
  ``000``  rejected, ``name_mismatch`` (name ≠ ID)       ``id_number_make(seq="000")``
  ``998``  rejected, ``id_not_found`` (no such person)   ``id_number_make(seq="998")``
  ``999``  :class:`ProviderUnavailable` (retry later)    ``id_number_make(seq="999")``
  ======== ============================================ ===================================

  Face checks (``verify_face``) fail for liveness tokens starting with ``fail`` and raise
  ``ProviderUnavailable`` for ``unavailable``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from django.conf import settings
from django.utils import timezone

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
PROVINCE_CODES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46}
    | {50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83}
)
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_CJK_NAME_RE = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+(?:[·•][\u3400-\u9fff]+)*$")
_LATIN_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z .'\-]*[A-Za-z.]$")


class ProviderUnavailable(Exception):
    """The provider could not answer (timeout, outage); nothing was decided."""


@dataclass(frozen=True)
class ParsedId:
    number: str
    region_code: str
    birth_date: date
    sequence: str
    is_male: bool


def id_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def id_number_normalize(value: str) -> str:
    return (value or "").strip().replace(" ", "").upper()


def id_number_parse(value: str, *, today: date | None = None) -> ParsedId | None:
    """The parts of a valid 18-character mainland ID, or None when it is not one."""
    number = id_number_normalize(value)
    if not _ID_RE.match(number):
        return None
    if int(number[:2]) not in PROVINCE_CODES or number[2:6] == "0000":
        return None
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None
    today = today or timezone.localdate()
    if birth.year < 1900 or birth > today:
        return None
    if id_check_char(number[:17]) != number[17]:
        return None
    return ParsedId(
        number=number,
        region_code=number[:6],
        birth_date=birth,
        sequence=number[14:17],
        is_male=int(number[16]) % 2 == 1,
    )


def id_number_make(
    *, region: str = "110101", birth: date = date(1990, 3, 7), seq: str = "123"
) -> str:
    """A checksum-valid ID number (sandbox and tests only)."""
    first17 = f"{region}{birth:%Y%m%d}{seq}"
    return first17 + id_check_char(first17)


def real_name_is_valid(name: str) -> bool:
    name = (name or "").strip()
    if not 2 <= len(name) <= 20:
        return False
    return bool(_CJK_NAME_RE.match(name) or _LATIN_NAME_RE.match(name))


@dataclass(frozen=True)
class IdentityResult:
    verified: bool
    provider_ref: str
    reason_code: str = ""  # name_mismatch | id_not_found | invalid_id_number | invalid_name
    birth_date: date | None = None


@dataclass(frozen=True)
class FaceResult:
    verified: bool
    provider_ref: str
    score: float
    reason_code: str = ""


class VerificationProvider(Protocol):
    name: str

    def verify_identity(self, name: str, id_number: str) -> IdentityResult:
        """Does this person (name + ID number) exist? Raises ProviderUnavailable."""
        ...

    def verify_face(self, *, name: str, id_number: str, liveness_token: str) -> FaceResult:
        """Step-up check that the person in front of the camera holds this identity."""
        ...


class SandboxVerificationProvider:
    name = "sandbox"

    def _ref(self, *parts: str) -> str:
        digest = hashlib.sha256("|".join(parts).encode()).hexdigest()[:12]
        return f"sbx_{digest}_{secrets.token_hex(4)}"

    def verify_identity(self, name: str, id_number: str) -> IdentityResult:
        parsed = id_number_parse(id_number)
        ref = self._ref("id", id_number)
        if parsed is None:
            return IdentityResult(False, ref, "invalid_id_number")
        if not real_name_is_valid(name):
            return IdentityResult(False, ref, "invalid_name")
        if parsed.sequence == "999":
            raise ProviderUnavailable("sandbox: simulated outage for sequence 999")
        if parsed.sequence == "000":
            return IdentityResult(False, ref, "name_mismatch")
        if parsed.sequence == "998":
            return IdentityResult(False, ref, "id_not_found")
        return IdentityResult(True, ref, "", parsed.birth_date)

    def verify_face(self, *, name: str, id_number: str, liveness_token: str) -> FaceResult:
        ref = self._ref("face", id_number, liveness_token)
        if liveness_token.startswith("unavailable"):
            raise ProviderUnavailable("sandbox: simulated outage")
        if not liveness_token or liveness_token.startswith("fail"):
            return FaceResult(False, ref, 0.12, "face_mismatch")
        return FaceResult(True, ref, 0.97)


_PROVIDERS: dict[str, type] = {"sandbox": SandboxVerificationProvider}


def verification_provider() -> VerificationProvider:
    name = getattr(settings, "YAJI_KYC_PROVIDER", "sandbox")
    try:
        return _PROVIDERS[name]()
    except KeyError as exc:
        raise LookupError(
            f"unknown YAJI_KYC_PROVIDER {name!r}; known: {sorted(_PROVIDERS)}"
        ) from exc
