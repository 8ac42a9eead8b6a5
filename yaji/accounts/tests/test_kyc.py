"""Real-name verification: ID checksum (property-tested), sandbox provider, uniqueness, age."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from yaji.accounts import selectors, services
from yaji.accounts.errors import (
    FaceRejected,
    IdAlreadyVerified,
    InvalidIdNumber,
    InvalidRealName,
    KycAlreadyVerified,
    KycRejected,
    KycRequired,
    KycUnavailable,
)
from yaji.accounts.kyc import (
    ID_CHECK_CHARS,
    PROVINCE_CODES,
    SandboxVerificationProvider,
    id_check_char,
    id_number_make,
    id_number_parse,
    real_name_is_valid,
)
from yaji.accounts.models import AuditEntry, RealNameVerification
from yaji.accounts.tests.factories import UserFactory, valid_id
from yaji.core import clock

ids = st.builds(
    lambda province, rest, birth, seq: id_number_make(
        region=f"{province:02d}{rest:04d}", birth=birth, seq=f"{seq:03d}"
    ),
    province=st.sampled_from(sorted(PROVINCE_CODES)),
    rest=st.integers(min_value=1, max_value=9999),
    birth=st.dates(min_value=date(1900, 1, 1), max_value=date(2024, 12, 31)),
    seq=st.integers(min_value=0, max_value=999),
)


class TestIdNumber:
    def test_known_example(self) -> None:
        # The worked example of GB 11643-1999.
        assert id_check_char("11010519491231002") == "X"
        parsed = id_number_parse("11010519491231002x")
        assert parsed is not None and parsed.birth_date == date(1949, 12, 31)
        assert not parsed.is_male

    @given(ids)
    def test_valid_ids_are_accepted(self, number: str) -> None:
        parsed = id_number_parse(number)
        assert parsed is not None and parsed.number == number

    @given(ids, st.sampled_from(ID_CHECK_CHARS))
    def test_any_other_check_character_is_rejected(self, number: str, other: str) -> None:
        if other == number[-1]:
            return
        assert id_number_parse(number[:-1] + other) is None

    @given(ids, st.integers(min_value=0, max_value=16), st.integers(min_value=1, max_value=9))
    @hsettings(max_examples=200)
    def test_a_single_changed_digit_is_caught(self, number: str, pos: int, delta: int) -> None:
        digit = (int(number[pos]) + delta) % 10
        # ISO 7064 MOD 11-2 detects every single-digit error.
        assert id_number_parse(number[:pos] + str(digit) + number[pos + 1 :]) is None

    @pytest.mark.parametrize(
        "number",
        [
            "11010119900307123",  # 17 chars
            id_number_make(region="990101"),  # no such province
            id_number_make(region="110000"),  # province level, not a person's region
            "110101" + "19900230" + "123" + id_check_char("11010119900230123"),  # 30 Feb
            id_number_make(birth=date(2999, 1, 1)),  # future
        ],
    )
    def test_implausible_ids_are_rejected(self, number: str) -> None:
        assert id_number_parse(number) is None

    @pytest.mark.parametrize(
        "name, ok",
        [
            ("张三", True),
            ("欧阳娜娜", True),
            ("阿依古丽·买买提", True),
            ("Li Lei", True),
            ("张", False),
            ("张3", False),
            ("x" * 21, False),
            ("", False),
            ("Robert'); DROP", False),
        ],
    )
    def test_names(self, name: str, ok: bool) -> None:
        assert real_name_is_valid(name) is ok


class TestSandboxProvider:
    def test_documented_outcomes(self) -> None:
        provider = SandboxVerificationProvider()
        ok = provider.verify_identity("张三", valid_id())
        assert (
            ok.verified and ok.birth_date == date(1990, 3, 7) and ok.provider_ref.startswith("sbx_")
        )
        assert provider.verify_identity("张三", valid_id(seq="000")).reason_code == "name_mismatch"
        assert provider.verify_identity("张三", valid_id(seq="998")).reason_code == "id_not_found"
        assert (
            provider.verify_identity("张三", "110101199003071235").reason_code
            == "invalid_id_number"
        )
        assert provider.verify_identity("张", valid_id()).reason_code == "invalid_name"


@pytest.mark.django_db
class TestKycSubmit:
    def test_verified_record_is_encrypted_indexed_and_audited(self, user) -> None:  # type: ignore[no-untyped-def]
        number = valid_id()
        record = services.kyc_submit(user=user, real_name=" 林黛玉 ", id_number=number.lower())
        assert record.status == "verified" and record.birth_date == date(1990, 3, 7)
        assert record.id_number_masked == "1101**********" + number[-4:]
        user.refresh_from_db()
        assert user.birth_date == date(1990, 3, 7)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT real_name, id_number, id_index FROM accounts_realnameverification WHERE id = %s",
                [record.pk],
            )
            raw_name, raw_id, raw_index = cursor.fetchone()
        for raw in (raw_name, raw_id, raw_index):
            assert number not in raw and "林黛玉" not in raw and "19900307" not in raw
        entry = AuditEntry.objects.get(action="kyc_submit")
        assert entry.metadata["status"] == "verified" and number not in str(entry.metadata)
        summary = selectors.kyc_status(user=user)
        assert summary.status == "verified" and summary.real_name_masked == "*黛玉"

    def test_one_id_verifies_only_one_account(self, user) -> None:  # type: ignore[no-untyped-def]
        services.kyc_submit(user=user, real_name="林黛玉", id_number=valid_id())
        with pytest.raises(IdAlreadyVerified):
            services.kyc_submit(user=UserFactory(), real_name="林黛玉", id_number=valid_id())
        with pytest.raises(KycAlreadyVerified):
            services.kyc_submit(user=user, real_name="林黛玉", id_number=valid_id(seq="124"))

    def test_rejection_is_stored_audited_and_raised(self, user) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(KycRejected) as err:
            services.kyc_submit(user=user, real_name="林黛玉", id_number=valid_id(seq="000"))
        assert err.value.extra["reason_code"] == "name_mismatch"
        record = RealNameVerification.objects.get()
        assert record.status == "rejected" and record.birth_date is None
        assert selectors.kyc_status(user=user).status == "rejected"
        assert AuditEntry.objects.get(action="kyc_submit").metadata["status"] == "rejected"
        # A rejected attempt does not block the ID; the right details verify afterwards.
        assert (
            services.kyc_submit(user=user, real_name="林黛玉", id_number=valid_id()).status
            == "verified"
        )

    def test_bad_input_and_outage(self, user) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(InvalidIdNumber):
            services.kyc_submit(user=user, real_name="林黛玉", id_number="110101199003071235")
        with pytest.raises(InvalidRealName):
            services.kyc_submit(user=user, real_name="L", id_number=valid_id())
        with pytest.raises(KycUnavailable):
            services.kyc_submit(user=user, real_name="林黛玉", id_number=valid_id(seq="999"))
        assert not RealNameVerification.objects.exists()

    def test_face_verification_needs_kyc(self, user) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(KycRequired):
            services.face_verify(user=user, liveness_token="live-1")
        services.kyc_submit(user=user, real_name="林黛玉", id_number=valid_id())
        assert services.face_verify(user=user, liveness_token="live-1").verified
        with pytest.raises(FaceRejected):
            services.face_verify(user=user, liveness_token="fail-1")
        assert RealNameVerification.objects.get().face_verified_at is not None


@pytest.mark.django_db
class TestMinor:
    def _at(self, monkeypatch, when: datetime) -> None:  # type: ignore[no-untyped-def]
        monkeypatch.setattr(clock, "now", lambda: when)

    def test_minor_until_the_eighteenth_birthday_in_beijing_time(self, user, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        services.kyc_submit(
            user=user, real_name="林黛玉", id_number=valid_id(birth=date(2008, 6, 1))
        )
        user.refresh_from_db()
        shanghai = ZoneInfo("Asia/Shanghai")
        # 2026-05-31 23:30 in Beijing is still the day before the birthday ...
        self._at(monkeypatch, datetime(2026, 5, 31, 23, 30, tzinfo=shanghai))
        assert user.is_minor is True and user.age == 17
        # ... and 2026-05-31 16:30 UTC is already 1 June in Beijing: an adult.
        self._at(monkeypatch, datetime(2026, 5, 31, 16, 30, tzinfo=ZoneInfo("UTC")))
        assert user.is_minor is False and user.age == 18
        assert selectors.kyc_status(user=user).is_minor is False

    def test_unknown_without_verification(self, user) -> None:  # type: ignore[no-untyped-def]
        assert user.is_minor is None and selectors.kyc_status(user=user).status == "none"
