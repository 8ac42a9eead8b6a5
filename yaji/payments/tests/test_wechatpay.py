"""The WeChat Pay API v3 adapter against the specification.

The specification documents the message format with concrete examples (the request
``GET /v3/certificates`` at timestamp 1554208460 with nonce 593BEC0C930BF1AFEB40B4A08C8FB242,
the refund query ``GET /v3/refund/domestic/refunds/123123123123``); those strings are checked
byte for byte. It documents the signature and the AEAD decryption as algorithms, without a
public key pair to reproduce: there the vectors are built in the test with a freshly generated
RSA key / a fixed AES key and checked with ``cryptography`` primitives directly.
"""

from __future__ import annotations

import base64
import json
import re
import time
from datetime import date
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.test import Client

from yaji.core.errors import ApplicationError
from yaji.core.money import Money
from yaji.ledger.selectors import user_wallet_balance
from yaji.payments.errors import (
    InvalidSignature,
    MalformedNotification,
    MalformedStatement,
    PaymentProviderNotConfigured,
    ProviderRefundRefused,
    StaleNotification,
    WechatPayError,
)
from yaji.payments.models import IntentStatus, PaymentIntent, Refund, RefundStatus
from yaji.payments.providers import provider_get, provider_install, provider_uninstall
from yaji.payments.providers.base import RefundRequest
from yaji.payments.providers.wechatpay import (
    aead_decrypt,
    authorization_header,
    jsapi_pay_params,
    request_message,
    rsa_sign,
    signature_message,
    wechatpay_verify,
)
from yaji.payments.refunds import refund_create
from yaji.payments.services import wallet_topup_create
from yaji.payments.tests import wechatpay_double as wx
from yaji.payments.tests.factories import Api, UserFactory

PLATFORM_KEYS = {wx.PLATFORM_SERIAL: wx.PLATFORM_KEY.public_key()}
DOC_TIMESTAMP = "1554208460"
DOC_NONCE = "593BEC0C930BF1AFEB40B4A08C8FB242"


def pkcs1_verify(key: rsa.RSAPrivateKey, message: bytes, signature_b64: str) -> None:
    key.public_key().verify(
        base64.b64decode(signature_b64), message, padding.PKCS1v15(), hashes.SHA256()
    )


# --- the signature message: the specification's own examples ---------------------------------


def test_request_message_matches_the_documented_certificates_example() -> None:
    message = request_message(
        method="GET",
        url="https://api.mch.weixin.qq.com/v3/certificates",
        timestamp=DOC_TIMESTAMP,
        nonce=DOC_NONCE,
        body=b"",
    )
    assert message == b"GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n"


def test_request_message_keeps_the_query_and_the_body() -> None:
    refund = request_message(
        method="get",
        url="https://api.mch.weixin.qq.com/v3/refund/domestic/refunds/123123123123",
        timestamp=DOC_TIMESTAMP,
        nonce=DOC_NONCE,
        body=b"",
    )
    assert refund == (
        b"GET\n/v3/refund/domestic/refunds/123123123123\n1554208460\n"
        b"593BEC0C930BF1AFEB40B4A08C8FB242\n\n"
    )
    body = b'{"appid":"wxd678efh567hg6787","mchid":"1230000109"}'
    query = request_message(
        method="POST",
        url="https://api.mch.weixin.qq.com/v3/pay/transactions/out-trade-no/1217752501201407033233368018?mchid=1230000109",
        timestamp=DOC_TIMESTAMP,
        nonce=DOC_NONCE,
        body=body,
    )
    assert query == (
        b"POST\n/v3/pay/transactions/out-trade-no/1217752501201407033233368018?mchid=1230000109\n"
        b"1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n" + body + b"\n"
    )


def test_every_line_ends_with_a_newline_even_the_last() -> None:
    assert signature_message("a", "", "b\n") == b"a\n\nb\n\n"


# --- request signing -------------------------------------------------------------------------


