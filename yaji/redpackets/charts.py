"""Server-rendered inline SVG charts for the operators' dashboard (no JavaScript, no CDN).

Each function takes already-aggregated numbers and already-translated labels and returns a
``SafeString``; every text is escaped through ``format_html``."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

COLOURS = ("#d9363e", "#f2b705", "#2f6f9f", "#3a8f5c")


def _svg(width: int, height: int, title: str, body: str) -> SafeString:
    return format_html(
        '<svg class="rp-svg" role="img" viewBox="0 0 {} {}" width="100%" '
        'xmlns="http://www.w3.org/2000/svg" aria-label="{}"><title>{}</title>{}</svg>',
        width,
        height,
        title,
        title,
        mark_safe(body),  # noqa: S308 — built below from format_html pieces only
    )


def _legend(series: Sequence[str], x: int, y: int) -> str:
    return format_html_join(
        "",
        '<rect x="{}" y="{}" width="10" height="10" fill="{}"/>'
        '<text x="{}" y="{}" font-size="11">{}</text>',
        (
            (x + i * 110, y, COLOURS[i % len(COLOURS)], x + i * 110 + 14, y + 9, name)
            for i, name in enumerate(series)
        ),
    )


def grouped_bars(
    *, title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]]
) -> SafeString:
    """Vertical bars, one group per label, one bar per series (counts)."""
    width, height, left, top, bottom = 760, 240, 40, 24, 36
    plot_h = height - top - bottom
    peak = max([v for _, values in series for v in values] + [1])
    group_w = (width - left - 10) / max(len(labels), 1)
    bar_w = max(group_w * 0.8 / max(len(series), 1), 1)
    parts: list[str] = [
        _legend([name for name, _ in series], left, 4),
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#999"/>',
            left,
            top + plot_h,
            width - 10,
            top + plot_h,
        ),
        format_html(
            '<text x="{}" y="{}" font-size="10" text-anchor="end">{}</text>',
            left - 4,
            top + 8,
            peak,
        ),
    ]
    for g, label in enumerate(labels):
        gx = left + g * group_w + group_w * 0.1
        for s, (name, values) in enumerate(series):
            value = values[g]
            h = round(plot_h * value / peak, 1)
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}">'
                    "<title>{} · {}: {}</title></rect>",
                    round(gx + s * bar_w, 1),
                    round(top + plot_h - h, 1),
                    round(bar_w, 1),
                    h,
                    COLOURS[s % len(COLOURS)],
                    label,
                    name,
                    value,
                )
            )
        parts.append(
            format_html(
                '<text x="{}" y="{}" font-size="10" text-anchor="middle">{}</text>',
                round(left + g * group_w + group_w / 2, 1),
                top + plot_h + 14,
                label,
            )
        )
    return _svg(width, height, title, "".join(parts))


def horizontal_bars(
    *, title: str, rows: Sequence[tuple[str, int, str]], colour: int = 0
) -> SafeString:
    """One bar per row: (label, value, value shown)."""
    row_h, left, width = 22, 170, 760
    height = max(len(rows), 1) * row_h + 8
    peak = max([v for _, v, _ in rows] + [1])
    plot_w = width - left - 120
    parts = []
    for i, (label, value, shown) in enumerate(rows):
        y = 4 + i * row_h
        w = round(plot_w * value / peak, 1)
        parts.append(
            format_html(
                '<text x="{}" y="{}" font-size="11" text-anchor="end">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="14" fill="{}"/>'
                '<text x="{}" y="{}" font-size="11">{}</text>',
                left - 6,
                y + 11,
                label,
                left,
                y,
                w,
                COLOURS[colour % len(COLOURS)],
                left + w + 6,
                y + 11,
                shown,
            )
        )
    return _svg(width, height, title, "".join(parts))
