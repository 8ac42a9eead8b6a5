"""Publishing works: the file decides its format and duration; bad files leave nothing behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from yaji.community import selectors, services
from yaji.community.errors import InvalidCover, InvalidMedia, MediaTooLarge, UnsupportedKind
from yaji.community.models import Work
from yaji.community.tests.factories import (
    PNG_BYTES,
    UserFactory,
    creator_user,
    fake_mp3_upload,
    wav_bytes,
    wav_upload,
)
from yaji.core.errors import PermissionDenied

pytestmark = pytest.mark.django_db


def stored_files(settings) -> list[Path]:  # type: ignore[no-untyped-def]
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_creator_publishes_a_real_wav(settings) -> None:  # type: ignore[no-untyped-def]
    creator = creator_user()
    work = services.work_publish(
        creator=creator,
        title=" 茉莉花 ",
        kind="audio",
        media=wav_upload(2.5),
        description="好一朵美丽的茉莉花",
        tags="民歌, #江南，民歌",
        cover=SimpleUploadedFile("c.png", PNG_BYTES, "image/png"),
    )
    assert work.title == "茉莉花"
    assert work.media_format == "wav"
    assert work.duration_ms == 2_500
    assert work.tags == ["民歌", "江南"]
    assert work.media.name.endswith(".wav") and "song" not in work.media.name
    assert work.cover.name.endswith(".png")
    assert len(stored_files(settings)) == 2
    assert selectors.work_get(work_id=work.pk) == work
    assert list(selectors.work_list_by_creator(creator=creator)) == [work]


def test_image_work_has_no_duration() -> None:
    work = services.work_publish(
        creator=creator_user(),
        title="青花纹样",
        kind="design",
        media=SimpleUploadedFile("d.png", PNG_BYTES, "image/png"),
    )
    assert (work.media_format, work.duration_ms, work.playable) == ("png", 0, False)


def test_non_creator_may_not_publish(settings) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied) as exc:
        services.work_publish(creator=UserFactory(), title="x", kind="audio", media=wav_upload())
    assert (exc.value.status, exc.value.code) == (403, "permission_denied")
    assert not Work.objects.exists()
    assert stored_files(settings) == []


@pytest.mark.parametrize(
    "upload",
    [
        pytest.param(fake_mp3_upload(), id="text-called-mp3"),
        pytest.param(SimpleUploadedFile("a.mp3", wav_bytes(1)), id="wav-called-mp3"),
        pytest.param(
            SimpleUploadedFile("a.wav", wav_bytes(1)[:20] + b"\x00" * 30), id="truncated-wav"
        ),
        pytest.param(SimpleUploadedFile("a.ogg", b"OggS" + b"\x00" * 200), id="broken-ogg"),
        pytest.param(
            SimpleUploadedFile("a.mp3", b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"x" * 100),
            id="id3-without-audio",
        ),
        pytest.param(SimpleUploadedFile("a.wav", b""), id="empty"),
    ],
)
def test_files_that_are_not_what_they_claim_are_rejected(settings, upload) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidMedia) as exc:
        services.work_publish(creator=creator_user(), title="假", kind="audio", media=upload)
    assert (exc.value.status, exc.value.code) == (422, "invalid_media")
    assert not Work.objects.exists()
    assert stored_files(settings) == []


def test_audio_kind_with_an_image_is_rejected() -> None:
    with pytest.raises(InvalidMedia):
        services.work_publish(
            creator=creator_user(),
            title="x",
            kind="audio",
            media=SimpleUploadedFile("a.png", PNG_BYTES),
        )


def test_oversized_media_is_rejected(settings) -> None:  # type: ignore[no-untyped-def]
    settings.YAJI_WORK_MEDIA_MAX_BYTES = 10_000
    with pytest.raises(MediaTooLarge) as exc:
        services.work_publish(creator=creator_user(), title="长", kind="audio", media=wav_upload(2))
    assert (exc.value.status, exc.value.code) == (413, "media_too_large")
    assert not Work.objects.exists()


def test_bad_cover_rejected_and_nothing_saved(settings) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidCover):
        services.work_publish(
            creator=creator_user(),
            title="x",
            kind="audio",
            media=wav_upload(),
            cover=SimpleUploadedFile("c.png", b"not an image"),
        )
    assert stored_files(settings) == []


def test_video_is_not_open_yet() -> None:
    with pytest.raises(UnsupportedKind):
        services.work_publish(creator=creator_user(), title="x", kind="video", media=wav_upload())