def test_authorization_header_has_the_documented_shape_and_verifies() -> None:
    header = authorization_header(
        mchid="1900009191",
        serial_no=wx.MERCHANT_SERIAL,
        private_key=wx.MERCHANT_KEY,
        method="GET",
        url="https://api.mch.weixin.qq.com/v3/certificates",
        body=b"",
        timestamp=DOC_TIMESTAMP,
        nonce=DOC_NONCE,
    )
    match = re.fullmatch(
        r'WECHATPAY2-SHA256-RSA2048 mchid="1900009191",nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242",'
        r'signature="(?P<sig>[A-Za-z0-9+/=]+)",timestamp="1554208460",'
        r'serial_no="1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C"',
        header,
    )
    assert match, header
    # 2048-bit RSA → 256-byte signature → 344 base64 characters
    assert len(base64.b64decode(match["sig"])) == 256
    pkcs1_verify(
        wx.MERCHANT_KEY,
        b"GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n",
        match["sig"],
    )


def test_signature_is_pkcs1_v15_sha256_and_deterministic() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    message = b"POST\n/v3/pay/transactions/native\n1554208460\nNONCE\n{}\n"
    expected = base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()
    assert rsa_sign(key, message) == expected == rsa_sign(key, message)


def test_jsapi_pay_sign_covers_appid_timestamp_nonce_package() -> None:
    params = jsapi_pay_params(
        appid=wx.APPID,
        prepay_id="wx201410272009395522657a690389285100",
        private_key=wx.MERCHANT_KEY,
        timestamp="1414561699",
        nonce="5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
    )
    assert params["package"] == "prepay_id=wx201410272009395522657a690389285100"
    assert params["signType"] == "RSA"
    pkcs1_verify(
        wx.MERCHANT_KEY,
        b"wxd678efh567hg6787\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\n"
        b"prepay_id=wx201410272009395522657a690389285100\n",
        params["paySign"],
    )


# --- verifying answers and notifications -----------------------------------------------------


def test_a_platform_signed_body_verifies() -> None:
    body = b'{"code_url":"weixin://wxpay/bizpayurl?pr=p4lpSuKzz"}'
    wechatpay_verify(wx.platform_sign(body), body, platform_keys=PLATFORM_KEYS)
    lower = {k.lower(): v for k, v in wx.platform_sign(body).items()}
    wechatpay_verify(lower, body, platform_keys=PLATFORM_KEYS)


@pytest.mark.parametrize(
    "tamper",
    ["body", "timestamp", "nonce", "signature", "other_key", "unknown_serial", "missing"],
)
def test_tampered_answers_are_rejected(tamper: str) -> None:
    body = b'{"trade_state":"SUCCESS"}'
    headers = wx.platform_sign(body)
    if tamper == "body":
        body = b'{"trade_state":"CLOSED"}'
    elif tamper == "timestamp":
        headers["Wechatpay-Timestamp"] = str(int(headers["Wechatpay-Timestamp"]) - 1)
    elif tamper == "nonce":
        headers["Wechatpay-Nonce"] += "x"
    elif tamper == "signature":
        headers["Wechatpay-Signature"] = "WECHATPAY/SIGNTEST/" + headers["Wechatpay-Signature"]
    elif tamper == "other_key":
        headers = wx.platform_sign(body, key=wx.MERCHANT_KEY)
    elif tamper == "unknown_serial":
        headers["Wechatpay-Serial"] = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
    else:
        del headers["Wechatpay-Signature"]
    with pytest.raises(InvalidSignature):
        wechatpay_verify(headers, body, platform_keys=PLATFORM_KEYS)


def test_timestamps_older_than_five_minutes_are_stale() -> None:
    body = b"{}"
    now = int(time.time())
    wechatpay_verify(wx.platform_sign(body, timestamp=now - 290), body, platform_keys=PLATFORM_KEYS)
    with pytest.raises(StaleNotification):
        wechatpay_verify(
            wx.platform_sign(body, timestamp=now - 301), body, platform_keys=PLATFORM_KEYS
        )
    with pytest.raises(StaleNotification):
        wechatpay_verify(
            wx.platform_sign(body, timestamp=now + 400), body, platform_keys=PLATFORM_KEYS
        )


