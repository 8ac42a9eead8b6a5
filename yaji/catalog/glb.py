"""Small, valid glTF 2.0 binaries written with ``struct``: a triangle (tests) and a turned vase
(the demo's 3D product). Units are metres, as AR viewers expect, so the vase shows up in a room
at its real size.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Sequence

FLOAT, UNSIGNED_SHORT = 5126, 5123
ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963


def _pad(data: bytes, filler: bytes) -> bytes:
    return data + filler * (-len(data) % 4)


def glb_pack(document: dict[str, object], binary: bytes = b"") -> bytes:
    """A GLB container: header, JSON chunk (space-padded), optional BIN chunk (zero-padded)."""
    json_chunk = _pad(json.dumps(document, separators=(",", ":")).encode(), b" ")
    out = struct.pack("<II", len(json_chunk), 0x4E4F534A) + json_chunk
    if binary:
        bin_chunk = _pad(binary, b"\x00")
        out += struct.pack("<II", len(bin_chunk), 0x004E4942) + bin_chunk
    return struct.pack("<4sII", b"glTF", 2, 12 + len(out)) + out


def _mesh_glb(
    positions: Sequence[tuple[float, float, float]],
    normals: Sequence[tuple[float, float, float]] | None,
    indices: Sequence[int],
    color: tuple[float, float, float, float],
    *,
    name: str,
    roughness: float = 0.5,
) -> bytes:
    pos_bytes = b"".join(struct.pack("<3f", *p) for p in positions)
    nrm_bytes = b"".join(struct.pack("<3f", *n) for n in normals) if normals else b""
    idx_bytes = _pad(b"".join(struct.pack("<H", i) for i in indices), b"\x00")
    binary = pos_bytes + nrm_bytes + idx_bytes
    lows = [min(p[axis] for p in positions) for axis in range(3)]
    highs = [max(p[axis] for p in positions) for axis in range(3)]
    views = [{"buffer": 0, "byteOffset": 0, "byteLength": len(pos_bytes), "target": ARRAY_BUFFER}]
    accessors: list[dict[str, object]] = [
        {
            "bufferView": 0,
            "componentType": FLOAT,
            "count": len(positions),
            "type": "VEC3",
            "min": lows,
            "max": highs,
        }
    ]
    attributes = {"POSITION": 0}
    if nrm_bytes:
        views.append(
            {
                "buffer": 0,
                "byteOffset": len(pos_bytes),
                "byteLength": len(nrm_bytes),
                "target": ARRAY_BUFFER,
            }
        )
        accessors.append(
            {"bufferView": 1, "componentType": FLOAT, "count": len(normals or ()), "type": "VEC3"}
        )
        attributes["NORMAL"] = 1
    views.append(
        {
            "buffer": 0,
            "byteOffset": len(pos_bytes) + len(nrm_bytes),
            "byteLength": 2 * len(indices),
            "target": ELEMENT_ARRAY_BUFFER,
        }
    )
    accessors.append(
        {
            "bufferView": len(views) - 1,
            "componentType": UNSIGNED_SHORT,
            "count": len(indices),
            "type": "SCALAR",
        }
    )
    document = {
        "asset": {"version": "2.0", "generator": "yaji.catalog.glb"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0, "name": name}],
        "meshes": [
            {
                "name": name,
                "primitives": [
                    {"attributes": attributes, "indices": len(accessors) - 1, "material": 0}
                ],
            }
        ],
        "materials": [
            {
                "name": name,
                "pbrMetallicRoughness": {
                    "baseColorFactor": list(color),
                    "metallicFactor": 0.0,
                    "roughnessFactor": roughness,
                },
                "doubleSided": True,
            }
        ],
        "accessors": accessors,
        "bufferViews": views,
        "buffers": [{"byteLength": len(binary)}],
    }
    return glb_pack(document, binary)


def glb_triangle() -> bytes:
    """The smallest useful model: one red triangle, 10 cm across."""
    return _mesh_glb(
        [(0.0, 0.0, 0.0), (0.1, 0.0, 0.0), (0.0, 0.1, 0.0)],
        [(0.0, 0.0, 1.0)] * 3,
        [0, 1, 2],
        (0.66, 0.2, 0.18, 1.0),
        name="triangle",
    )


# A meiping-like vase profile: (radius, height) in metres, from the foot up to the lip.
VASE_PROFILE = (
    (0.0, 0.0),
    (0.045, 0.0),
    (0.05, 0.01),
    (0.06, 0.06),
    (0.075, 0.14),
    (0.08, 0.19),
    (0.07, 0.23),
    (0.04, 0.26),
    (0.022, 0.275),
    (0.024, 0.29),
    (0.03, 0.295),
)


def glb_vase(
    color: tuple[float, float, float] = (0.55, 0.72, 0.66),
    *,
    segments: int = 48,
    profile: Sequence[tuple[float, float]] = VASE_PROFILE,
) -> bytes:
    """A turned (lathed) vase with smooth normals, celadon-green by default, about 30 cm tall."""
    positions: list[tuple[float, float, float]] = []
    normals: list[tuple[float, float, float]] = []
    rings = len(profile)
    for i, (radius, height) in enumerate(profile):
        # The profile's normal in the (r, y) plane: perpendicular to the neighbouring segment.
        r0, y0 = profile[max(i - 1, 0)]
        r1, y1 = profile[min(i + 1, rings - 1)]
        dr, dy = r1 - r0, y1 - y0
        length = math.hypot(dr, dy) or 1.0
        nr, ny = dy / length, -dr / length
        for s in range(segments + 1):
            angle = 2 * math.pi * s / segments
            cos, sin = math.cos(angle), math.sin(angle)
            positions.append((radius * cos, height, radius * sin))
            normals.append((nr * cos, ny, nr * sin))
    indices: list[int] = []
    for i in range(rings - 1):
        for s in range(segments):
            a = i * (segments + 1) + s
            b = a + segments + 1
            indices += [a, b, a + 1, a + 1, b, b + 1]
    return _mesh_glb(positions, normals, indices, (*color, 1.0), name="vase", roughness=0.25)
