"""Screening outcomes, recorded items, cached rules and the image blocklist."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction

from yaji.core import clock
from yaji.moderation import services
from yaji.moderation.classifiers import CLASSIFIERS, NoopClassifier, Verdict
from yaji.moderation.errors import InvalidKind, InvalidObjectId
from yaji.moderation.image_hashes import dhash_hex, hamming, sha256_hex
from yaji.moderation.models import ImageHashRule, LogEntry, ModerationItem, WordRule
from yaji.moderation.services import ScreenResult, moderation_check_text
from yaji.moderation.tests.factories import UserFactory, png, screened

pytestmark = pytest.mark.django_db


def test_check_text_outcomes_with_default_words() -> None:
    assert moderation_check_text("一幅很美的苏绣") == ScreenResult(status="visible")
    held = moderation_check_text("周末一起玩百家乐吗")
    assert held.status == "held"
    assert held.reasons == ("text.gambling",)
    assert held.matches == ("百家乐",)
    blocked = moderation_check_text("出售 高 仿 故宫文创，还有百家乐")
    assert blocked.status == "blocked"
    assert blocked.reasons == ("text.counterfeit", "text.gambling")
    assert moderation_check_text("") == ScreenResult(status="visible")


def test_check_text_writes_nothing() -> None:
    moderation_check_text("出售高仿故宫文创")
    assert ModerationItem.objects.count() == 0
    assert LogEntry.objects.count() == 0


def test_screen_records_every_item_and_logs_non_visible() -> None:
    author = UserFactory()
    clean = screened("宋代风格的青花瓷", author=author)
    assert (clean.status, clean.pending_review, clean.author) == ("visible", False, author)
    assert not clean.log.exists()

    now = clock.now()
    held = screened("百家乐 走起", author=author)
    assert held.status == "held" and held.pending_review and held.queue_reason == "screen"
    assert held.reasons == ["text.gambling"]
    assert held.excerpt == "百家乐 走起"
    assert timedelta(hours=71, minutes=59) < held.sla_due_at - now <= timedelta(hours=72, seconds=5)
    assert held.log.get().action == "screen"

    blocked = screened("刷单返利，日入千元", author=author)
    assert blocked.status == "blocked" and not blocked.pending_review
    assert blocked.log.get().to_status == "blocked"


def test_rescreen_after_edit_replaces_the_automatic_outcome() -> None:
    author = UserFactory()
    item = screened("百家乐", author=author)
    with transaction.atomic():
        result = services.moderation_screen(
            kind=item.kind, object_id=item.object_id, author=author, text="改成了苏绣"
        )
    item.refresh_from_db()
    assert result.status == "visible"
    assert (item.status, item.pending_review, item.excerpt) == ("visible", False, "改成了苏绣")
    assert ModerationItem.objects.filter(kind=item.kind, object_id=item.object_id).count() == 1
    assert list(item.log.order_by("id").values_list("to_status", flat=True)) == [
        "held",
        "visible",
    ]


@pytest.mark.parametrize("kind", ["", "post", "Community.post", "a.b.c", "x" * 60 + ".y"])
def test_screen_rejects_bad_kind(kind: str) -> None:
    with pytest.raises(InvalidKind), transaction.atomic():
        services.moderation_screen(kind=kind, object_id=1, author=None, text="x")


@pytest.mark.parametrize("object_id", [0, -1, True, "12"])
def test_screen_rejects_bad_object_id(object_id: object) -> None:
    with pytest.raises(InvalidObjectId), transaction.atomic():
        services.moderation_screen(
            kind="community.post",
            object_id=object_id,  # type: ignore[arg-type]  # bad input on purpose
            author=None,
            text="x",
        )


def test_word_list_edits_rebuild_the_cached_matcher() -> None:
    assert moderation_check_text("来买雷峰塔砖").status == "visible"
    rule = WordRule.objects.create(word="雷峰塔砖", category="counterfeit", action="hold")
    assert moderation_check_text("来买 雷 峰 塔 砖").status == "held"
    rule.action = "block"
    rule.save()
    assert moderation_check_text("来买雷峰塔砖").status == "blocked"
    rule.is_active = False
    rule.save()
    assert moderation_check_text("来买雷峰塔砖").status == "visible"
    rule.delete()
    assert moderation_check_text("来买雷峰塔砖").status == "visible"


def test_cached_rules_are_reused_until_the_version_moves(django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    moderation_check_text("预热")
    with django_assert_num_queries(0):
        for _ in range(10):
            moderation_check_text("百家乐")


# --- images -----------------------------------------------------------------------------------


def test_dhash_is_stable_under_reencoding_and_resizing() -> None:
    original = png(seed=1, size=(320, 240))
    resized = png(seed=1, size=(160, 120))
    jpeg = png(seed=1, size=(320, 240), fmt="JPEG")
    other = png(seed=4, size=(320, 240))
    assert hamming(dhash_hex(original), dhash_hex(resized)) <= 6
    assert hamming(dhash_hex(original), dhash_hex(jpeg)) <= 6
    assert hamming(dhash_hex(original), dhash_hex(other)) > 6
    assert len(dhash_hex(original)) == 16


def test_image_blocklist_exact_and_perceptual() -> None:
    banned = png(seed=2, size=(320, 240))
    ImageHashRule.objects.create(algorithm="sha256", value=sha256_hex(banned), action="block")
    assert services.moderation_check_images([banned]).reasons[:1] == ("image.sha256",)
    assert services.moderation_check_images([banned]).status == "blocked"

    lookalike = png(seed=3, size=(320, 240))
    assert services.moderation_check_images([lookalike]).status == "visible"
    ImageHashRule.objects.create(algorithm="dhash", value=dhash_hex(lookalike), action="hold")
    near = png(seed=3, size=(200, 150), fmt="JPEG")  # re-encoded, resized copy
    result = services.moderation_check_images([near])
    assert (result.status, result.reasons) == ("held", ("image.dhash",))
    assert services.moderation_check_images([png(seed=5, size=(320, 240))]).status == "visible"


def test_undecodable_image_is_held() -> None:
    result = services.moderation_check_images([b"not an image at all"])
    assert (result.status, result.reasons) == ("held", ("image.unreadable",))


def test_screen_combines_text_and_images_strictest_wins() -> None:
    banned = png(seed=6)
    ImageHashRule.objects.create(algorithm="sha256", value=sha256_hex(banned), action="block")
    item = screened("百家乐", images=[png(seed=7), banned])
    assert item.status == "blocked"
    assert item.reasons == ["text.gambling", "image.sha256"]


# --- classifier -------------------------------------------------------------------------------


def test_default_classifier_is_a_documented_noop() -> None:
    noop = NoopClassifier()
    assert noop.classify_text("任何内容") == Verdict(status="visible")
    assert noop.classify_image(b"x") == Verdict(status="visible")


def test_classifier_is_selected_by_setting(settings) -> None:  # type: ignore[no-untyped-def]
    class Strict:
        name = "strict-test"

        def classify_text(self, text: str) -> Verdict:
            return Verdict(status="held", reasons=("classifier.test",))

        def classify_image(self, data: bytes) -> Verdict:
            return Verdict(status="visible")

    CLASSIFIERS["strict-test"] = Strict
    try:
        settings.MODERATION_CLASSIFIER = "strict-test"
        result = moderation_check_text("一幅很美的苏绣")
        assert (result.status, result.reasons) == ("held", ("classifier.test",))
    finally:
        del CLASSIFIERS["strict-test"]


def test_reason_codes_have_human_labels() -> None:
    from yaji.moderation.reasons import reason_label

    assert reason_label("text.gambling") == "敏感词：赌博"
    assert reason_label("image.dhash") == "图片黑名单（相似图片）"
    assert reason_label("classifier.custom") == "classifier.custom"  # unknown codes pass through
