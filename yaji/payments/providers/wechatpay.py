"""WeChat Pay API v3 (微信支付 APIv3), direct merchant mode, as the published specification
describes it.

**Requests** carry ``Authorization: WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",
signature="…",timestamp="…",serial_no="…"``: the signature is
``base64(RSA-PKCS#1 v1.5-SHA256(merchant private key, message))`` over the five-line message
``METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n`` (URL = absolute path with query string; BODY empty
for GET; every line ends in ``\\n``, the last one too). ``serial_no`` names the merchant API
certificate.

**Responses and notifications** are signed by WeChat Pay with the platform key (a platform
certificate, or since 2024 the "WeChat Pay public key" whose id starts ``PUB_KEY_ID_``) over
``TIMESTAMP\\nNONCE\\nBODY\\n`` taken from the headers ``Wechatpay-Timestamp``,
``Wechatpay-Nonce``, ``Wechatpay-Signature`` (base64) and ``Wechatpay-Serial`` (which key).
Unknown serial, bad signature → ``InvalidSignature``; a timestamp more than five minutes away
from now → ``StaleNotification`` (checked after the signature: an unauthenticated timestamp is
not worth an answer). Notification bodies wrap an encrypted ``resource``
(``AEAD_AES_256_GCM``, key = the 32-byte APIv3 key, with ``nonce`` and ``associated_data``;
the ciphertext is base64 of ciphertext‖16-byte tag).

Endpoints used: Native order ``POST /v3/pay/transactions/native`` (→ ``code_url`` for a QR),
JSAPI order ``POST /v3/pay/transactions/jsapi`` (→ ``prepay_id``, plus the ``paySign`` for
``wx.requestPayment`` over ``appId\\ntimeStamp\\nnonceStr\\npackage\\n``), query
``GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid=…``, close
``POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close``, refund
``POST /v3/refund/domestic/refunds``, trade bill ``GET /v3/bill/tradebill?bill_date=…`` and its
download URL. Payment notifications (``TRANSACTION.SUCCESS``) and refund notifications
(``REFUND.SUCCESS`` / ``REFUND.ABNORMAL`` / ``REFUND.CLOSED``) go through the same
verification. Our ``out_trade_no`` is the intent id (32 hex), our ``out_refund_no`` the refund id.

The HTTP transport is injected (:data:`Transport`): tests pass a fake WeChat Pay that checks our
signatures and signs its answers; production uses :func:`urllib_transport`.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import secrets
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from yaji.core import clock
from yaji.core.errors import ApplicationError
from yaji.core.money import Money
from yaji.payments.errors import (
    InvalidSignature,
    MalformedNotification,
    MalformedStatement,
    PaymentProviderNotConfigured,
    ProviderRefundRefused,
    ProviderUnavailable,
    StaleNotification,
    WechatPayError,
)
from yaji.payments.providers.base import (
    Notification,
    ProviderPayment,
    ProviderPaymentState,
    ProviderRefund,
    RefundNotification,
    RefundRequest,
    StatementRecord,
)

if TYPE_CHECKING:
    from yaji.payments.models import PaymentIntent

PROVIDER_NAME = "wechatpay"
API_BASE = "https://api.mch.weixin.qq.com"
AUTH_SCHEMA = "WECHATPAY2-SHA256-RSA2048"
TOLERANCE_SECONDS = 300
HEADER_TIMESTAMP = "Wechatpay-Timestamp"
HEADER_NONCE = "Wechatpay-Nonce"
HEADER_SIGNATURE = "Wechatpay-Signature"
HEADER_SERIAL = "Wechatpay-Serial"
NOTIFY_PATH = "/api/v1/payments/notify/wechatpay"
REFUND_NOTIFY_PATH = "/api/v1/payments/refund-notify/wechatpay"
CHINA = timezone(timedelta(hours=8))
USER_AGENT = "yaji-wechatpay/1.0"

# trade_state → our state (query); notifications only ever report SUCCESS.
_TRADE_STATES: dict[str, str] = {
    "SUCCESS": "succeeded",
    "REFUND": "succeeded",  # paid, then (partly) refunded
    "NOTPAY": "pending",
    "USERPAYING": "pending",
    "CLOSED": "failed",
    "REVOKED": "failed",
    "PAYERROR": "failed",
}
_REFUND_EVENTS: dict[str, str] = {
    "REFUND.SUCCESS": "succeeded",
    "REFUND.ABNORMAL": "failed",
    "REFUND.CLOSED": "failed",
}


# --- transport ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes


# (method, absolute URL, headers, body) -> response. Raises OSError on network failure.
Transport = Callable[[str, str, Mapping[str, str], bytes], HttpResponse]


def urllib_transport(
    method: str, url: str, headers: Mapping[str, str], body: bytes
) -> HttpResponse:
    if not url.startswith("https://"):
        raise OSError(f"refusing a non-HTTPS URL: {url[:40]}")
    request = urllib.request.Request(  # noqa: S310  # https only, checked above
        url, data=body or None, headers=dict(headers), method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  # https only
            return HttpResponse(response.status, dict(response.headers.items()), response.read())
    except urllib.error.HTTPError as exc:
        return HttpResponse(exc.code, dict(exc.headers.items()), exc.read())


# --- the signature scheme (pure functions, tested against the specification) ----------------


def signature_message(*lines: str | bytes) -> bytes:
    """Each line followed by ``\\n`` — the last one too, as the specification insists."""
    return b"".join((line.encode() if isinstance(line, str) else line) + b"\n" for line in lines)


def request_message(*, method: str, url: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """``METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n``; ``url`` is the path with its query."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return signature_message(method.upper(), path, timestamp, nonce, body)


