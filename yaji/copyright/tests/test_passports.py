"""Digital passports: issued for a bound limited edition's units at payment, a provenance trail
checked against the log, forged payloads refused with nothing recorded, clone detection."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client

from yaji.accounts.models import Role, RoleAssignment
from yaji.copyright import passport_tokens, passports
from yaji.copyright.errors import (
    EditionNotBindable,
    PassportInvalid,
    PassportNotFound,
    PassportNotTransferable,
)
from yaji.copyright.log_keys import log_origin, log_public_key
from yaji.copyright.models import (
    CloneCase,
    LogEntry,
    Passport,
    PassportEvent,
    PassportScan,
)
from yaji.copyright.tests.factories import registered, reviewer
from yaji.core.outbox import outbox_relay_once
from yaji.trade import services as trade
from yaji.trade.tests.factories import (
    address_for,
    buyer_funded,
    cart_with,
    listed,
    shop_open,
)

pytestmark = pytest.mark.django_db


def edition_bound(size: int = 5):  # type: ignore[no-untyped-def]
    shop = shop_open()
    RoleAssignment.objects.get_or_create(user=shop.owner, role=Role.CREATOR)
    design = registered(shop.owner, seed=3)
    product = listed(shop, stock=size, kind="limited_edition", edition_size=size, per_buyer_limit=3)
    passports.edition_design_bind(user=shop.owner, product_id=product.pk, registration_id=design.pk)
    return product, design


def bought(product, quantity: int = 1):  # type: ignore[no-untyped-def]
    buyer = buyer_funded()
    cart_with(buyer, (product, quantity))
    checkout = trade.checkout_place(buyer=buyer, address_id=address_for(buyer).pk)
    trade.checkout_pay_with_wallet(buyer=buyer, checkout_id=checkout.pk)
    while outbox_relay_once():  # trade.order_paid → passports
        pass
    return buyer, checkout


def altered(token: str) -> str:
    prefix, payload, signature = token.split(".")
    raw = passport_tokens._unb64url(payload).replace(b'"number":1', b'"number":2')
    return ".".join([prefix, passport_tokens._b64url(raw), signature])


class TestIssue:
    def test_paid_units_get_signed_passports_bound_to_the_design_entry(self) -> None:
        product, design = edition_bound()
        buyer, _checkout = bought(product, 2)
        issued = list(Passport.objects.order_by("number"))
        assert [p.number for p in issued] == [1, 2]
        assert all(p.holder_id == buyer.pk for p in issued)
        claim = passport_tokens.token_verify(
            issued[0].token, public_key=log_public_key(), origin=log_origin()
        )
        assert claim.design_index == design.entry.index
        assert claim.design_leaf_hash == design.entry.leaf_hash
        assert (claim.serial, claim.number, claim.product_id) == (issued[0].serial, 1, product.pk)
        # each passport's steps are leaves of the same log, and the audit accepts them
        kinds = list(
            PassportEvent.objects.filter(passport=issued[0]).values_list("kind", flat=True)
        )
        assert kinds == ["produced", "sold"]
        assert LogEntry.objects.count() == 1 + 2 * 2
        call_command("verify_log")  # exits non-zero (SystemExit) on any problem
        # a redelivery issues nothing twice
        assert passports.passports_issue_for_order(order_id=issued[0].order_id) == []

    def test_only_the_designs_registrant_managing_the_shop_may_bind(self) -> None:
        shop = shop_open()
        other_design = registered(seed=4)  # someone else's design
        product = listed(shop, stock=5, kind="limited_edition", edition_size=5, per_buyer_limit=1)
        with pytest.raises(EditionNotBindable):
            passports.edition_design_bind(
                user=shop.owner, product_id=product.pk, registration_id=other_design.pk
            )
        with pytest.raises(EditionNotBindable):  # the designer does not manage the shop
            passports.edition_design_bind(
                user=other_design.registrant, product_id=product.pk, registration_id=other_design.pk
            )

    def test_a_refund_voids_the_passport_and_the_step_is_logged(self) -> None:
        product, _design = edition_bound()
        buyer, checkout = bought(product)
        order = checkout.orders.get()
        trade.order_refund_before_shipment(buyer=buyer, order_id=order.pk)
        while outbox_relay_once():
            pass
        passport = Passport.objects.get()
        assert passport.status == Passport.Status.VOID and passport.edition_unit_id is None
        assert passport.events.last().kind == "voided"

    def test_transfer_is_logged_and_only_the_holder_may_transfer(self) -> None:
        product, _design = edition_bound()
        buyer, _ = bought(product)
        passport = Passport.objects.get()
        friend = buyer_funded()
        with pytest.raises(PassportNotTransferable):
            passports.passport_transfer(holder=friend, serial=passport.serial, to_user=buyer)
        passports.passport_transfer(holder=buyer, serial=passport.serial, to_user=friend)
        passport.refresh_from_db()
        assert passport.holder_id == friend.pk
        assert passport.events.last().kind == "transferred"


class TestScan:
    def test_the_page_shows_every_step_verified_against_the_log(self, client: Client) -> None:
        product, _design = edition_bound()
        bought(product)
        passport = Passport.objects.get()
        response = client.get(f"/copyright/p/{passport.token}/?city=suzhou")
        assert response.status_code == 200
        html = response.content.decode()
        assert html.count('data-testid="trail-step"') == 3  # registered, produced, sold
        assert html.count('data-status="verified"') == 3
        assert PassportScan.objects.get().city == "suzhou"

    @pytest.mark.parametrize(
        "mangle",
        [
            altered,  # the edition number changed, old signature kept
            lambda t: t[:-4] + ("AAAA" if not t.endswith("AAAA") else "BBBB"),  # signature
            lambda t: "YJP1.bm90LWEtcGFzc3BvcnQ.c2ln",
            lambda t: "garbage",
        ],
    )
    def test_a_forged_or_altered_payload_is_refused_and_nothing_recorded(
        self, client: Client, mangle
    ) -> None:  # type: ignore[no-untyped-def]
        product, _design = edition_bound()
        bought(product)
        passport = Passport.objects.get()
        entries = LogEntry.objects.count()
        response = client.get(f"/copyright/p/{mangle(passport.token)}/")
        assert response.status_code == 422
        assert 'data-code="passport_invalid"' in response.content.decode()
        with pytest.raises(PassportInvalid):
            passports.passport_scan(token=mangle(passport.token), city="beijing")
        assert not PassportScan.objects.exists()
        assert LogEntry.objects.count() == entries

    def test_a_payload_signed_by_another_log_key_is_refused(self, settings) -> None:  # type: ignore[no-untyped-def]
        product, _design = edition_bound()
        bought(product)
        token = Passport.objects.get().token
        settings.YAJI_COPYRIGHT_LOG_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
        with pytest.raises(PassportInvalid):
            passports.passport_scan(token=token)
        assert not PassportScan.objects.exists()

    def test_a_genuine_signature_for_an_unknown_serial_is_not_found(self) -> None:
        from yaji.copyright.log_keys import log_private_key

        claim = passport_tokens.PassportClaim(
            serial="YJ-000000000000",
            origin=log_origin(),
            design_index=0,
            design_leaf_hash="0" * 64,
            product_id=1,
            number=1,
            edition_size=1,
        )
        with pytest.raises(PassportNotFound):
            passports.passport_scan(token=passport_tokens.token_sign(log_private_key(), claim))


class TestClones:
    def test_two_far_cities_in_minutes_flag_and_queue_the_passport(self, freezer) -> None:  # type: ignore[no-untyped-def]
        product, _design = edition_bound()
        bought(product)
        passport = Passport.objects.get()
        first = passports.passport_scan(token=passport.token, city="beijing")
        assert first.flags == []
        freezer.tick(timedelta(hours=20))  # Shanghai the next day: a train ride
        assert passports.passport_scan(token=passport.token, city="shanghai").flags == []
        freezer.tick(timedelta(minutes=30))  # Ürümqi 30 minutes later: ~3,270 km
        result = passports.passport_scan(token=passport.token, city="urumqi")
        assert [f["kind"] for f in result.flags] == ["impossible_travel"]
        passport.refresh_from_db()
        assert passport.status == Passport.Status.SUSPECTED
        case = CloneCase.objects.get()
        assert case.status == CloneCase.Status.OPEN and case.reasons[0]["to_city"] == "urumqi"
        # a further suspicious scan adds to the same open case
        freezer.tick(timedelta(minutes=5))
        passports.passport_scan(token=passport.token, city="shanghai")
        assert CloneCase.objects.count() == 1 and len(CloneCase.objects.get().reasons) == 2

    def test_the_address_gives_the_city_when_the_scan_carries_none(self, freezer) -> None:  # type: ignore[no-untyped-def]
        product, _design = edition_bound()
        bought(product)
        token = Passport.objects.get().token
        passports.passport_scan(token=token, ip="192.0.2.10")  # sandbox GeoIP: Beijing
        freezer.tick(timedelta(minutes=10))
        result = passports.passport_scan(token=token, ip="203.0.113.7")  # Ürümqi
        assert result.scan.city == "urumqi" and result.scan.ip_prefix == "203.0.113.0/24"
        assert [f["kind"] for f in result.flags] == ["impossible_travel"]

    def test_too_many_scans_in_a_day_are_flagged(self, freezer) -> None:  # type: ignore[no-untyped-def]
        product, _design = edition_bound()
        bought(product)
        token = Passport.objects.get().token
        for _ in range(passports.BURST_MAX_SCANS):
            assert passports.passport_scan(token=token, city="hangzhou").flags == []
            freezer.tick(timedelta(minutes=1))
        result = passports.passport_scan(token=token, city="hangzhou")
        assert [f["kind"] for f in result.flags] == ["too_many_scans"]

    def test_the_reviewer_decides_and_the_page_shows_it(self, client: Client, freezer) -> None:  # type: ignore[no-untyped-def]
        product, _design = edition_bound()
        bought(product)
        passport = Passport.objects.get()
        passports.passport_scan(token=passport.token, city="harbin")
        freezer.tick(timedelta(minutes=20))
        passports.passport_scan(token=passport.token, city="kunming")
        page = client.get(f"/copyright/p/{passport.token}/").content.decode()
        assert 'data-testid="clone-warning"' in page
        case = CloneCase.objects.get()
        # not a reviewer: the queue does not exist for them
        client.force_login(passport.holder)
        assert client.get("/copyright/clones/").status_code == 404
        assert (
            client.post(f"/copyright/clones/{case.pk}/", {"verdict": "genuine"}).status_code == 404
        )
        staff = reviewer()
        client.force_login(staff)
        assert 'data-testid="clone-row"' in client.get("/copyright/clones/").content.decode()
        assert client.get(f"/copyright/clones/{case.pk}/").status_code == 200
        client.post(f"/copyright/clones/{case.pk}/", {"verdict": "clone", "reason": "两地同时出现"})
        case.refresh_from_db()
        passport.refresh_from_db()
        assert case.status == CloneCase.Status.CLONE and passport.status == Passport.Status.CLONED


class TestPassportPages:
    def test_my_passports_and_the_qr_are_the_holders_only(self, client: Client) -> None:
        product, _design = edition_bound()
        buyer, _ = bought(product)
        passport = Passport.objects.get()
        stranger = buyer_funded()
        client.force_login(stranger)
        assert client.get(f"/copyright/passports/{passport.serial}.png").status_code == 404
        assert passport.serial not in client.get("/copyright/passports/").content.decode()
        client.force_login(buyer)
        assert passport.serial in client.get("/copyright/passports/").content.decode()
        qr = client.get(f"/copyright/passports/{passport.serial}.png")
        assert qr.status_code == 200 and qr.content[:8] == b"\x89PNG\r\n\x1a\n"
        client.post("/copyright/passports/", {"serial": passport.serial, "to": stranger.email})
        passport.refresh_from_db()
        assert passport.holder_id == stranger.pk


class TestPassportApi:
    def test_scan_over_the_api_returns_the_verified_trail_and_refuses_forgeries(
        self, client: Client
    ) -> None:
        product, design = edition_bound()
        bought(product)
        passport = Passport.objects.get()
        url = "/api/v1/copyright/passports/scan"
        ok = client.post(
            url, {"token": passport.token, "city": "suzhou"}, content_type="application/json"
        )
        assert ok.status_code == 200, ok.content
        body = ok.json()
        assert body["serial"] == passport.serial and body["number"] == 1
        assert body["design_registration_id"] == design.pk
        assert [s["status"] for s in body["trail"]] == ["verified"] * 3
        bad = client.post(url, {"token": altered(passport.token)}, content_type="application/json")
        assert bad.status_code == 422 and bad.json()["code"] == "passport_invalid"
        assert PassportScan.objects.count() == 1  # only the genuine scan