# --- AEAD_AES_256_GCM ------------------------------------------------------------------------


def test_resource_decryption_with_a_known_key_nonce_and_ciphertext() -> None:
    key = b"a" * 32
    nonce = "fdasflkja484"
    plaintext = b'{"out_trade_no":"1217752501201407033233368018","trade_state":"SUCCESS"}'
    # the vector, computed independently of the adapter
    sealed = AESGCM(key).encrypt(nonce.encode(), plaintext, b"transaction")
    ciphertext = base64.b64encode(sealed).decode()
    assert len(sealed) == len(plaintext) + 16  # ciphertext ‖ 128-bit tag
    assert (
        aead_decrypt(key, nonce=nonce, associated_data="transaction", ciphertext_b64=ciphertext)
        == plaintext
    )
    for wrong in (
        {"nonce": "fdasflkja485", "associated_data": "transaction"},
        {"nonce": nonce, "associated_data": "refund"},
    ):
        with pytest.raises(MalformedNotification):
            aead_decrypt(key, ciphertext_b64=ciphertext, **wrong)
    with pytest.raises(MalformedNotification):
        aead_decrypt(
            b"b" * 32, nonce=nonce, associated_data="transaction", ciphertext_b64=ciphertext
        )


@pytest.mark.django_db  # the provider reads downloaded platform certificates
def test_payment_notification_is_verified_and_decrypted() -> None:
    provider, _fake = wx.make_provider()
    body = wx.payment_notification(out_trade_no="a" * 32, total=888, event_id="EV-1")
    note = provider.verify_notification(wx.platform_sign(body), body)
    assert (note.event_id, note.reference, note.status) == ("EV-1", "a" * 32, "succeeded")
    assert note.amount == Money(888, "CNY")
    with pytest.raises(InvalidSignature):
        provider.verify_notification(wx.platform_sign(body), body.replace(b"EV-1", b"EV-2"))
    garbage = json.dumps({"id": "x", "resource": {"algorithm": "AEAD_AES_256_GCM"}}).encode()
    with pytest.raises(MalformedNotification):
        provider.verify_notification(wx.platform_sign(garbage), garbage)


# --- the API calls, through the fake transport ---------------------------------------------------


@pytest.fixture
def installed():  # type: ignore[no-untyped-def]
    provider, fake = wx.make_provider()
    provider_install(provider)
    yield provider, fake
    provider_uninstall("wechatpay")


@pytest.mark.django_db
def test_native_order_is_signed_and_returns_the_code_url(installed) -> None:  # type: ignore[no-untyped-def]
    _provider, fake = installed
    fake.answers[("POST", "/v3/pay/transactions/native")] = (
        200,
        {"code_url": "weixin://wxpay/bizpayurl?pr=p4lpSuKzz"},
    )
    intent = wallet_topup_create(user=UserFactory(), amount_fen=1234, provider="wechatpay")
    call = fake.calls[-1]
    assert call["method"] == "POST" and call["path"] == "/v3/pay/transactions/native"
    body = call["body"]
    assert body["mchid"] == wx.MCHID and body["appid"] == wx.APPID
    assert body["out_trade_no"] == intent.id.hex
    assert body["amount"] == {"total": 1234, "currency": "CNY"}
    assert body["notify_url"] == "https://yaji.example/api/v1/payments/notify/wechatpay"
    assert body["time_expire"].endswith("+08:00")
    assert intent.provider_reference == intent.id.hex
    assert intent.qr_payload == "weixin://wxpay/bizpayurl?pr=p4lpSuKzz"
    assert intent.pay_url == f"/wallet/intents/{intent.id}/pay/"

    # the pay page shows the QR code to scan
    site = Client()
    site.force_login(intent.payer)
    page = site.get(intent.pay_url)
    assert page.status_code == 200
    assert "<svg" in page.content.decode() and "¥12.34" in page.content.decode()
    stranger = Client()
    stranger.force_login(UserFactory())
    assert stranger.get(intent.pay_url).status_code == 404