def rsa_sign(private_key: rsa.RSAPrivateKey, message: bytes) -> str:
    """SHA256 with RSA (PKCS#1 v1.5), base64."""
    signature = private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def rsa_verify(public_key: rsa.RSAPublicKey, message: bytes, signature_b64: str) -> bool:
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except (CryptoInvalidSignature, ValueError):
        return False
    return True


def authorization_header(
    *,
    mchid: str,
    serial_no: str,
    private_key: rsa.RSAPrivateKey,
    method: str,
    url: str,
    body: bytes,
    timestamp: str | None = None,
    nonce: str | None = None,
) -> str:
    timestamp = timestamp or str(int(clock.now().timestamp()))
    nonce = nonce or secrets.token_hex(16).upper()
    message = request_message(method=method, url=url, timestamp=timestamp, nonce=nonce, body=body)
    signature = rsa_sign(private_key, message)
    return (
        f'{AUTH_SCHEMA} mchid="{mchid}",nonce_str="{nonce}",signature="{signature}",'
        f'timestamp="{timestamp}",serial_no="{serial_no}"'
    )


def _header(headers: Mapping[str, str], name: str) -> str:
    wanted = name.lower()
    for key, value in headers.items():
        # Django's request.headers is case-insensitive; a plain dict may use any case.
        if key.lower() == wanted:
            return str(value)
    return ""


def wechatpay_verify(
    headers: Mapping[str, str], body: bytes, *, platform_keys: Mapping[str, rsa.RSAPublicKey]
) -> None:
    """Authenticate a WeChat Pay response or notification (signature, then freshness)."""
    timestamp = _header(headers, HEADER_TIMESTAMP)
    nonce = _header(headers, HEADER_NONCE)
    signature = _header(headers, HEADER_SIGNATURE)
    serial = _header(headers, HEADER_SERIAL)
    if not (timestamp and nonce and signature and serial):
        raise InvalidSignature(extra={"reason": "missing signature headers"})
    key = platform_keys.get(serial)
    if key is None:
        raise InvalidSignature(extra={"reason": "unknown platform key serial"})
    if not rsa_verify(key, signature_message(timestamp, nonce, body), signature):
        raise InvalidSignature()
    try:
        sent = int(timestamp)
    except ValueError:
        raise InvalidSignature(extra={"reason": "timestamp is not an integer"}) from None
    if abs(clock.now().timestamp() - sent) > TOLERANCE_SECONDS:
        raise StaleNotification(extra={"tolerance_seconds": TOLERANCE_SECONDS})


