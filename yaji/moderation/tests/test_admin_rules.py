"""Operators' side: the admin edits word lists and the image blocklist; the seed; the cache."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from yaji.moderation import rules
from yaji.moderation.defaults import WORDS, moderation_defaults_seed
from yaji.moderation.image_hashes import dhash_hex, sha256_hex
from yaji.moderation.models import ImageHashRule, WordRule
from yaji.moderation.services import moderation_check_images, moderation_check_text
from yaji.moderation.tests.factories import png

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(django_user_model) -> Client:  # type: ignore[no-untyped-def]
    from yaji.accounts.tests.factories import UserFactory

    user = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


def test_seed_is_idempotent_and_holds_the_defaults() -> None:
    assert moderation_defaults_seed() == 0  # the autouse fixture (or the migration) ran it
    assert WordRule.objects.count() >= len(WORDS)
    WordRule.objects.filter(word="赌博").delete()
    assert moderation_defaults_seed() == 1
    assert moderation_check_text("赌博").status == "blocked"


def test_admin_adds_a_word_and_it_applies_at_once(admin_client: Client) -> None:
    assert moderation_check_text("出售仿 制 青铜器").status == "visible"
    response = admin_client.post(
        "/admin/moderation/wordrule/add/",
        {"word": "仿制青铜器", "category": "counterfeit", "action": "block", "is_active": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert moderation_check_text("出售仿 制 青铜器").status == "blocked"
    listing = admin_client.get("/admin/moderation/wordrule/?q=青铜")
    assert "仿制青铜器" in listing.content.decode()


def test_admin_rejects_a_word_of_punctuation_only(admin_client: Client) -> None:
    response = admin_client.post(
        "/admin/moderation/wordrule/add/",
        {"word": "！！ ..", "category": "other", "action": "hold", "is_active": "on"},
    )
    assert response.status_code == 200
    assert not WordRule.objects.filter(word="！！ ..").exists()


def test_admin_blocklists_an_image_by_upload(admin_client: Client) -> None:
    picture = png(seed=11, size=(300, 200))
    for algorithm in ("sha256", "dhash"):
        response = admin_client.post(
            "/admin/moderation/imagehashrule/add/",
            {
                "algorithm": algorithm,
                "image": SimpleUploadedFile("bad.png", picture, content_type="image/png"),
                "value": "",
                "action": "block",
                "label": "盗图",
                "is_active": "on",
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
    assert set(ImageHashRule.objects.values_list("algorithm", "value")) == {
        ("sha256", sha256_hex(picture)),
        ("dhash", dhash_hex(picture)),
    }
    near_copy = png(seed=11, size=(150, 100), fmt="JPEG")
    assert moderation_check_images([near_copy]).status == "blocked"


def test_admin_rejects_a_malformed_hash(admin_client: Client) -> None:
    response = admin_client.post(
        "/admin/moderation/imagehashrule/add/",
        {"algorithm": "dhash", "value": "xyz", "action": "hold", "is_active": "on"},
    )
    assert response.status_code == 200
    assert not ImageHashRule.objects.exists()


def test_another_process_picks_up_changes_through_the_version_key() -> None:
    moderation_check_text("预热")
    built = rules.rules_current()
    assert rules.rules_current() is built  # cached
    # Another process changed the rules: simulate by writing behind this process's back
    # (queryset.update sends no signals) and expiring the shared version key. Writers outside
    # the ORM's save() must touch updated_at, which the fingerprint includes.
    WordRule.objects.filter(word="百家乐").update(action="block", updated_at=timezone.now())
    assert moderation_check_text("百家乐").status == "held"  # still the cached automaton
    cache.delete(rules.VERSION_KEY)
    assert moderation_check_text("百家乐").status == "blocked"
    assert rules.rules_current() is not built
