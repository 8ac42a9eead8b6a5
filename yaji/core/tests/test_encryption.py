"""Field encryption, blind indexes, masking and the rate limiter (kernel pieces of C1)."""

from __future__ import annotations

import base64

import pytest
from django.core.exceptions import ImproperlyConfigured

from yaji.core import encryption
from yaji.core.encryption import (
    DecryptionError,
    KeyRing,
    blind_index,
    decrypt_str,
    encrypt_str,
    key_id_of,
)
from yaji.core.errors import RateLimited
from yaji.core.masking import mask_bank_card, mask_email, mask_id_number, mask_phone
from yaji.core.ratelimit import rate_limit_hit

KEY_A = base64.b64encode(b"a" * 32).decode()
KEY_B = base64.b64encode(b"b" * 32).decode()


class TestKeyRing:
    def test_first_key_encrypts_and_all_decrypt(self) -> None:
        ring = KeyRing.parse(f"new:{KEY_B}, old:{KEY_A}")
        assert ring.active_kid == "new"
        assert set(ring.keys) == {"new", "old"}

    @pytest.mark.parametrize(
        "spec, message",
        [
            ("", "empty"),
            ("nokey", "kid:base64key"),
            ("k1:not base64!!", "base64"),
            (f"k1:{base64.b64encode(b'short').decode()}", "32"),
            (f"k1:{KEY_A},k1:{KEY_B}", "twice"),
            (f"bad id:{KEY_A}", "kid:base64key"),
        ],
    )
    def test_bad_configuration_fails_clearly(self, spec: str, message: str) -> None:
        with pytest.raises(ImproperlyConfigured, match=message):
            KeyRing.parse(spec)


class TestEncryptDecrypt:
    def test_round_trip_with_random_nonce(self) -> None:
        a = encrypt_str("13812345678", associated_data="t.c")
        b = encrypt_str("13812345678", associated_data="t.c")
        assert a != b  # fresh nonce each time
        assert a.startswith(f"v1:{encryption.keyring().active_kid}:")
        assert "13812345678" not in a
        assert decrypt_str(a, associated_data="t.c") == "13812345678"

    def test_tampered_ciphertext_is_rejected(self) -> None:
        token = encrypt_str("110101199003071234")
        prefix, blob = token.rsplit(":", 1)
        raw = bytearray(base64.b64decode(blob))
        raw[-1] ^= 0x01
        with pytest.raises(DecryptionError, match="authentication"):
            decrypt_str(f"{prefix}:{base64.b64encode(bytes(raw)).decode()}")

    def test_ciphertext_moved_to_another_column_does_not_decrypt(self) -> None:
        token = encrypt_str("secret", associated_data="accounts.user.phone")
        with pytest.raises(DecryptionError):
            decrypt_str(token, associated_data="accounts.realnameverification.id_number")

    def test_unknown_key_and_garbage(self, settings) -> None:  # type: ignore[no-untyped-def]
        token = encrypt_str("x")
        settings.YAJI_ENCRYPTION_KEYS = f"other:{KEY_A}"
        with pytest.raises(DecryptionError, match="unknown encryption key"):
            decrypt_str(token)
        with pytest.raises(DecryptionError):
            decrypt_str("plaintext")

    def test_rotation_old_key_still_decrypts_new_writes_use_new_kid(self, settings) -> None:  # type: ignore[no-untyped-def]
        settings.YAJI_ENCRYPTION_KEYS = f"old:{KEY_A}"
        old = encrypt_str("张三")
        settings.YAJI_ENCRYPTION_KEYS = f"new:{KEY_B},old:{KEY_A}"
        assert decrypt_str(old) == "张三"
        assert key_id_of(encrypt_str("张三")) == "new"
        assert encryption.needs_reencryption(old)


class TestBlindIndex:
    def test_deterministic_keyed_and_purpose_separated(self, settings) -> None:  # type: ignore[no-untyped-def]
        a = blind_index("13812345678", purpose="phone")
        assert a == blind_index("13812345678", purpose="phone")
        assert a != blind_index("13812345678", purpose="id")
        assert len(a) == 64 and "13812345678" not in a
        settings.YAJI_LOOKUP_KEY = "another-key"
        assert blind_index("13812345678", purpose="phone") != a


class TestMasking:
    def test_formats(self) -> None:
        assert mask_phone("13812345678") == "138****5678"
        assert mask_id_number("110101199003071234") == "1101**********1234"
        assert mask_bank_card("6222 0212 3456 7891 234") == "**** **** **** 1234"
        assert mask_email("zhang.san@example.com") == "z***@example.com"
        assert mask_phone("") == mask_id_number(None) == ""


class TestRateLimit:
    def test_limit_then_rate_limited_with_retry_after(self) -> None:
        from django.core.cache import cache

        cache.clear()
        for _ in range(3):
            rate_limit_hit(key="t:x", limit=3, window_s=60)
        with pytest.raises(RateLimited) as err:
            rate_limit_hit(key="t:x", limit=3, window_s=60)
        assert err.value.code == "rate_limited" and err.value.status == 429
        assert 1 <= err.value.extra["retry_after"] <= 60
        rate_limit_hit(key="t:other", limit=3, window_s=60)  # keys are independent
