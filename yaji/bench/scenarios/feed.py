"""``yaji bench feed``: reading the community — the following feed and the post page.

Seeding (not measured; bulk inserts, ~100k rows in seconds): ``creators`` (default 1,000)
accounts publish ``posts`` (default 100,000) visible posts round-robin, every tenth with a
topic; the reader follows ``following`` (default 500) of them, so about half of all posts are in
the reader's feed and the other half must be filtered out. ``commented`` (200) of the newest
posts get 20 comments each, a quarter of them replies.

Cases:

* ``following``: ``GET /api/v1/feed/following?limit=20`` as the reader (bearer token), first
  pages and pages deeper down the cursor chain (pages 1–10, taken in turn).
* ``post``: ``GET /posts/<id>/`` — the HTML post page with its comment threads, anonymous (a
  visitor arriving through a share link), over the commented posts.

Ceiling (ADR 0033): a read path moves no rows, so there is no "same transaction as raw SQL" to
compare with. The ceiling is the **same server's** rate for a trivial endpoint that reads one
row, ``GET /api/v1/topics/<slug>``, driven right after the case with the same concurrency: what
the stack (gunicorn, middleware, routing, one indexed query, JSON) costs with nothing else.
``ratio`` = case throughput / that rate.

Server time: every request carries an ``X-Request-ID`` of this run; the server's access log
records ``duration_ms`` per request id (time inside Django, without the wait in the listen
queue). ``server_p50_ms`` / ``server_p95_ms`` are computed from those lines; ``p50_ms``,
``p95_ms``, ``p99_ms`` are what the clients saw (queueing included).

``queries_per_page``: SQL statements of one page, measured in this process with Django's test
client on the same database, on the first page and on a deep page (following) or on a post with
and without comments (post); different counts are a violation (an N+1 crept in).
"""

from __future__ import annotations

import json
import random
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from yaji.accounts.models import User
from yaji.bench.cases import Advance, CasePlan, PreparedCase
from yaji.bench.drive import DriveResult, HttpCall
from yaji.bench.results import percentile_ms
from yaji.bench.seeding import BenchUser
from yaji.community import selectors
from yaji.community.models import Topic

PAGE = 20
DEEP_PAGES = 10
COMMENTS_PER_POST = 20
CASES = ("following", "post")
WARM_CALLS = 30  # per endpoint, before measuring (5 workers each see several)


@dataclass(frozen=True, slots=True)
class FeedWorld:
    reader_id: int
    reader_auth: dict[str, str]
    cursors: list[str]  # "" = the first page, then the cursors of pages 2..DEEP_PAGES
    commented: list[int]
    quiet_post: int  # a post without comments
    topic_slug: str


_worlds: dict[str, FeedWorld] = {}


