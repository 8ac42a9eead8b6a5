"""The post page's comment threads rendered in Python (ADR 0046) are the reference templates'
markup (``partials/comment_threads.html`` + ``comment.html``) for every state a comment and a
viewer can be in, and nothing of one viewer reaches another; the page for visitors without a
session takes its header from the shared fragment cache with their own CSRF token and path."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.utils import translation

from yaji.accounts.tests.factories import PhoneUserFactory
from yaji.community import selectors, services
from yaji.community.fragments import comment_threads_html
from yaji.community.models import Comment, Visibility
from yaji.community.tests.factories import PASSWORD, UserFactory, post_make

pytestmark = pytest.mark.django_db

TOKEN = "t" * 64


def _flat(html: str) -> str:
    return re.sub(r"\s+", " ", html).strip()


def _world():  # type: ignore[no-untyped-def]
    post_author, alice, bob = UserFactory(), UserFactory(display_name="<b>阿丽</b>"), UserFactory()
    nameless = UserFactory(display_name="")  # shown as a masked e-mail
    phoned = PhoneUserFactory(display_name="", phone="13800138000")  # a masked phone
    post = post_make(post_author, "一条 #苏绣")
    first = services.comment_create(author=alice, post_id=post.pk, text="第一 & <i>x</i>\r\n第二行")
    reply = services.comment_create(author=bob, post_id=post.pk, text="回", parent_id=first.pk)
    deeper = services.comment_create(
        author=nameless, post_id=post.pk, text="再回", parent_id=reply.pk
    )
    held = services.comment_create(author=bob, post_id=post.pk, text="待审")
    held_reply = services.comment_create(
        author=bob, post_id=post.pk, text="待审回复", parent_id=first.pk
    )
    Comment.objects.filter(pk__in=[held.pk, held_reply.pk]).update(status=Visibility.HELD)
    services.comment_create(author=phoned, post_id=post.pk, text="手机号用户")
    return post, {"post author": post_author, "alice": alice, "bob": bob}, deeper


def _both(post, viewer):  # type: ignore[no-untyped-def]
    """(reference template, Python renderer) for this viewer."""
    request = RequestFactory().get(f"/posts/{post.pk}/")
    request.user = viewer
    card = selectors.post_get(post_id=post.pk, viewer=viewer)
    threads = selectors.comments_of_post(post=card, viewer=viewer, limit=50).threads
    template = render_to_string(
        "community/partials/comment_threads.html",
        {"threads": threads, "post": card, "csrf_token": TOKEN},
        request=request,
    )
    fast = comment_threads_html(threads, post=card, viewer=viewer, csrf_token=TOKEN)
    return _flat(template), _flat(fast)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_fragments_are_the_reference_templates_markup_for_every_viewer(language: str) -> None:
    post, people, deeper = _world()
    viewers = [AnonymousUser(), *people.values()]
    with translation.override(language):
        for viewer in viewers:
            template, fast = _both(post, viewer)
            assert fast == template, getattr(viewer, "display_name", "anonymous")
    with translation.override("en"):
        _, english = _both(post, people["alice"])
    assert "Reply" in english or "回复" not in english  # translated, when the catalogue has it
    assert f'id="comment-{deeper.pk}"' in english  # a reply to a reply is in its root's thread


def test_what_a_viewer_sees_is_theirs_only() -> None:
    post, people, _ = _world()
    _, anonymous = _both(post, AnonymousUser())
    _, alice = _both(post, people["alice"])
    _, bob = _both(post, people["bob"])
    _, owner = _both(post, people["post author"])
    assert "comment-tools" not in anonymous and TOKEN not in anonymous
    assert "待审" not in anonymous and "待审" not in alice  # bob's held comments: bob's only
    assert bob.count("is-held") == 2
    mine = {c.pk for c in Comment.objects.filter(author=people["alice"])}
    removable = {int(pk) for pk in re.findall(r'action="/comments/(\d+)/delete/"', alice)}
    assert removable == mine  # alice may delete her own comment, nobody else's
    shown = Comment.objects.filter(post=post, status=Visibility.VISIBLE).count()
    assert len(re.findall(r'action="/comments/\d+/delete/"', owner)) == shown  # the post's author
    assert "&lt;b&gt;阿丽&lt;/b&gt;" in anonymous and "<b>阿丽" not in anonymous
    assert "&lt;i&gt;x&lt;/i&gt;<br>第二行" in anonymous


def test_an_edit_shows_at_once_nothing_is_cached() -> None:
    post, people, _ = _world()
    client = Client()
    first = Comment.objects.filter(post=post).order_by("pk").first()
    assert first is not None
    assert "第一 &amp;" in client.get(f"/posts/{post.pk}/").content.decode()
    Comment.objects.filter(pk=first.pk).update(text="改过了")
    people["alice"].display_name = "新名字"
    people["alice"].save(update_fields=["display_name"])
    page = client.get(f"/posts/{post.pk}/").content.decode()
    assert "改过了" in page and "新名字" in page
    services.comment_delete(user=people["alice"], comment_id=first.pk)
    assert f'id="comment-{first.pk}"' not in client.get(f"/posts/{post.pk}/").content.decode()


def test_visitors_without_a_session_get_the_shared_shell_with_their_own_token(
    settings,  # type: ignore[no-untyped-def]
) -> None:
    settings.YAJI_PAGE_CACHE = True
    post, people, _ = _world()
    path = f"/posts/{post.pk}/"
    pages = []
    for _ in range(2):  # the second is served the cached header
        client = Client()
        response = client.get(path)
        body = response.content.decode()
        token = re.search(r'"X-CSRFToken": "([^"]+)"', body)
        assert token is not None and "yajicsrfplaceholder" not in body
        assert "yajipathplaceholder" not in body
        assert client.cookies["csrftoken"].value  # the token belongs to this visitor's cookie
        assert f'name="next" value="{path}"' in body  # the language form returns here
        pages.append(body)
    assert 'class="site-header"' in pages[1]
    english = Client(headers={"Accept-Language": "en"}).get(path).content.decode()
    assert 'lang="en"' in english.split("<body", 1)[0]
    assert english.split("<main", 1)[0] != pages[1].split("<main", 1)[0]  # its own header
    # a signed-in member never gets the visitors' header
    member = Client()
    assert member.login(username=people["bob"].email, password=PASSWORD)
    mine = member.get(path).content.decode()
    assert "account-menu" in mine and "account-menu" not in pages[1]