def aead_decrypt(
    apiv3_key: bytes, *, nonce: str, associated_data: str, ciphertext_b64: str
) -> bytes:
    """AEAD_AES_256_GCM decryption of a notification ``resource`` (ciphertext ‖ 16-byte tag)."""
    try:
        return AESGCM(apiv3_key).decrypt(
            nonce.encode(), base64.b64decode(ciphertext_b64), associated_data.encode() or None
        )
    except (InvalidTag, ValueError) as exc:
        raise MalformedNotification(extra={"reason": "resource does not decrypt"}) from exc


def aead_encrypt(apiv3_key: bytes, *, nonce: str, associated_data: str, plaintext: bytes) -> str:
    """The inverse of :func:`aead_decrypt` (what WeChat Pay does; used by the test double)."""
    sealed = AESGCM(apiv3_key).encrypt(nonce.encode(), plaintext, associated_data.encode() or None)
    return base64.b64encode(sealed).decode()


@dataclass(frozen=True, slots=True)
class PlatformCertificate:
    serial_no: str
    pem: str
    effective_at: datetime
    expires_at: datetime
    public_key: rsa.RSAPublicKey


def platform_certificates_decode(body: bytes, *, apiv3_key: bytes) -> list[PlatformCertificate]:
    """The ``/v3/certificates`` answer: ``{"data": [{"serial_no", "effective_time",
    "expire_time", "encrypt_certificate": {"algorithm": "AEAD_AES_256_GCM", "nonce",
    "associated_data", "ciphertext"}}]}``; each certificate is decrypted with the APIv3 key and
    must carry the serial number it is listed under (hex, as WeChat Pay writes it)."""
    try:
        items = json.loads(body)["data"]
        found = []
        for item in items:
            sealed = item["encrypt_certificate"]
            if sealed.get("algorithm") != "AEAD_AES_256_GCM":
                raise ValueError("unsupported algorithm")
            pem = aead_decrypt(
                apiv3_key,
                nonce=str(sealed["nonce"]),
                associated_data=str(sealed.get("associated_data") or ""),
                ciphertext_b64=str(sealed["ciphertext"]),
            )
            cert = x509.load_pem_x509_certificate(pem)
            serial = str(item["serial_no"])
            if f"{cert.serial_number:X}" != serial.upper().lstrip("0"):
                raise ValueError("certificate serial does not match its listing")
            key = cert.public_key()
            if not isinstance(key, rsa.RSAPublicKey):
                raise ValueError("the platform key must be an RSA public key")
            found.append(
                PlatformCertificate(
                    serial_no=serial,
                    pem=pem.decode(),
                    effective_at=datetime.fromisoformat(str(item["effective_time"])),
                    expires_at=datetime.fromisoformat(str(item["expire_time"])),
                    public_key=key,
                )
            )
        return found
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise MalformedNotification(extra={"reason": "platform certificates"}) from exc