def _copy(table: str, columns: tuple[str, ...], rows: Any) -> None:
    """COPY rows into a table through Django's psycopg connection (one round trip)."""
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor under Django's wrapper
        with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def seed_world(
    *,
    reader: BenchUser,
    tag: str,
    creators: int,
    posts: int,
    following: int,
    commented: int,
    advance: Advance,
) -> FeedWorld:
    rng = random.Random(tag)
    with transaction.atomic():
        first = User.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        _copy(
            "accounts_user",
            (
                "email",
                "password",
                "display_name",
                "language",
                "is_staff",
                "is_active",
                "is_superuser",
                "created_at",
                "updated_at",
            ),
            (
                (
                    f"feed-{tag}-{i}@bench.yaji.invalid",
                    "!",
                    f"创作者{i}",
                    "zh-hans",
                    False,
                    True,
                    False,
                    "now",
                    "now",
                )
                for i in range(creators)
            ),
        )
        creator_ids = list(
            User.objects.filter(pk__gt=first, email__startswith=f"feed-{tag}-")
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        advance(1)
        followed = rng.sample(creator_ids, k=min(following, len(creator_ids)))
        _copy(
            "community_follow",
            ("follower_id", "followee_id", "created_at", "updated_at"),
            ((reader.id, c, "now", "now") for c in followed),
        )
        topic = Topic.objects.create(name=f"压测{tag}"[:30], slug=f"bench-{tag}"[:60])
        last_post = (
            connection.cursor()
            .execute("SELECT coalesce(max(id), 0) FROM community_post")
            .fetchone()[0]  # type: ignore[union-attr]
        )
        _copy(
            "community_post",
            (
                "author_id",
                "text",
                "video",
                "video_format",
                "status",
                "like_count",
                "favourite_count",
                "comment_count",
                "share_count",
                "created_at",
                "updated_at",
            ),
            (
                (
                    creator_ids[i % len(creator_ids)],
                    f"第 {i} 条动态：今天的作品 #压测",
                    "",
                    "",
                    "visible",
                    rng.randint(0, 50),
                    rng.randint(0, 10),
                    0,
                    rng.randint(0, 5),
                    "now",
                    "now",
                )
                for i in range(posts)
            ),
        )
        post_ids = list(
            connection.cursor()
            .execute("SELECT id FROM community_post WHERE id > %s ORDER BY id", [last_post])
            .fetchall()
        )
        post_ids = [row[0] for row in post_ids]
        advance(1)
        _copy(
            "community_post_topics",
            ("post_id", "topic_id"),
            ((pid, topic.pk) for pid in post_ids[::10]),
        )
        hot = post_ids[-commented:] if commented else []
        comment_rows = []
        for pid in hot:
            for j in range(COMMENTS_PER_POST):
                comment_rows.append(
                    (pid, rng.choice(creator_ids), f"评论 {j}：好看！", "visible", "now", "now")
                )
        _copy(
            "community_comment",
            ("post_id", "author_id", "text", "status", "created_at", "updated_at"),
            comment_rows,
        )
        # a quarter of the comments become replies to the first comment of their post
        connection.cursor().execute(
            """
            WITH firsts AS (
                SELECT post_id, min(id) AS root FROM community_comment
                WHERE post_id = ANY(%s) GROUP BY post_id
            )
            UPDATE community_comment c SET parent_id = f.root, root_id = f.root
            FROM firsts f WHERE c.post_id = f.post_id AND c.id <> f.root AND c.id %% 4 = 0
            """,
            [hot],
        )
        connection.cursor().execute(
            "UPDATE community_post SET comment_count = %s WHERE id = ANY(%s)",
            [COMMENTS_PER_POST, hot],
        )
        advance(1)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE community_post")
        cursor.execute("ANALYZE community_follow")
        cursor.execute("ANALYZE community_comment")
    reader_user = User.objects.get(pk=reader.id)
    cursors = [""]
    cursor = None
    for _ in range(DEEP_PAGES - 1):
        page = selectors.feed_following(viewer=reader_user, cursor=cursor, limit=PAGE)
        if not page.next_cursor:
            break
        cursor = page.next_cursor
        cursors.append(cursor)
    quiet = post_ids[0] if post_ids else 0
    return FeedWorld(
        reader_id=reader.id,
        reader_auth=reader.headers,
        cursors=cursors,
        commented=hot,
        quiet_post=quiet,
        topic_slug=topic.slug,
    )


def _queries(path: str, *, headers: dict[str, str] | None = None) -> int:
    client = Client(HTTP_HOST="127.0.0.1")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, headers=headers or {})
    if response.status_code != 200:
        return -response.status_code
    return len(captured)


def _feed_path(cursor: str) -> str:
    return f"/api/v1/feed/following?limit={PAGE}" + (f"&cursor={cursor}" if cursor else "")


def server_times(log_path: Path, prefix: str) -> list[float]:
    """``duration_ms`` of the access-log lines whose request id starts with ``prefix``."""
    times: list[float] = []
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError:
        return times
    for line in lines:
        if prefix not in line or not line.startswith("{"):
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if str(entry.get("request_id", "")).startswith(prefix) and "duration_ms" in entry:
            times.append(float(entry["duration_ms"]) / 1000)
    return times


def _server_measure(prefix: str, ceiling_prefix: str) -> Any:
    def measure(log_path: Path) -> dict[str, object]:
        mine = server_times(log_path, prefix)
        ceiling = server_times(log_path, ceiling_prefix)
        return {
            "server_requests_logged": len(mine),
            "server_p50_ms": percentile_ms(mine, 50) if mine else None,
            "server_p95_ms": percentile_ms(mine, 95) if mine else None,
            "server_mean_ms": round(statistics.fmean(mine) * 1000, 2) if mine else None,
            "ceiling_server_p95_ms": percentile_ms(ceiling, 95) if ceiling else None,
        }

    return measure


