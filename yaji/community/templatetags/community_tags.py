"""Rendering helpers for posts: #话题 in a post's text become links to the topic page."""

from __future__ import annotations

import re

from django import template
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from yaji.community.models import Post
from yaji.community.services import HASHTAG_RE

register = template.Library()

_HASHTAG = HASHTAG_RE


@register.filter
def post_body(post: Post) -> SafeString:
    """The post's text, escaped, with its tagged topics linked and line breaks kept."""
    # card_topics: loaded with the post by yaji.community.cards (no query here)
    slugs = {topic.name.casefold(): topic.slug for topic in post.card_topics}  # type: ignore[attr-defined]

    def link(match: re.Match[str]) -> str:
        slug = slugs.get(match.group(1).casefold())
        if slug is None:
            return match.group(0)
        url = reverse("community:topic_detail", args=[slug])
        return str(format_html('<a class="hashtag" href="{}">#{}</a>', url, match.group(1)))

    # Escape first, then link: topic names cannot contain the characters escaping changes
    # (<>&'"), so a name reads the same in the escaped text.
    escaped = str(escape(post.text))
    return mark_safe(_HASHTAG.sub(link, escaped).replace("\n", "<br>"))  # noqa: S308
