"""Product video, 3D models and digital-download files: judged by their bytes, never by the
client's file name or content type (ADR 0016).

- **Video**: MP4 (an ``ftyp`` box with a video brand, then a ``moov`` box among the top-level
  boxes) or WebM (an EBML header whose DocType is ``webm``, then a Segment), ≤ 50 MB.
- **3D model**: glTF 2.0 — binary ``.glb`` (12-byte header: magic ``glTF``, version 2, total
  length equal to the file size; a JSON chunk first, then an optional BIN chunk, all inside the
  file) or a self-contained ``.gltf`` JSON file (every buffer and image embedded as a
  ``data:`` URI), ≤ 30 MB. ``asset.version`` must be 2.x. Files relying on an extension the
  viewer would fetch a decoder for from a CDN (Draco, meshopt, Basis/KTX2) are refused, so the
  page never loads code from elsewhere; so are external URIs (a model must not make the viewer
  fetch from other hosts).
- **Digital download**: PDF, ZIP (also EPUB), JPEG, PNG, WebP, MP3, MP4 or WebM, ≤ 200 MB;
  stored in private storage.
"""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import UploadedFile

from yaji.catalog.errors import (
    DownloadFileTooLarge,
    InvalidDownloadFile,
    InvalidModel3D,
    InvalidVideo,
    Model3DTooLarge,
    VideoTooLarge,
)
from yaji.catalog.uploads import file_sniff

VIDEO_MAX_BYTES = 50 * 1024 * 1024
MODEL_MAX_BYTES = 30 * 1024 * 1024
DOWNLOAD_MAX_BYTES = 200 * 1024 * 1024

GLB_MAGIC = b"glTF"
GLB_CHUNK_JSON = 0x4E4F534A
GLB_CHUNK_BIN = 0x004E4942
# Extensions model-viewer decodes with code it would download from a CDN at view time.
CDN_DECODER_EXTENSIONS = frozenset(
    {
        "KHR_draco_mesh_compression",
        "EXT_meshopt_compression",
        "KHR_meshopt_compression",
        "KHR_texture_basisu",
    }
)
# ISO BMFF brands of playable video; image (heic, avif) and QuickTime (qt) brands are refused.
MP4_BRANDS = frozenset(
    {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"dash", b"M4V "}
)


@dataclass(frozen=True)
class CheckedMedia:
    upload: UploadedFile
    content_type: str
    extension: str
    size: int
    sha256: str
    original_name: str


def _name(upload: UploadedFile) -> str:
    return Path(upload.name or "").name[:200]


def _read(upload: UploadedFile, offset: int, length: int) -> bytes:
    upload.seek(offset)
    data = upload.read(length)
    return data if isinstance(data, bytes) else b""