@pytest.mark.django_db
def test_an_answer_signed_by_someone_else_is_not_trusted(installed) -> None:  # type: ignore[no-untyped-def]
    _provider, fake = installed
    fake.answers[("POST", "/v3/pay/transactions/native")] = (200, {"code_url": "weixin://evil"})
    fake.sign_answers_with = wx.MERCHANT_KEY
    with pytest.raises(InvalidSignature):
        wallet_topup_create(user=UserFactory(), amount_fen=100, provider="wechatpay")


@pytest.mark.django_db
def test_query_close_and_errors(installed) -> None:  # type: ignore[no-untyped-def]
    provider, fake = installed
    ref = "b" * 32
    fake.answers[("GET", f"/v3/pay/transactions/out-trade-no/{ref}")] = (
        200,
        {"trade_state": "SUCCESS", "amount": {"total": 500, "currency": "CNY"}},
    )
    state = provider.query_payment(ref)
    assert (state.status, state.amount) == ("succeeded", Money(500, "CNY"))
    assert fake.calls[-1]["path"] == f"/v3/pay/transactions/out-trade-no/{ref}?mchid={wx.MCHID}"

    fake.answers[("POST", f"/v3/pay/transactions/out-trade-no/{ref}/close")] = (204, None)
    provider.close_payment(ref)
    assert fake.calls[-1]["body"] == {"mchid": wx.MCHID}

    fake.answers[("GET", "/v3/pay/transactions/out-trade-no/missing")] = (
        404,
        {"code": "ORDER_NOT_EXIST", "message": "订单不存在"},
    )
    assert provider.query_payment("missing").status == "unknown"
    fake.answers[("POST", "/v3/pay/transactions/native")] = (
        500,
        {"code": "SYSTEM_ERROR", "message": "系统错误"},
    )
    with pytest.raises(WechatPayError) as err:
        wallet_topup_create(user=UserFactory(), amount_fen=100, provider="wechatpay")
    assert err.value.extra["code"] == "SYSTEM_ERROR"


@pytest.mark.django_db
def test_jsapi_order_returns_wx_request_payment_params(installed) -> None:  # type: ignore[no-untyped-def]
    provider, fake = installed
    fake.answers[("POST", "/v3/pay/transactions/native")] = (200, {"code_url": "weixin://x"})
    fake.answers[("POST", "/v3/pay/transactions/jsapi")] = (200, {"prepay_id": "wx2014abc"})
    intent = wallet_topup_create(user=UserFactory(), amount_fen=100, provider="wechatpay")
    params = provider.create_jsapi_payment(intent, openid="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")
    assert fake.calls[-1]["body"]["payer"] == {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}
    message = signature_message(
        params["appId"], params["timeStamp"], params["nonceStr"], "prepay_id=wx2014abc"
    )
    pkcs1_verify(wx.MERCHANT_KEY, message, params["paySign"])


# --- end to end through the platform's endpoints ---------------------------------------------


