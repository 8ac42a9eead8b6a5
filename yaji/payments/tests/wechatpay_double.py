"""A stand-in for WeChat Pay's servers, built only on ``cryptography`` primitives (not on the
adapter's helpers), so the adapter's signatures are checked independently.

It verifies every request's ``Authorization`` header with the merchant's public key, answers
like the API v3 does and signs each answer with its own platform key; it also produces signed,
AES-256-GCM-encrypted notifications.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from yaji.payments.providers.wechatpay import HttpResponse, WechatPayConfig, WechatPayProvider

MCHID = "1900009191"
APPID = "wxd678efh567hg6787"
MERCHANT_SERIAL = "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C"
PLATFORM_SERIAL = "PUB_KEY_ID_0114232134912410000000000000"
APIV3_KEY = b"0123456789abcdef0123456789ABCDEF"
NOTIFY_BASE = "https://yaji.example"

_AUTH = re.compile(
    r'^WECHATPAY2-SHA256-RSA2048 mchid="(?P<mchid>[^"]+)",nonce_str="(?P<nonce>[^"]+)",'
    r'signature="(?P<signature>[^"]+)",timestamp="(?P<timestamp>[0-9]+)",'
    r'serial_no="(?P<serial>[^"]+)"$'
)

# Generated once per test run: fresh keys, never a real merchant's.
MERCHANT_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PLATFORM_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem_private(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def pem_public(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def platform_sign(
    body: bytes,
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
    key: rsa.RSAPrivateKey = PLATFORM_KEY,
    serial: str = PLATFORM_SERIAL,
) -> dict[str, str]:
    """The headers WeChat Pay puts on an answer or a notification."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(16)
    message = ts.encode() + b"\n" + nonce.encode() + b"\n" + body + b"\n"
    signature = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return {
        "Wechatpay-Timestamp": ts,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": base64.b64encode(signature).decode(),
        "Wechatpay-Serial": serial,
        "Request-ID": secrets.token_hex(8),
    }


def encrypt_resource(plain: dict[str, Any], *, associated_data: str) -> dict[str, str]:
    nonce = secrets.token_hex(6)  # 12 characters, as WeChat Pay's examples
    sealed = AESGCM(APIV3_KEY).encrypt(
        nonce.encode(), json.dumps(plain).encode(), associated_data.encode()
    )
    return {
        "original_type": associated_data,
        "algorithm": "AEAD_AES_256_GCM",
        "ciphertext": base64.b64encode(sealed).decode(),
        "associated_data": associated_data,
        "nonce": nonce,
    }


def payment_notification(
    *, out_trade_no: str, total: int, trade_state: str = "SUCCESS", event_id: str | None = None
) -> bytes:
    resource = encrypt_resource(
        {
            "mchid": MCHID,
            "appid": APPID,
            "out_trade_no": out_trade_no,
            "transaction_id": "4200000" + secrets.token_hex(10),
            "trade_type": "NATIVE",
            "trade_state": trade_state,
            "trade_state_desc": "支付成功",
            "bank_type": "OTHERS",
            "success_time": "2026-11-22T15:30:00+08:00",
            "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
            "amount": {"total": total, "payer_total": total, "currency": "CNY"},
        },
        associated_data="transaction",
    )
    envelope = {
        "id": event_id or secrets.token_hex(16),
        "create_time": "2026-11-22T15:30:01+08:00",
        "resource_type": "encrypt-resource",
        "event_type": "TRANSACTION.SUCCESS",
        "summary": "支付成功",
        "resource": resource,
    }
    return json.dumps(envelope, ensure_ascii=False).encode()


def refund_notification(
    *,
    out_trade_no: str,
    out_refund_no: str,
    refund: int,
    total: int,
    event_type: str = "REFUND.SUCCESS",
    event_id: str | None = None,
) -> bytes:
    status = {"REFUND.SUCCESS": "SUCCESS", "REFUND.ABNORMAL": "ABNORMAL"}.get(event_type, "CLOSED")
    resource = encrypt_resource(
        {
            "mchid": MCHID,
            "out_trade_no": out_trade_no,
            "transaction_id": "4200000" + secrets.token_hex(10),
            "out_refund_no": out_refund_no,
            "refund_id": "50000" + secrets.token_hex(10),
            "refund_status": status,
            "success_time": "2026-11-22T16:00:00+08:00",
            "user_received_account": "招商银行信用卡0403",
            "amount": {
                "total": total,
                "refund": refund,
                "payer_total": total,
                "payer_refund": refund,
            },
        },
        associated_data="refund",
    )
    envelope = {
        "id": event_id or secrets.token_hex(16),
        "create_time": "2026-11-22T16:00:01+08:00",
        "resource_type": "encrypt-resource",
        "event_type": event_type,
        "summary": "退款状态",
        "resource": resource,
    }
    return json.dumps(envelope, ensure_ascii=False).encode()


@dataclass
class FakeWechatPay:
    """The transport: checks our signature, records the call, answers signed."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    answers: dict[tuple[str, str], tuple[int, Any]] = field(default_factory=dict)
    sign_answers_with: rsa.RSAPrivateKey = PLATFORM_KEY
    files: dict[str, bytes] = field(default_factory=dict)

    def __call__(self, method: str, url: str, headers: Any, body: bytes) -> HttpResponse:
        path = url.removeprefix("https://api.mch.weixin.qq.com")
        auth = _AUTH.match(headers.get("Authorization", ""))
        assert auth, f"unsigned or malformed Authorization: {headers.get('Authorization')!r}"
        message = (
            f"{method}\n{path}\n{auth['timestamp']}\n{auth['nonce']}\n".encode() + body + b"\n"
        )
        MERCHANT_KEY.public_key().verify(
            base64.b64decode(auth["signature"]), message, padding.PKCS1v15(), hashes.SHA256()
        )  # raises InvalidSignature if our request signature is wrong
        assert auth["mchid"] == MCHID and auth["serial"] == MERCHANT_SERIAL
        self.calls.append(
            {"method": method, "path": path, "body": json.loads(body) if body else None}
        )
        if path in self.files:  # a bill download: not signed, checked by hash
            return HttpResponse(200, {}, self.files[path])
        route = path.split("?", 1)[0]
        status, data = self.answers.get((method, route), (404, {"code": "NOT_FOUND"}))
        raw = b"" if data is None else json.dumps(data, ensure_ascii=False).encode()
        return HttpResponse(status, platform_sign(raw, key=self.sign_answers_with), raw)

    def add_bill(self, day: str, content: bytes) -> None:
        download = f"/v3/billdownload/file?token={secrets.token_hex(6)}"
        self.files[download] = content
        self.answers[("GET", "/v3/bill/tradebill")] = (
            200,
            {
                "download_url": "https://api.mch.weixin.qq.com" + download,
                "hash_type": "SHA1",
                "hash_value": hashlib.sha1(content, usedforsecurity=False).hexdigest(),
            },
        )


def make_provider(fake: FakeWechatPay | None = None) -> tuple[WechatPayProvider, FakeWechatPay]:
    fake = fake or FakeWechatPay()
    config = WechatPayConfig(
        mchid=MCHID,
        appid=APPID,
        merchant_serial_no=MERCHANT_SERIAL,
        private_key=MERCHANT_KEY,
        platform_keys={PLATFORM_SERIAL: PLATFORM_KEY.public_key()},
        apiv3_key=APIV3_KEY,
        notify_base_url=NOTIFY_BASE,
    )
    return WechatPayProvider(config, transport=fake), fake