def _digest(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def _checked(upload: UploadedFile, content_type: str, extension: str) -> CheckedMedia:
    return CheckedMedia(
        upload=upload,
        content_type=content_type,
        extension=extension,
        size=upload.size or 0,
        sha256=_digest(upload),
        original_name=_name(upload),
    )


# --- video ----------------------------------------------------------------------------------


def _mp4_has_moov(upload: UploadedFile, size: int) -> bool:
    """Walk the top-level ISO BMFF boxes (sizes must chain to the end of the file)."""
    offset, seen = 0, set()
    for _ in range(1000):  # a real file has a handful of top-level boxes
        if offset == size:
            break
        header = _read(upload, offset, 16)
        if len(header) < 8:
            return False
        box_size, box_type = struct.unpack(">I4s", header[:8])
        if box_size == 1:
            if len(header) < 16:
                return False
            box_size = struct.unpack(">Q", header[8:16])[0]
        elif box_size == 0:
            box_size = size - offset
        if box_size < 8 or offset + box_size > size or not box_type.isalnum():
            return False
        seen.add(box_type)
        offset += box_size
    upload.seek(0)
    return offset == size and b"moov" in seen


def _ebml_vint(data: bytes, pos: int, *, keep_marker: bool) -> tuple[int, int]:
    """An EBML variable-length integer at ``pos``: (value, position after it)."""
    if pos >= len(data):
        raise ValueError("truncated")
    first = data[pos]
    length = 1
    while length <= 8 and not first & (0x80 >> (length - 1)):
        length += 1
    if length > 8 or pos + length > len(data):
        raise ValueError("bad vint")
    value = first if keep_marker else first & (0xFF >> length)
    for byte in data[pos + 1 : pos + length]:
        value = (value << 8) | byte
    return value, pos + length


def _webm_ok(head: bytes) -> bool:
    """EBML header with DocType ``webm``, immediately followed by a Segment element."""
    try:
        element, pos = _ebml_vint(head, 0, keep_marker=True)
        if element != 0x1A45DFA3:
            return False
        header_size, pos = _ebml_vint(head, pos, keep_marker=False)
        end = pos + header_size
        if end > len(head):
            return False
        doctype = None
        while pos < end:
            child, pos = _ebml_vint(head, pos, keep_marker=True)
            child_size, pos = _ebml_vint(head, pos, keep_marker=False)
            if child == 0x4282:  # DocType
                doctype = head[pos : pos + child_size]
            pos += child_size
        segment, _pos = _ebml_vint(head, end, keep_marker=True)
        return doctype == b"webm" and segment == 0x18538067
    except ValueError:
        return False


def video_check(upload: UploadedFile) -> CheckedMedia:
    """A product video: MP4 or WebM by structure, at most 50 MB."""
    name = _name(upload)
    size = upload.size or 0
    if size > VIDEO_MAX_BYTES:
        raise VideoTooLarge(extra={"name": name, "max_bytes": VIDEO_MAX_BYTES})
    head = _read(upload, 0, 4096)
    upload.seek(0)
    if head[4:8] == b"ftyp":
        if head[8:12] not in MP4_BRANDS:
            raise InvalidVideo(extra={"name": name, "reason": "brand"})
        if not _mp4_has_moov(upload, size):
            raise InvalidVideo(extra={"name": name, "reason": "structure"})
        return _checked(upload, "video/mp4", "mp4")
    if head[:4] == b"\x1a\x45\xdf\xa3":
        if not _webm_ok(head):
            raise InvalidVideo(extra={"name": name, "reason": "structure"})
        return _checked(upload, "video/webm", "webm")
    raise InvalidVideo(extra={"name": name})


# --- 3D models --------------------------------------------------------------------------------


def _gltf_json_check(document: Any, *, binary_chunk: bool, name: str) -> None:
    def refuse(reason: str) -> InvalidModel3D:
        return InvalidModel3D(extra={"name": name, "reason": reason})

    if not isinstance(document, dict):
        raise refuse("json")
    asset = document.get("asset")
    version = asset.get("version") if isinstance(asset, dict) else None
    if not isinstance(version, str) or not version.startswith("2."):
        raise refuse("version")
    for key in ("extensionsUsed", "extensionsRequired"):
        extensions = document.get(key, [])
        if not isinstance(extensions, list):
            raise refuse("extensions")
        blocked = sorted(CDN_DECODER_EXTENSIONS.intersection(str(e) for e in extensions))
        if blocked:
            raise InvalidModel3D(extra={"name": name, "reason": "extension", "extensions": blocked})
    for key in ("buffers", "images"):
        items = document.get(key, [])
        if not isinstance(items, list):
            raise refuse(key)
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise refuse(key)
            uri = item.get("uri")
            if uri is None:
                # A GLB's first buffer lives in its BIN chunk; an image may use a bufferView.
                if key == "buffers" and not (binary_chunk and index == 0):
                    raise refuse("buffer_uri")
                continue
            if not isinstance(uri, str) or not uri.startswith("data:"):
                raise refuse("external_uri")


def model_3d_check(upload: UploadedFile) -> CheckedMedia:
    """A 3D model: GLB (validated header and chunks) or self-contained glTF JSON, ≤ 30 MB."""
    name = _name(upload)
    size = upload.size or 0
    if size > MODEL_MAX_BYTES:
        raise Model3DTooLarge(extra={"name": name, "max_bytes": MODEL_MAX_BYTES})
    data = _read(upload, 0, MODEL_MAX_BYTES + 1)
    upload.seek(0)
    if data[:4] == GLB_MAGIC:
        _glb_check(data, name=name)
        return _checked(upload, "model/gltf-binary", "glb")
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] == b"{":
        try:
            document = json.loads(stripped.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise InvalidModel3D(extra={"name": name, "reason": "json"}) from exc
        _gltf_json_check(document, binary_chunk=False, name=name)
        return _checked(upload, "model/gltf+json", "gltf")
    raise InvalidModel3D(extra={"name": name})


def _glb_check(data: bytes, *, name: str) -> None:
    def refuse(reason: str) -> InvalidModel3D:
        return InvalidModel3D(extra={"name": name, "reason": reason})

    if len(data) < 20:
        raise refuse("header")
    _magic, version, length = struct.unpack_from("<4sII", data, 0)
    if version != 2:
        raise refuse("version")
    if length != len(data):
        raise refuse("length")
    offset, chunks = 12, []
    while offset < length:
        if offset + 8 > length:
            raise refuse("chunk")
        chunk_length, chunk_type = struct.unpack_from("<II", data, offset)
        start, end = offset + 8, offset + 8 + chunk_length
        if end > length or chunk_length % 4:
            raise refuse("chunk")
        chunks.append((chunk_type, start, end))
        offset = end
    if not chunks or chunks[0][0] != GLB_CHUNK_JSON:
        raise refuse("json_chunk")
    if len(chunks) > 1 and chunks[1][0] != GLB_CHUNK_BIN:
        raise refuse("bin_chunk")
    _type, start, end = chunks[0]
    try:
        document = json.loads(data[start:end].decode("utf-8").rstrip(" \x00"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise refuse("json") from exc
    _gltf_json_check(document, binary_chunk=len(chunks) > 1, name=name)


# --- digital downloads ------------------------------------------------------------------------


def _download_type(head: bytes) -> tuple[str, str] | None:
    sniffed = file_sniff(head)
    if sniffed is not None:
        return sniffed.content_type, sniffed.extension
    if head.startswith(b"PK\x03\x04"):
        if head[30:58] == b"mimetypeapplication/epub+zip":
            return "application/epub+zip", "epub"
        return "application/zip", "zip"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio/mpeg", "mp3"
    if head[4:8] == b"ftyp" and head[8:12] in MP4_BRANDS:
        return "video/mp4", "mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3" and _webm_ok(head):
        return "video/webm", "webm"
    return None


def download_file_check(upload: UploadedFile) -> CheckedMedia:
    """What a digital-download product delivers: a known type by its bytes, ≤ 200 MB."""
    name = _name(upload)
    if (upload.size or 0) > DOWNLOAD_MAX_BYTES:
        raise DownloadFileTooLarge(extra={"name": name, "max_bytes": DOWNLOAD_MAX_BYTES})
    if not upload.size:
        raise InvalidDownloadFile(extra={"name": name, "reason": "empty"})
    head = _read(upload, 0, 4096)
    upload.seek(0)
    found = _download_type(head)
    if found is None:
        raise InvalidDownloadFile(extra={"name": name})
    return _checked(upload, *found)
