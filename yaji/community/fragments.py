"""The post page's comment threads rendered without the template engine (ADR 0046).

A post page with 20 comments spent about half of its CPU in Django's template engine, most of
it in the per-comment include (``community/partials/comment.html``): a context push, ~30 node
renders, four ``{% url %}`` reversals and two ``date`` filters per comment. This module writes
the same markup with plain string formatting: each URL kind is reversed once per page (with a
stand-in id, then split), translated strings are looked up once per page, every value is
escaped exactly as the template escapes it.

``community/partials/comment_threads.html`` (and the ``comment.html`` it includes) stays the
readable reference: ``yaji/community/tests/test_fragments.py`` renders both over every state a
comment can be in (visible, held, a reply to a reply; anonymous viewer, another member, the
comment's author, the post's author; both languages) and requires the same HTML up to runs of
whitespace. Change the markup in both places.

Nothing here is cached: the output depends on the viewer (forms, the CSRF token, "delete" for
the author), and it is cheap enough to build for every request.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import normalize_newlines
from django.utils.translation import gettext

from yaji.community.models import Comment, Post, Visibility

# An id no row has, reversed once per page and split around (the URL patterns take <int:…>).
_STAND_IN = 987654321987654321


def _url_around(name: str, *args: Any) -> tuple[str, str]:
    before, _, after = reverse(name, args=[*args, _STAND_IN]).partition(str(_STAND_IN))
    return str(escape(before)), str(escape(after))


def _stamp(value: Any) -> tuple[str, str]:
    """``{{ value|date:'c' }}`` and ``{{ value|date:"m-d H:i" }}`` (in the current time zone)."""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return local.isoformat(), local.strftime("%m-%d %H:%M")


def _text(value: str) -> str:
    """``{{ value|linebreaksbr }}``."""
    return str(escape(normalize_newlines(value))).replace("\n", "<br>")


class _Page:
    """What every comment of one page shares: the viewer, the post, URLs, strings."""

    def __init__(self, *, post: Post, viewer: Any, csrf_token: str) -> None:
        self.signed_in = bool(getattr(viewer, "is_authenticated", False))
        self.viewer_id = viewer.pk if self.signed_in else None
        self.post_author_id = post.author_id
        self.person = _url_around("community:person_detail")
        self.replying = escape(gettext("回复"))
        self.held = escape(gettext("审核中"))
        if not self.signed_in:
            return
        add = escape(reverse("community:comment_add", args=[post.pk]))
        back = escape(reverse("community:post_detail", args=[post.pk]))
        self.remove = _url_around("community:comment_remove")
        csrf = f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf_token)}">'
        self.csrf = csrf
        self.reply_form = (
            f'<details class="reply"> <summary>{escape(gettext("回复"))}</summary> '
            f'<form method="post" action="{add}" hx-post="{add}" hx-target="#comments"'
            f' hx-swap="outerHTML"> {csrf}<input type="hidden" name="parent_id" value="{{pk}}">'
            f' <label class="visually-hidden" for="reply-{{pk}}">'
            f"{escape(gettext('回复内容'))}</label>"
            f' <textarea id="reply-{{pk}}" name="text" rows="2" maxlength="1000" required>'
            f"</textarea>"
            f' <button class="btn btn-sm btn-primary" type="submit">'
            f"{escape(gettext('发送'))}</button> </form> </details>"
        )
        report = escape(reverse("moderation:report"))
        self.report_form = (
            f'<details class="mod-report"> <summary>{escape(gettext("举报"))}</summary>'
            f' <form method="post" action="{report}">{csrf}'
            f' <input type="hidden" name="kind" value="community.comment">'
            f' <input type="hidden" name="object_id" value="{{pk}}">'
            f' <input type="hidden" name="next" value="{back}">'
            f' <input type="text" name="reason" maxlength="500" required'
            f' placeholder="{escape(gettext("举报原因"))}" aria-label="{escape(gettext("举报原因"))}">'
            f' <button class="btn btn-ghost btn-sm" type="submit">'
            f"{escape(gettext('提交'))}</button> </form> </details>"
        )
        self.remove_tail = (
            f' {csrf}<input type="hidden" name="next" value="{back}#comments">'
            f' <button class="btn-link" type="submit">{escape(gettext("删除"))}</button> </form>'
        )

    def comment(self, comment: Comment) -> str:
        pk = comment.pk
        visible = comment.status == Visibility.VISIBLE
        iso, short = _stamp(comment.created_at)
        person_before, person_after = self.person
        parts = [
            f'<div class="comment{"" if visible else " is-held"}" id="comment-{pk}"'
            f' data-testid="comment"> <p class="comment-meta">'
            f' <a href="{person_before}{comment.author_id}{person_after}">'
            f"{escape(str(comment.author))}</a> "
        ]
        if comment.parent_id is not None and comment.parent_id != comment.root_id:
            parts.append(
                f'<span class="muted">{self.replying} {escape(str(comment.parent.author))}</span> '
            )
        parts.append(f'<time class="muted" datetime="{iso}">{short}</time> ')
        if comment.status == Visibility.HELD:
            parts.append(f'<span class="badge badge-warn">{self.held}</span> ')
        parts.append(f'</p> <p class="comment-text">{_text(comment.text)}</p> ')
        if self.signed_in:
            parts.append('<div class="comment-tools"> ')
            if visible:
                parts.append(self.reply_form.replace("{pk}", str(pk)) + " ")
            if self.viewer_id != comment.author_id and visible:
                parts.append(self.report_form.replace("{pk}", str(pk)))
            parts.append(" ")
            if self.viewer_id in (comment.author_id, self.post_author_id):
                before, after = self.remove
                parts.append(
                    f'<form method="post" action="{before}{pk}{after}">{self.remove_tail} '
                )
            parts.append("</div> ")
        parts.append("</div> ")
        return "".join(parts)


def comment_threads_html(
    threads: Iterable[Any], *, post: Post, viewer: Any, csrf_token: str
) -> SafeString:
    """The comment threads of ``post`` as ``comment_threads.html`` renders them: each root in
    a ``.thread`` with its replies in ``.replies``."""
    page = _Page(post=post, viewer=viewer, csrf_token=csrf_token)
    out = []
    for thread in threads:
        out.append(f'<div class="thread"> {page.comment(thread.comment)} ')
        if thread.replies:
            out.append(
                '<div class="replies">'
                + "".join(page.comment(reply) for reply in thread.replies)
                + "</div>"
            )
        out.append(" </div> ")
    return mark_safe("".join(out))  # noqa: S308  # every value above is escaped