def _plan(
    name: str,
    *,
    requests: int,
    creators: int,
    posts: int,
    following: int,
    commented: int,
) -> CasePlan:
    def prepare(users: list[BenchUser], tag: str, advance: Advance) -> PreparedCase:
        run_tag = tag.split("-")[0]
        world = _worlds.get(run_tag)
        if world is None:
            world = seed_world(
                reader=users[0],
                tag=run_tag,
                creators=creators,
                posts=posts,
                following=following,
                commented=commented,
                advance=advance,
            )
            _worlds[run_tag] = world
        else:
            advance(3)
        # disjoint prefixes: neither is a prefix of the other
        prefix = f"bench-{tag}-page-"
        ceiling_prefix = f"bench-{tag}-ceil-"
        if name == "following":
            paths = [_feed_path(world.cursors[i % len(world.cursors)]) for i in range(requests)]
            auth = world.reader_auth
            # Warm: first-use lookups, and twice for the token cache with Redis (ADR 0036: the
            # first sight learns the token's user, the second stores the row, the third hits).
            for _ in range(2):
                _queries(_feed_path(world.cursors[0]), headers=auth)
            probe = [
                _queries(_feed_path(world.cursors[0]), headers=auth),
                _queries(_feed_path(world.cursors[-1]), headers=auth),
            ]
        else:
            targets = world.commented or [world.quiet_post]
            paths = [f"/posts/{targets[i % len(targets)]}/" for i in range(requests)]
            auth = {}
            _queries(f"/posts/{targets[0]}/")  # warm: first-use lookups
            probe = [_queries(f"/posts/{targets[0]}/"), _queries(f"/posts/{world.quiet_post}/")]
        calls = [
            HttpCall(method="GET", path=p, headers={**auth, "X-Request-ID": f"{prefix}{i}"})
            for i, p in enumerate(paths)
        ]
        ceiling_calls = [
            HttpCall(
                method="GET",
                path=f"/api/v1/topics/{world.topic_slug}",
                headers={"X-Request-ID": f"{ceiling_prefix}{i}"},
            )
            for i in range(requests)
        ]

        # warm every worker on both the page and the ceiling endpoint (not measured, not logged
        # under this run's prefixes)
        warm = [
            HttpCall(
                method=c.method,
                path=c.path,
                headers={**c.headers, "X-Request-ID": f"warm-{tag}-{i}"},
            )
            for i, c in enumerate(calls[:WARM_CALLS] + ceiling_calls[:WARM_CALLS])
        ]

        extra: dict[str, object] = {
            "queries_per_page": probe[0],
            "queries_per_page_deep": probe[1],
            "ceiling_endpoint": "GET /api/v1/topics/{slug} (one row)",
            "posts": posts,
            "creators": creators,
            "following": following,
        }

        def check(http: DriveResult, ceiling: DriveResult) -> list[str]:
            # The runner copies ``extra`` into the JSON line after the checks: add p95 here.
            extra["p95_ms"] = percentile_ms([o.latency_s for o in http.answered], 95)
            extra["ceiling_p95_ms"] = percentile_ms([o.latency_s for o in ceiling.answered], 95)
            found = []
            # following: first page = deep page; post: a post with 20 comments in threads
            # may need one query more than one without (the replies), never more than that
            allowed = {probe[0]} if name == "following" else {probe[0], probe[0] - 1}
            if probe[1] not in allowed or min(probe) <= 0:
                found.append(f"queries per page not constant or failing: {probe}")
            bad = sum(1 for o in http.answered if o.status != 200)
            if bad:
                found.append(f"{bad} page requests did not answer 200")
            if name == "following":
                # every answered page holds posts of followed people only, newest first
                followed = set(selectors.following_ids(world.reader_id)) | {world.reader_id}
                sample = [o for o in http.answered if o.status == 200][:50]
                for outcome in sample:
                    items = json.loads(outcome.body).get("items", [])
                    authors = {item["author"]["id"] for item in items}
                    ids = [item["id"] for item in items]
                    if (
                        len(items) != PAGE
                        or not authors <= followed
                        or ids != sorted(ids, reverse=True)
                    ):
                        found.append("a feed page held the wrong posts or order")
                        break
            if any(o.status != 200 for o in ceiling.answered):
                found.append("the one-row ceiling endpoint did not answer 200")
            return found

        return PreparedCase(
            calls=calls,
            expected=frozenset({200}),
            ceiling_count=len(ceiling_calls),
            ceiling_transaction=lambda conn, i: True,  # unused: the ceiling is HTTP
            check=check,
            extra=extra,
            ceiling_calls=ceiling_calls,
            server_measure=_server_measure(prefix, ceiling_prefix),
            warm_calls=warm,
        )

    return CasePlan(name=name, users_needed=1, seed_steps=3, prepare=prepare)


def feed_cases(
    *,
    requests: int,
    names: list[str],
    creators: int = 1000,
    posts: int = 100_000,
    following: int = 500,
    commented: int = 200,
) -> list[CasePlan]:
    return [
        _plan(
            name,
            requests=requests,
            creators=creators,
            posts=posts,
            following=following,
            commented=commented,
        )
        for name in CASES
        if name in names
    ]
