"""The accounts API end to end: bodies, error codes, auth, object-level 404s."""

from __future__ import annotations

import pytest

from yaji.accounts.models import AuditEntry, Device, RoleAssignment
from yaji.accounts.notifications import last_code_for
from yaji.accounts.tests.factories import PASSWORD, UserFactory, operator, valid_id

pytestmark = pytest.mark.django_db


def error(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code and body["message"] and isinstance(body["extra"], dict)
    return body


class TestSignUpAndLogin:
    def test_full_flow_by_phone(self, api) -> None:  # type: ignore[no-untyped-def]
        sent = api.post("/auth/codes", {"target": "13900001111"})
        assert sent.status_code == 202 and sent.json()["target_masked"] == "139****1111"
        code = last_code_for("13900001111")
        reg = api.post(
            "/auth/register",
            {
                "identifier": "13900001111",
                "code": code,
                "password": PASSWORD,
                "display_name": "宝钗",
            },
            headers={"Idempotency-Key": "reg-1"},
        )
        assert reg.status_code == 201, reg.content
        assert (
            reg.json()["phone_masked"] == "139****1111"
            and "13900001111" not in reg.content.decode()
        )

        body = api.login("13900001111")
        assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
        me = api.get("/me")
        assert me.status_code == 200 and me.json()["display_name"] == "宝钗"
        assert [r["role"] for r in me.json()["roles"]] == ["buyer"]

        refreshed = api.post("/auth/refresh", {"refresh_token": body["refresh_token"]})
        assert refreshed.status_code == 200
        error(
            api.post("/auth/refresh", {"refresh_token": body["refresh_token"]}), 401, "token_reused"
        )

    def test_idempotent_register_replays(self, api) -> None:  # type: ignore[no-untyped-def]
        api.post("/auth/codes", {"target": "i@example.com"})
        payload = {
            "identifier": "i@example.com",
            "code": last_code_for("i@example.com"),
            "password": PASSWORD,
        }
        first = api.post("/auth/register", payload, headers={"Idempotency-Key": "k-1"})
        again = api.post("/auth/register", payload, headers={"Idempotency-Key": "k-1"})
        assert first.status_code == again.status_code == 201
        assert first.json()["id"] == again.json()["id"]

    @pytest.mark.parametrize(
        "path, payload",
        [
            ("/auth/codes", {"target": 5}),
            ("/auth/codes", {"target": "13900001111", "purpose": "spam"}),
            ("/auth/register", {"identifier": "a@example.com", "code": "12ab56", "password": "x"}),
            ("/auth/login", {"identifier": "a@example.com"}),
            ("/auth/refresh", {}),
        ],
    )
    def test_bad_input_is_422_validation_error(self, api, path: str, payload: dict) -> None:  # type: ignore[no-untyped-def]
        body = error(api.post(path, payload), 422, "validation_error")
        assert body["extra"]["errors"]

    def test_service_errors_have_stable_codes(self, api, user) -> None:  # type: ignore[no-untyped-def]
        error(api.post("/auth/codes", {"target": "12345"}), 422, "invalid_identifier")
        error(api.post("/auth/codes", {"target": "13812345678"}), 409, "identifier_taken")
        body = error(
            api.post("/auth/login", {"identifier": user.email, "password": "wrong"}),
            401,
            "invalid_credentials",
        )
        assert body["extra"]["attempts_left"] == 4
        error(
            api.post(
                "/auth/register",
                {"identifier": "n@example.com", "code": "123456", "password": PASSWORD},
            ),
            400,
            "code_invalid",
        )
        api.post("/auth/codes", {"target": "n@example.com"})
        error(api.post("/auth/codes", {"target": "n@example.com"}), 429, "rate_limited")

    def test_lockout_over_the_api(self, api, user) -> None:  # type: ignore[no-untyped-def]
        for _ in range(4):
            api.post("/auth/login", {"identifier": user.email, "password": "wrong"})
        body = error(
            api.post("/auth/login", {"identifier": user.email, "password": "wrong"}),
            429,
            "account_locked",
        )
        assert body["extra"]["retry_after"] > 0
        error(
            api.post("/auth/login", {"identifier": user.email, "password": PASSWORD}),
            429,
            "account_locked",
        )

    def test_password_reset(self, api, user) -> None:  # type: ignore[no-untyped-def]
        api.post("/auth/codes", {"target": user.email, "purpose": "password_reset"})
        code = last_code_for(user.email)
        ok = api.post(
            "/auth/password-reset",
            {"identifier": user.email, "code": code, "new_password": "新的-Secret-99"},
        )
        assert ok.status_code == 200
        api.login(user.email, "新的-Secret-99")

    def test_login_with_a_code(self, api, user) -> None:  # type: ignore[no-untyped-def]
        sent = api.post("/auth/codes", {"target": user.email, "purpose": "login"})
        assert sent.status_code == 202
        response = api.post(
            "/auth/login-code", {"identifier": user.email, "code": last_code_for(user.email)}
        )
        assert response.status_code == 200
        body = response.json()
        assert body["user"]["id"] == user.pk and body["access_token"].startswith("yat_")
        error(
            api.post("/auth/login-code", {"identifier": user.email, "code": "12"}),
            400,
            "code_invalid",
        )
        error(api.post("/auth/login-code", {"identifier": user.email}), 422, "validation_error")


class TestMe:
    def test_requires_authentication(self, api) -> None:  # type: ignore[no-untyped-def]
        error(api.get("/me"), 401, "not_authenticated")
        api.token = "yat_forged"
        error(api.get("/me"), 401, "not_authenticated")

    def test_site_session_works_too(self, api, user) -> None:  # type: ignore[no-untyped-def]
        api.client.force_login(user)
        assert api.get("/me").json()["id"] == user.pk

    def test_update_profile(self, api, user) -> None:  # type: ignore[no-untyped-def]
        api.login(user.email)
        response = api.patch("/me", {"display_name": "潇湘妃子", "language": "en"})
        assert response.status_code == 200 and response.json()["language"] == "en"
        error(api.patch("/me", {"language": "fr"}), 422, "validation_error")

    def test_password_change(self, api, user) -> None:  # type: ignore[no-untyped-def]
        api.login(user.email)
        error(
            api.post("/me/password", {"old_password": "nope", "new_password": "x"}),
            401,
            "invalid_credentials",
        )
        error(
            api.post("/me/password", {"old_password": PASSWORD, "new_password": "12345678"}),
            422,
            "weak_password",
        )
        assert (
            api.post(
                "/me/password", {"old_password": PASSWORD, "new_password": "Brand-New-墨-7"}
            ).status_code
            == 200
        )
        assert api.get("/me").status_code == 200  # this session survives

    def test_logout_revokes_the_token(self, api, user) -> None:  # type: ignore[no-untyped-def]
        body = api.login(user.email)
        assert api.post("/auth/logout").status_code == 200
        error(api.get("/me"), 401, "not_authenticated")
        error(
            api.post("/auth/refresh", {"refresh_token": body["refresh_token"]}),
            401,
            "token_invalid",
        )
        entries = AuditEntry.objects.filter(target_user=user).order_by("id")
        assert list(entries.values_list("action", flat=True))[-2:] == ["token_revoke", "logout"]

    def test_logout_of_a_site_session_is_recorded(self, api, user) -> None:  # type: ignore[no-untyped-def]
        api.client.force_login(user)
        assert api.post("/auth/logout").status_code == 200
        error(api.get("/me"), 401, "not_authenticated")
        assert AuditEntry.objects.filter(action="logout", actor=user).count() == 1


class TestOwnershipIs404:
    def test_devices_and_tokens_of_another_user(self, make_api, user) -> None:  # type: ignore[no-untyped-def]
        mine, theirs = make_api(), make_api()
        mine.login(user.email, device_id="mine")
        other = UserFactory()
        theirs.login(other.email, device_id="theirs")
        their_device = Device.objects.get(user=other)
        their_token = other.api_tokens.first()

        devices = mine.get("/me/devices").json()
        assert [d["current"] for d in devices] == [True]
        error(mine.delete(f"/me/devices/{their_device.pk}"), 404, "not_found")
        error(mine.delete(f"/me/tokens/{their_token.pk}"), 404, "not_found")
        error(mine.delete("/me/devices/999999"), 404, "not_found")
        assert theirs.get("/me").status_code == 200  # untouched

        # Revoking my own device signs me out.
        my_device = devices[0]["id"]
        assert mine.delete(f"/me/devices/{my_device}").status_code == 204
        error(mine.get("/me"), 401, "not_authenticated")

    def test_audit_lists_only_my_entries(self, make_api, user) -> None:  # type: ignore[no-untyped-def]
        mine, theirs = make_api(), make_api()
        mine.login(user.email)
        other = UserFactory()
        theirs.login(other.email)
        entries = mine.get("/me/audit").json()
        assert entries and all(e["actor_id"] in (user.pk, None) for e in entries)
        assert {e["action"] for e in theirs.get("/me/audit").json()} == {"login"}
        page = mine.get(f"/me/audit?before_id={entries[0]['id']}&limit=1").json()
        assert len(page) <= 1 and all(e["id"] < entries[0]["id"] for e in page)


class TestKycApi:
    def test_submit_and_read_masked(self, api, user) -> None:  # type: ignore[no-untyped-def]
        api.login(user.email)
        number = valid_id()
        response = api.post("/me/kyc", {"real_name": "林黛玉", "id_number": number})
        assert response.status_code == 201, response.content
        body = response.json()
        assert (
            body["status"] == "verified"
            and body["id_number_masked"] == "1101**********" + number[-4:]
        )
        assert number not in api.get("/me/kyc").content.decode()
        assert api.get("/me").json()["is_minor"] is False

    def test_errors(self, make_api, user) -> None:  # type: ignore[no-untyped-def]
        api = make_api()
        api.login(user.email)
        error(
            api.post("/me/kyc", {"real_name": "林黛玉", "id_number": "110101199003071235"}),
            422,
            "invalid_id_number",
        )
        body = error(
            api.post("/me/kyc", {"real_name": "林黛玉", "id_number": valid_id(seq="000")}),
            422,
            "kyc_rejected",
        )
        assert body["extra"]["reason_code"] == "name_mismatch"
        assert (
            api.post("/me/kyc", {"real_name": "林黛玉", "id_number": valid_id()}).status_code == 201
        )
        other = make_api()
        other.login(UserFactory().email)
        error(
            other.post("/me/kyc", {"real_name": "林黛玉", "id_number": valid_id()}),
            409,
            "id_already_verified",
        )


class TestPrivacyApi:
    def test_export_download_and_delete(self, api, user) -> None:  # type: ignore[no-untyped-def]
        api.login(user.email)
        export = api.get("/me/export")
        assert export.status_code == 200 and "attachment" in export["Content-Disposition"]
        assert export.json()["profile"]["phone"] == "13812345678"
        error(api.post("/me/delete", {"password": "wrong"}), 401, "invalid_credentials")
        assert api.post("/me/delete", {"password": PASSWORD}).status_code == 200
        error(api.get("/me"), 401, "not_authenticated")
        error(
            api.post("/auth/login", {"identifier": "daiyu@example.com", "password": PASSWORD}),
            401,
            "invalid_credentials",
        )


class TestRolesApi:
    def test_operator_grants_and_revokes(self, make_api) -> None:  # type: ignore[no-untyped-def]
        op, staff = operator(), UserFactory()
        api = make_api()
        api.login(op.email)
        response = api.post(
            "/roles", {"user_id": staff.pk, "role": "merchant_staff", "scope": "shop:7"}
        )
        assert response.status_code == 201, response.content
        assignment_id = response.json()["id"]
        error(
            api.post("/roles", {"user_id": staff.pk, "role": "merchant_staff"}),
            422,
            "invalid_scope",
        )
        error(api.post("/roles", {"user_id": staff.pk, "role": "emperor"}), 422, "validation_error")
        error(api.post("/roles", {"user_id": 987654, "role": "creator"}), 404, "not_found")
        assert api.delete(f"/roles/{assignment_id}").status_code == 204
        assert not RoleAssignment.objects.filter(pk=assignment_id).exists()

    def test_non_operator_is_403_without_probing_users(self, make_api, user) -> None:  # type: ignore[no-untyped-def]
        api = make_api()
        api.login(user.email)
        error(api.post("/roles", {"user_id": 987654, "role": "creator"}), 403, "permission_denied")
        error(api.delete("/roles/1"), 403, "permission_denied")


class TestQueryCounts:
    def test_list_endpoints_do_not_grow_with_rows(
        self, api, user, django_assert_max_num_queries
    ) -> None:  # type: ignore[no-untyped-def]
        for n in range(6):
            api.login(user.email, device_id=f"device-{n}")
        for path in ("/me/devices", "/me/audit", "/me/tokens", "/me/logins"):
            with django_assert_max_num_queries(4):
                response = api.get(path)
            assert response.status_code == 200 and len(response.json()) >= 6
