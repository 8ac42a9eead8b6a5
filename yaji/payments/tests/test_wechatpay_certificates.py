"""WeChat Pay platform certificates: download from ``/v3/certificates`` in the documented
format, decryption with the APIv3 key, several serials kept for a rotation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from yaji.core.errors import ApplicationError
from yaji.payments.models import WechatPayPlatformCertificate
from yaji.payments.providers.wechatpay import (
    HttpResponse,
    aead_encrypt,
    platform_certificates_decode,
)
from yaji.payments.tests.wechatpay_double import (
    APIV3_KEY,
    PLATFORM_SERIAL,
    FakeWechatPay,
    make_provider,
    payment_notification,
    platform_sign,
)

pytestmark = pytest.mark.django_db

# The serial number of the example in WeChat Pay's "下载平台证书" documentation.
NEW_SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
NEW_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def certificate(key: rsa.RSAPrivateKey, serial_hex: str) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tenpay.com Root CA")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(int(serial_hex, 16))
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=5 * 365))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def listing(*, key_for_encryption: bytes = APIV3_KEY, serial: str = NEW_SERIAL) -> dict:
    """An answer of ``GET /v3/certificates`` as documented."""
    now = datetime.now(UTC)
    return {
        "data": [
            {
                "serial_no": serial,
                "effective_time": (now - timedelta(days=1)).isoformat(timespec="seconds"),
                "expire_time": (now + timedelta(days=5 * 365)).isoformat(timespec="seconds"),
                "encrypt_certificate": {
                    "algorithm": "AEAD_AES_256_GCM",
                    "nonce": "61f9c719728a",
                    "associated_data": "certificate",
                    "ciphertext": aead_encrypt(
                        key_for_encryption,
                        nonce="61f9c719728a",
                        associated_data="certificate",
                        plaintext=certificate(NEW_KEY, NEW_SERIAL),
                    ),
                },
            }
        ]
    }


class RotatedWechatPay(FakeWechatPay):
    """Answers /v3/certificates signed with the new platform key, as after a rotation."""

    def __init__(self, answer: dict, *, sign_with: rsa.RSAPrivateKey = NEW_KEY) -> None:
        super().__init__()
        self.answer = answer
        self.sign_with = sign_with

    def __call__(self, method, url, headers, body):  # type: ignore[no-untyped-def]
        if url.endswith("/v3/certificates"):
            super().__call__(method, url, headers, body)  # checks our request signature
            raw = json.dumps(self.answer).encode()
            return HttpResponse(200, platform_sign(raw, key=self.sign_with, serial=NEW_SERIAL), raw)
        return super().__call__(method, url, headers, body)


def test_decoding_the_documented_answer() -> None:
    (cert,) = platform_certificates_decode(json.dumps(listing()).encode(), apiv3_key=APIV3_KEY)
    assert cert.serial_no == NEW_SERIAL
    assert cert.pem.startswith("-----BEGIN CERTIFICATE-----")
    assert cert.public_key.public_numbers() == NEW_KEY.public_key().public_numbers()


def test_a_rotation_keeps_both_serials_and_verifies_notifications_from_either() -> None:
    provider, _fake = make_provider(RotatedWechatPay(listing()))

    assert provider.platform_certificates_refresh() == [NEW_SERIAL]
    assert provider.platform_certificates_refresh() == [NEW_SERIAL]  # idempotent
    assert WechatPayPlatformCertificate.objects.count() == 1
    keys = provider.platform_keys()
    assert set(keys) == {PLATFORM_SERIAL, NEW_SERIAL}

    body = payment_notification(out_trade_no="a" * 32, total=100)
    new = provider.verify_notification(platform_sign(body, key=NEW_KEY, serial=NEW_SERIAL), body)
    old = provider.verify_notification(platform_sign(body), body)
    assert new.amount.amount == old.amount.amount == 100


def test_a_listing_encrypted_with_another_key_or_signed_by_a_stranger_is_refused() -> None:
    wrong_key = make_provider(RotatedWechatPay(listing(key_for_encryption=b"x" * 32)))[0]
    with pytest.raises(ApplicationError) as exc:
        wrong_key.platform_certificates_refresh()
    assert exc.value.code == "malformed_notification"

    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = make_provider(RotatedWechatPay(listing(), sign_with=stranger))[0]
    with pytest.raises(ApplicationError) as exc:
        forged.platform_certificates_refresh()
    assert exc.value.code == "invalid_signature"

    mislabelled = make_provider(RotatedWechatPay(listing(serial="ABCDEF")))[0]
    with pytest.raises(ApplicationError):
        mislabelled.platform_certificates_refresh()
    assert not WechatPayPlatformCertificate.objects.exists()