@pytest.mark.django_db
def test_wechatpay_topup_notify_then_refund_notify(installed) -> None:  # type: ignore[no-untyped-def]
    _provider, fake = installed
    fake.answers[("POST", "/v3/pay/transactions/native")] = (200, {"code_url": "weixin://x"})
    user = UserFactory()
    intent = wallet_topup_create(user=user, amount_fen=5000, provider="wechatpay")
    client = Client()

    # payment notification (signed, encrypted) → credited once
    body = wx.payment_notification(out_trade_no=intent.id.hex, total=5000, event_id="EVT-PAY")
    path = "/api/v1/payments/notify/wechatpay"
    first = client.post(path, body, content_type="application/json", headers=wx.platform_sign(body))
    assert first.status_code == 200, first.content
    again = client.post(path, body, content_type="application/json", headers=wx.platform_sign(body))
    assert again.json()["outcome"] == "duplicate"
    stale = client.post(
        path,
        body,
        content_type="application/json",
        headers=wx.platform_sign(body, timestamp=int(time.time()) - 600),
    )
    assert stale.status_code == 401 and stale.json()["code"] == "stale_notification"
    intent.refresh_from_db()
    assert intent.status == IntentStatus.SUCCEEDED
    assert user_wallet_balance(user).amount == 5000

    # a partial refund goes to /v3/refund/domestic/refunds ...
    fake.answers[("POST", "/v3/refund/domestic/refunds")] = (
        200,
        {"refund_id": "50000000382019052709732678859", "status": "PROCESSING"},
    )
    refund = refund_create(intent=intent, amount_fen=1200, reason="不想要了")
    call = fake.calls[-1]
    assert call["body"] == {
        "out_trade_no": intent.id.hex,
        "out_refund_no": str(refund.id),
        "notify_url": "https://yaji.example/api/v1/payments/refund-notify/wechatpay",
        "amount": {"refund": 1200, "total": 5000, "currency": "CNY"},
        "reason": "不想要了",
    }
    assert refund.status == RefundStatus.PENDING
    assert refund.provider_reference == "50000000382019052709732678859"
    assert user_wallet_balance(user).amount == 3800  # held while in flight

    # ... and settles on WeChat Pay's REFUND.SUCCESS notification
    note = wx.refund_notification(
        out_trade_no=intent.id.hex, out_refund_no=str(refund.id), refund=1200, total=5000
    )
    response = client.post(
        "/api/v1/payments/refund-notify/wechatpay",
        note,
        content_type="application/json",
        headers=wx.platform_sign(note),
    )
    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "succeeded"
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert user_wallet_balance(user).amount == 3800


@pytest.mark.django_db
def test_refund_refused_by_wechatpay_fails_and_returns_the_money(installed) -> None:  # type: ignore[no-untyped-def]
    _provider, fake = installed
    fake.answers[("POST", "/v3/pay/transactions/native")] = (200, {"code_url": "weixin://x"})
    user = UserFactory()
    intent = wallet_topup_create(user=user, amount_fen=300, provider="wechatpay")
    body = wx.payment_notification(out_trade_no=intent.id.hex, total=300)
    Client().post(
        "/api/v1/payments/notify/wechatpay",
        body,
        content_type="application/json",
        headers=wx.platform_sign(body),
    )
    fake.answers[("POST", "/v3/refund/domestic/refunds")] = (
        403,
        {"code": "NOT_ENOUGH", "message": "基本账户余额不足"},
    )
    refund = refund_create(intent=PaymentIntent.objects.get(pk=intent.pk), amount_fen=300)
    assert refund.status == RefundStatus.FAILED
    assert user_wallet_balance(user).amount == 300
    assert PaymentIntent.objects.get(pk=intent.pk).refunded_fen == 0
    with pytest.raises(ProviderRefundRefused):
        _provider.create_refund(
            RefundRequest(
                out_reference="r1",
                payment_reference=intent.id.hex,
                amount=Money(1, "CNY"),
                payment_total=Money(300, "CNY"),
            )
        )
    assert Refund.objects.count() == 1


# --- configuration ---------------------------------------------------------------------------


def test_unconfigured_wechatpay_is_a_clear_503(settings) -> None:  # type: ignore[no-untyped-def]
    provider_uninstall("wechatpay")
    settings.YAJI_WECHATPAY_MCHID = ""
    with pytest.raises(PaymentProviderNotConfigured) as err:
        provider_get("wechatpay")
    assert err.value.status == 503
    assert "YAJI_WECHATPAY_MCHID" in err.value.extra["missing"]