def jsapi_pay_params(
    *,
    appid: str,
    prepay_id: str,
    private_key: rsa.RSAPrivateKey,
    timestamp: str | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The object the page hands to ``wx.requestPayment`` (JSAPI): ``paySign`` is the RSA
    signature over ``appId\\ntimeStamp\\nnonceStr\\npackage\\n``."""
    timestamp = timestamp or str(int(clock.now().timestamp()))
    nonce = nonce or secrets.token_hex(16).upper()
    package = f"prepay_id={prepay_id}"
    message = signature_message(appid, timestamp, nonce, package)
    return {
        "appId": appid,
        "timeStamp": timestamp,
        "nonceStr": nonce,
        "package": package,
        "signType": "RSA",
        "paySign": rsa_sign(private_key, message),
    }


# --- configuration --------------------------------------------------------------------------


def load_private_key(pem: bytes) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the merchant key must be an RSA private key")
    return key


def load_platform_key(pem: bytes) -> rsa.RSAPublicKey:
    """A platform certificate (``-----BEGIN CERTIFICATE-----``) or a WeChat Pay public key."""
    key: object = (
        x509.load_pem_x509_certificate(pem).public_key()
        if b"CERTIFICATE" in pem
        else serialization.load_pem_public_key(pem)
    )
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the platform key must be an RSA public key")
    return key


@dataclass(frozen=True)
class WechatPayConfig:
    mchid: str
    appid: str
    merchant_serial_no: str
    private_key: rsa.RSAPrivateKey
    platform_keys: Mapping[str, rsa.RSAPublicKey]
    apiv3_key: bytes
    notify_base_url: str
    api_base: str = API_BASE
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.apiv3_key) != 32:
            raise ValueError("the APIv3 key is 32 bytes")


def wechatpay_config_from_settings(settings: Any) -> WechatPayConfig:
    """Build the configuration from ``YAJI_WECHATPAY_*``; ``provider_not_configured`` (503)
    names what is missing."""
    names = {
        "mchid": "YAJI_WECHATPAY_MCHID",
        "appid": "YAJI_WECHATPAY_APPID",
        "serial": "YAJI_WECHATPAY_SERIAL_NO",
        "key_file": "YAJI_WECHATPAY_PRIVATE_KEY_FILE",
        "platform_file": "YAJI_WECHATPAY_PLATFORM_KEY_FILE",
        "platform_serial": "YAJI_WECHATPAY_PLATFORM_SERIAL",
        "apiv3": "YAJI_WECHATPAY_AES_KEY",
        "notify": "YAJI_WECHATPAY_NOTIFY_BASE_URL",
    }
    values = {key: str(getattr(settings, name, "") or "") for key, name in names.items()}
    missing = [names[key] for key, value in values.items() if not value]
    if missing:
        raise PaymentProviderNotConfigured(extra={"missing": missing})
    try:
        return WechatPayConfig(
            mchid=values["mchid"],
            appid=values["appid"],
            merchant_serial_no=values["serial"],
            private_key=load_private_key(Path(values["key_file"]).read_bytes()),
            platform_keys={
                values["platform_serial"]: load_platform_key(
                    Path(values["platform_file"]).read_bytes()
                )
            },
            apiv3_key=values["apiv3"].encode(),
            notify_base_url=values["notify"].rstrip("/"),
        )
    except (OSError, ValueError) as exc:
        raise PaymentProviderNotConfigured(extra={"reason": str(exc)[:200]}) from exc


# --- the adapter ----------------------------------------------------------------------------


def _money_cny(total: object, currency: object = "CNY") -> Money:
    if isinstance(total, bool) or not isinstance(total, int):
        raise ValueError("amount is not an integer of fen")
    return Money(total, str(currency or "CNY"))


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(CHINA).isoformat(timespec="seconds")


class WechatPayProvider:
    name = PROVIDER_NAME

    def __init__(self, config: WechatPayConfig, transport: Transport = urllib_transport) -> None:
        self.config = config
        self.transport = transport

    # -- HTTP --

    def _request(
        self,
        method: str,
        path: str,
        payload: dict[str, Any] | None = None,
        *,
        bootstrap: bool = False,
    ) -> Any:
        """Signed request; the 2xx answer's signature is verified before its body is trusted."""
        body = (
            json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
            if payload is not None
            else b""
        )
        url = self.config.api_base + path
        headers = {
            "Authorization": authorization_header(
                mchid=self.config.mchid,
                serial_no=self.config.merchant_serial_no,
                private_key=self.config.private_key,
                method=method,
                url=url,
                body=body,
            ),
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        if body:
            headers["Content-Type"] = "application/json"
        try:
            response = self.transport(method, url, headers, body)
        except OSError as exc:
            raise ProviderUnavailable(extra={"provider": self.name}) from exc
        if not 200 <= response.status < 300:
            try:
                error = json.loads(response.body or b"{}")
            except ValueError:
                error = {}
            raise WechatPayError(
                extra={
                    "http_status": response.status,
                    "code": str(error.get("code", ""))[:64],
                    "message": str(error.get("message", ""))[:200],
                }
            )
        keys = self.platform_keys()
        if bootstrap:
            # /v3/certificates may be signed with a certificate we do not have yet (the first
            # download, or a rotation): WeChat Pay's guide verifies it with the certificates
            # the answer itself carries, decrypted with our APIv3 key (which a forger lacks).
            keys.update(
                (cert.serial_no, cert.public_key)
                for cert in platform_certificates_decode(
                    response.body, apiv3_key=self.config.apiv3_key
                )
            )
        wechatpay_verify(response.headers, response.body, platform_keys=keys)
        return json.loads(response.body) if response.body else None

    # -- platform certificates --

    def platform_keys(self) -> dict[str, rsa.RSAPublicKey]:
        """The configured platform key plus every downloaded certificate still valid."""
        from yaji.payments.models import WechatPayPlatformCertificate

        keys = dict(self.config.platform_keys)
        now = clock.now()
        for row in WechatPayPlatformCertificate.objects.filter(
            effective_at__lte=now + timedelta(days=1), expires_at__gt=now
        ):
            try:
                keys.setdefault(row.serial_no, load_platform_key(row.pem.encode()))
            except ValueError:  # pragma: no cover - stored only after decoding once
                continue
        return keys

    def platform_certificates_refresh(self) -> list[str]:
        """Download ``/v3/certificates`` and keep every certificate (new serials added, known
        ones left as they are); returns the serials WeChat Pay listed."""
        from yaji.payments.models import WechatPayPlatformCertificate

        payload = self._request("GET", "/v3/certificates", bootstrap=True)
        certificates = platform_certificates_decode(
            json.dumps(payload).encode(), apiv3_key=self.config.apiv3_key
        )
        for cert in certificates:
            WechatPayPlatformCertificate.objects.update_or_create(
                serial_no=cert.serial_no,
                defaults={
                    "pem": cert.pem,
                    "effective_at": cert.effective_at,
                    "expires_at": cert.expires_at,
                },
            )
        return [cert.serial_no for cert in certificates]

    # -- payments --

    def _order(self, intent: PaymentIntent) -> dict[str, Any]:
        return {
            "appid": self.config.appid,
            "mchid": self.config.mchid,
            "description": str(intent.get_purpose_display())[:127],
            "out_trade_no": intent.id.hex,
            "time_expire": _rfc3339(intent.expires_at),
            "notify_url": self.config.notify_base_url + NOTIFY_PATH,
            "amount": {"total": intent.provider_amount_fen, "currency": intent.currency},
        }

    def create_payment(self, intent: PaymentIntent, *, return_url: str = "") -> ProviderPayment:
        """Native order: the payer scans ``code_url`` (shown as a QR) with WeChat."""
        data = self._request("POST", "/v3/pay/transactions/native", self._order(intent))
        try:
            code_url = str(data["code_url"])
        except (TypeError, KeyError) as exc:
            raise WechatPayError(extra={"reason": "no code_url in the answer"}) from exc
        return ProviderPayment(reference=intent.id.hex, redirect_url="", qr_payload=code_url)

    def create_jsapi_payment(self, intent: PaymentIntent, *, openid: str) -> dict[str, str]:
        """JSAPI order (inside WeChat): the parameters for ``wx.requestPayment``."""
        order = {**self._order(intent), "payer": {"openid": openid}}
        data = self._request("POST", "/v3/pay/transactions/jsapi", order)
        try:
            prepay_id = str(data["prepay_id"])
        except (TypeError, KeyError) as exc:
            raise WechatPayError(extra={"reason": "no prepay_id in the answer"}) from exc
        return jsapi_pay_params(
            appid=self.config.appid, prepay_id=prepay_id, private_key=self.config.private_key
        )

    def query_payment(self, reference: str) -> ProviderPaymentState:
        path = (
            f"/v3/pay/transactions/out-trade-no/{quote(reference, safe='')}"
            f"?mchid={quote(self.config.mchid, safe='')}"
        )
        try:
            data = self._request("GET", path)
        except WechatPayError as exc:
            if exc.extra.get("code") == "ORDER_NOT_EXIST":
                return ProviderPaymentState(reference=reference, status="unknown", amount=None)
            raise
        status = _TRADE_STATES.get(str(data.get("trade_state")), "unknown")
        amount = data.get("amount") or {}
        total = amount.get("total")
        return ProviderPaymentState(
            reference=reference,
            status=status,  # type: ignore[arg-type]  # values of the table above
            amount=_money_cny(total, amount.get("currency")) if total is not None else None,
        )

    def close_payment(self, reference: str) -> None:
        """Close an unpaid order (the payer can no longer pay it); 204 on success."""
        self._request(
            "POST",
            f"/v3/pay/transactions/out-trade-no/{quote(reference, safe='')}/close",
            {"mchid": self.config.mchid},
        )

    def _resource(self, headers: Mapping[str, str], body: bytes) -> tuple[dict, dict]:
        wechatpay_verify(headers, body, platform_keys=self.platform_keys())
        try:
            envelope = json.loads(body)
            resource = envelope["resource"]
            if resource.get("algorithm") != "AEAD_AES_256_GCM":
                raise ValueError("unsupported algorithm")
            plain = aead_decrypt(
                self.config.apiv3_key,
                nonce=str(resource["nonce"]),
                associated_data=str(resource.get("associated_data") or ""),
                ciphertext_b64=str(resource["ciphertext"]),
            )
            return envelope, json.loads(plain)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise MalformedNotification() from exc

    def verify_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        envelope, data = self._resource(headers, body)
        try:
            if data.get("mchid") not in (None, self.config.mchid):
                raise ValueError("notification for another merchant")
            state = str(data["trade_state"])
            status = "succeeded" if state == "SUCCESS" else "failed"
            if _TRADE_STATES.get(state) not in ("succeeded", "failed"):
                raise ValueError(f"not a final trade state: {state}")
            amount = data["amount"]
            return Notification(
                event_id=str(envelope["id"])[:100],
                reference=str(data["out_trade_no"])[:100],
                status=status,  # type: ignore[arg-type]  # one of the two above
                amount=_money_cny(amount["total"], amount.get("currency")),
                occurred_at=datetime.fromisoformat(data["success_time"])
                if data.get("success_time")
                else None,
            )
        except (ValueError, KeyError, TypeError, AttributeError, ApplicationError) as exc:
            raise MalformedNotification() from exc

    # -- refunds --

    def create_refund(self, request: RefundRequest) -> ProviderRefund:
        payload: dict[str, Any] = {
            "out_trade_no": request.payment_reference,
            "out_refund_no": request.out_reference,
            "notify_url": self.config.notify_base_url + REFUND_NOTIFY_PATH,
            "amount": {
                "refund": request.amount.amount,
                "total": request.payment_total.amount,
                "currency": request.amount.currency,
            },
        }
        if request.reason:
            payload["reason"] = request.reason[:80]
        try:
            data = self._request("POST", "/v3/refund/domestic/refunds", payload)
        except WechatPayError as exc:
            if exc.extra.get("http_status") in (400, 403, 404):
                # NOT_ENOUGH, INVALID_REQUEST, ...: the refund itself is refused.
                raise ProviderRefundRefused(extra=exc.extra) from exc
            raise
        return ProviderRefund(reference=str(data.get("refund_id", "")))

    def verify_refund_notification(
        self, headers: Mapping[str, str], body: bytes
    ) -> RefundNotification:
        envelope, data = self._resource(headers, body)
        try:
            status = _REFUND_EVENTS[str(envelope["event_type"])]
            amount = data["amount"]
            return RefundNotification(
                event_id=str(envelope["id"])[:100],
                reference=str(data["refund_id"])[:100],
                out_reference=str(data["out_refund_no"])[:100],
                status=status,  # type: ignore[arg-type]  # values of the table above
                amount=_money_cny(amount["refund"], amount.get("currency")),
                failure_reason=""
                if status == "succeeded"
                else str(data.get("refund_status", "ABNORMAL")).lower()[:64],
            )
        except (ValueError, KeyError, TypeError, AttributeError, ApplicationError) as exc:
            raise MalformedNotification() from exc

    # -- the daily trade bill --

    def statement_download(self, day: date) -> bytes:
        """``GET /v3/bill/tradebill`` gives a download URL and the file's SHA1; the file itself
        is not signed, so its hash is checked instead."""
        info = self._request("GET", f"/v3/bill/tradebill?bill_date={day.isoformat()}&bill_type=ALL")
        url = str(info["download_url"])
        headers = {
            "Authorization": authorization_header(
                mchid=self.config.mchid,
                serial_no=self.config.merchant_serial_no,
                private_key=self.config.private_key,
                method="GET",
                url=url,
                body=b"",
            ),
            "User-Agent": USER_AGENT,
        }
        try:
            response = self.transport("GET", url, headers, b"")
        except OSError as exc:
            raise ProviderUnavailable(extra={"provider": self.name}) from exc
        if response.status != 200:
            raise WechatPayError(extra={"http_status": response.status})
        expected_hash = str(info.get("hash_value", "")).lower()
        if str(info.get("hash_type", "SHA1")).upper() == "SHA1":
            # SHA1 is what the bill API publishes; it checks integrity, not authenticity.
            actual_hash = hashlib.sha1(response.body, usedforsecurity=False).hexdigest()
            if actual_hash != expected_hash:
                raise MalformedStatement(extra={"reason": "hash mismatch"})
        return response.body

    def statement_parse(self, content: bytes) -> list[StatementRecord]:
        """The trade bill: a header line, one line per transaction with every field prefixed by
        a backtick, then two summary lines. Amounts are yuan with two decimals."""
        try:
            lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
            header = [name.strip() for name in lines[0]]
            column = {name: index for index, name in enumerate(header)}
            records: list[StatementRecord] = []
            for raw in lines[1:]:
                if not raw or not raw[0].startswith("`"):
                    break  # the summary starts
                row = [value.strip().lstrip("`") for value in raw]
                occurred = datetime.strptime(row[column["交易时间"]], "%Y-%m-%d %H:%M:%S")
                occurred = occurred.replace(tzinfo=CHINA)
                state = row[column["交易状态"]]
                if state == "REFUND":
                    records.append(
                        StatementRecord(
                            kind="refund",
                            payment_reference=row[column["商户订单号"]],
                            refund_reference=row[column["商户退款单号"]],
                            amount=Money.parse(row[column["退款金额"]], "CNY"),
                            occurred_at=occurred,
                        )
                    )
                elif state == "SUCCESS":
                    records.append(
                        StatementRecord(
                            kind="payment",
                            payment_reference=row[column["商户订单号"]],
                            refund_reference="",
                            amount=Money.parse(row[column["订单金额"]], "CNY"),
                            occurred_at=occurred,
                        )
                    )
        except (IndexError, KeyError, ValueError, InvalidOperation, ApplicationError) as exc:
            raise MalformedStatement(extra={"reason": str(exc)[:200]}) from exc
        return records


def wechatpay_certificates_refresh_job() -> dict[str, int]:
    """Periodic: keep the platform certificates current when WeChat Pay is the provider (WeChat
    Pay publishes a new certificate well before it starts signing with it)."""
    from yaji.payments.providers import default_provider_name, provider_get

    if default_provider_name() != PROVIDER_NAME:
        return {"certificates": 0}
    provider = provider_get(PROVIDER_NAME)
    return {"certificates": len(provider.platform_certificates_refresh())}  # type: ignore[attr-defined]