@pytest.mark.django_db
def test_configured_from_settings_and_selected_by_yaji_payment_provider(
    settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    key_file = tmp_path / "apiclient_key.pem"
    key_file.write_bytes(wx.pem_private(wx.MERCHANT_KEY))
    platform_file = tmp_path / "pub_key.pem"
    platform_file.write_bytes(wx.pem_public(wx.PLATFORM_KEY))
    settings.YAJI_WECHATPAY_MCHID = wx.MCHID
    settings.YAJI_WECHATPAY_APPID = wx.APPID
    settings.YAJI_WECHATPAY_SERIAL_NO = wx.MERCHANT_SERIAL
    settings.YAJI_WECHATPAY_PRIVATE_KEY_FILE = str(key_file)
    settings.YAJI_WECHATPAY_PLATFORM_KEY_FILE = str(platform_file)
    settings.YAJI_WECHATPAY_PLATFORM_SERIAL = wx.PLATFORM_SERIAL
    settings.YAJI_WECHATPAY_AES_KEY = wx.APIV3_KEY.decode()
    settings.YAJI_WECHATPAY_NOTIFY_BASE_URL = "https://yaji.example/"
    provider_uninstall("wechatpay")
    try:
        built = provider_get("wechatpay")
        assert built.config.notify_base_url == "https://yaji.example"  # type: ignore[attr-defined]
        body = wx.payment_notification(out_trade_no="c" * 32, total=1)
        assert built.verify_notification(wx.platform_sign(body), body).amount == Money(1, "CNY")

        # YAJI_PAYMENT_PROVIDER picks it for new top-ups (with a fake network underneath)
        _fake_provider, fake = wx.make_provider()
        built.transport = fake  # type: ignore[attr-defined]
        fake.answers[("POST", "/v3/pay/transactions/native")] = (200, {"code_url": "weixin://q"})
        settings.YAJI_PAYMENT_PROVIDER = "wechatpay"
        response = Api(UserFactory()).topup(100)
        assert response.status_code == 201, response.content
        assert response.json()["intent"]["provider"] == "wechatpay"
        settings.YAJI_PAYMENT_PROVIDER = "nope"
        assert Api(UserFactory()).topup(100).status_code == 404
    finally:
        provider_uninstall("wechatpay")


def test_default_provider_is_the_sandbox(settings) -> None:  # type: ignore[no-untyped-def]
    from yaji.payments.providers import default_provider_name

    assert default_provider_name() == "sandbox"


# --- the trade bill ----------------------------------------------------------------------------

BILL = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,"
    "交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,"
    "充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,"
    "费率备注\n"
    "`2026-11-21 10:00:00,`wxd678efh567hg6787,`1900009191,`0,`,`4200001,`" + "a" * 32 + ",`o1,"
    "`NATIVE,`SUCCESS,`OTHERS,`CNY,`50.00,`0.00,`0,`0,`0.00,`0.00,`,`,`钱包充值,`,`0.30000,"
    "`0.60%,`50.00,`0.00,`\n"
    "`2026-11-21 11:00:00,`wxd678efh567hg6787,`1900009191,`0,`,`4200001,`" + "a" * 32 + ",`o1,"
    "`NATIVE,`REFUND,`OTHERS,`CNY,`0.00,`0.00,`5000001,`r-1,`12.00,`0.00,`ORIGINAL,`SUCCESS,"
    "`钱包充值,`,`-0.07000,`0.60%,`0.00,`12.00,`\n"
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\n"
    "`2,`50.00,`12.00,`0.00,`0.23000,`50.00,`12.00\n"
).encode()


@pytest.mark.django_db  # the provider reads downloaded platform certificates
def test_trade_bill_is_downloaded_hash_checked_and_parsed() -> None:
    provider, fake = wx.make_provider()
    fake.add_bill("2026-11-21", BILL)
    content = provider.statement_download(date(2026, 11, 21))
    assert content == BILL
    assert fake.calls[0]["path"] == "/v3/bill/tradebill?bill_date=2026-11-21&bill_type=ALL"
    records = provider.statement_parse(content)
    assert [
        (r.kind, r.payment_reference, r.refund_reference, r.amount.amount) for r in records
    ] == [
        ("payment", "a" * 32, "", 5000),
        ("refund", "a" * 32, "r-1", 1200),
    ]
    assert records[0].occurred_at.isoformat() == "2026-11-21T10:00:00+08:00"

    # a file that does not match its published hash is refused
    (download,) = fake.files
    fake.files[download] = BILL.replace(b"50.00", b"51.00")
    with pytest.raises(MalformedStatement):
        provider.statement_download(date(2026, 11, 21))


def test_errors_are_application_errors() -> None:
    assert issubclass(WechatPayError, ApplicationError)
