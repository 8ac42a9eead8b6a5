"""The community chapter of the demo world: works with real (synthesised) audio, topics, follows,
posts tagging works and products, threaded comments, likes and a share.

Everything goes through the community services, as real users would. The chapter is
re-runnable: each step first checks whether its result exists. People are found by the demo
world's e-mail addresses (``yaji.demo`` builds them before this chapter runs); a missing person
skips the steps that need them.
"""

from __future__ import annotations

import io
import math
import random
import struct
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile

from yaji.accounts.models import User
from yaji.accounts.selectors import user_by_identifier
from yaji.catalog import selectors as catalog_selectors
from yaji.community import challenges, contests, services
from yaji.community.models import Challenge, Comment, Contest, Post, Topic, Work
from yaji.core import clock
from yaji.core.errors import ApplicationError

SEED = 20261122
OPERATOR = "admin@yaji.demo"
WANQING = "lin.wanqing@yaji.demo"
SHANHE = "gu.shanhe@yaji.demo"
SHENMO = "shen.mo@yaji.demo"
ADUO = "a.duo@yaji.demo"
QINGYIN = "zhou.qingyin@yaji.demo"
CREATORS = (WANQING, SHANHE, SHENMO, ADUO, QINGYIN)
MAX_BUYERS = 40

# 宫 商 角 徵 羽 of the C pentatonic scale, Hz
_PENTATONIC = (261.63, 293.66, 329.63, 392.00, 440.00, 523.25)


def melody_wav(notes: tuple[int, ...], *, beat_s: float = 0.5, rate: int = 8000) -> bytes:
    """A real mono 16-bit WAV playing ``notes`` (indices into the pentatonic scale) with a soft
    attack and decay per note, so the demo's players have something honest to play."""
    frames = bytearray()
    per_note = int(beat_s * rate)
    for note in notes:
        freq = _PENTATONIC[note % len(_PENTATONIC)]
        for i in range(per_note):
            envelope = min(1.0, i / (0.02 * rate)) * math.exp(-2.5 * i / per_note)
            sample = 0.6 * math.sin(2 * math.pi * freq * i / rate)
            sample += 0.2 * math.sin(
                4 * math.pi * freq * i / rate
            )  # an overtone, like a plucked string
            frames += struct.pack("<h", int(14000 * envelope * sample))
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(bytes(frames))
    return out.getvalue()


@dataclass(frozen=True)
class DemoWork:
    creator: str
    title: str
    description: str
    tags: str
    notes: tuple[int, ...]


DEMO_WORKS: tuple[DemoWork, ...] = (
    DemoWork(
        QINGYIN,
        "皂罗袍（练声小样）",
        "原来姹紫嫣红开遍，似这般都付与断井颓垣。\n"
        "A practice sketch of the Kunqu aria from The Peony Pavilion, played on a synthesised zither.",
        "昆曲, 牡丹亭",
        (0, 1, 2, 4, 3, 2, 1, 0, 2, 1, 0, 4, 0, 1, 2, 2),
    ),
    DemoWork(
        ADUO,
        "苗岭飞歌",
        "山那边的姑娘，听见了就唱回来。/ A call-and-answer song from the Miao hills.",
        "苗族, 民歌",
        (4, 5, 4, 3, 4, 2, 3, 4, 5, 5, 4, 3, 2, 0),
    ),
    DemoWork(
        SHENMO,
        "宋韵 · 点茶",
        "A small tune for whisking tea in the Song manner. 给点茶时听的小调。",
        "宋式美学, 茶",
        (2, 3, 4, 3, 2, 1, 2, 0, 1, 2, 3, 2),
    ),
)

DEMO_TOPICS: tuple[tuple[str, str], ...] = (
    (
        "苏绣",
        "针尖上的江南：苏绣作品、针法与工坊日常。/ Suzhou embroidery: works, stitches, studio life.",
    ),
    (
        "昆曲",
        "百戏之祖。唱段、身段、戏服与后台。/ Kunqu opera: arias, movement, costumes, backstage.",
    ),
    ("景泰蓝", "掐丝、点蓝、烧蓝、磨光。/ Cloisonné, step by step."),
    ("苗银", "苗族银饰的锻制与佩戴。/ Miao silver: forging and wearing."),
    ("宋式美学", "把宋人的审美放进今天的日子。/ Song-dynasty aesthetics in everyday life."),
    ("非遗新做", "老手艺，新器物。/ Old crafts, new objects."),
)


@dataclass(frozen=True)
class DemoPost:
    author: str
    text: str
    work_title: str = ""
    tag_product: bool = False
    comments: tuple[tuple[int, str], ...] = ()  # (buyer index, text); -1: the author replies
    likes: int = 0  # how many buyers like it


DEMO_POSTS: tuple[DemoPost, ...] = (
    DemoPost(
        WANQING,
        "新绣的白鹭绷子今天下架了，正反两面各用了十一种灰。#苏绣 #非遗新做\n"
        "Took the egret off the frame today: eleven greys on each face.",
        tag_product=True,
        comments=(
            (0, "正反两面一样细，太不可思议了！"),
            (-1, "谢谢～反面其实更难。"),
            (1, "求教程"),
        ),
        likes=9,
    ),
    DemoPost(
        QINGYIN,
        "练了一晚上《皂罗袍》，先放个小样给大家听。#昆曲",
        work_title="皂罗袍（练声小样）",
        comments=((2, "听完了，想去园子里看真的！"), (-1, "下个月有一场，欢迎来～")),
        likes=12,
    ),
    DemoPost(
        SHANHE,
        "一只小花瓶，一百零八道工序，今天走到第六十一道：点蓝。#景泰蓝",
        tag_product=True,
        comments=((3, "老师傅的手真稳"),),
        likes=7,
    ),
    DemoPost(
        ADUO,
        "阿妈说银子要越打越亮。新的一对耳环，送给 @林婉清 试戴。#苗银",
        work_title="苗岭飞歌",
        comments=((4, "这个纹样是蝴蝶妈妈吗？"), (-1, "是的！苗族的始祖。")),
        likes=10,
    ),
    DemoPost(
        SHENMO,
        "A Song-style tea set for people who only have ten minutes in the morning. #宋式美学\n"
        "给只有十分钟的早晨做的一套茶器。",
        work_title="宋韵 · 点茶",
        tag_product=True,
        likes=8,
    ),
    DemoPost(
        WANQING,
        "工坊来了三位新学徒，第一课：劈丝。一根丝线劈成六十四分之一。#苏绣",
        comments=((5, "眼睛受得了吗"),),
        likes=5,
    ),
    DemoPost(
        QINGYIN,
        "新戏服的水袖是 @沈墨 帮忙配的色，宋人的天青色。#昆曲 #宋式美学",
        likes=6,
    ),
)

COMMUNITY_STEPS = 4 + len(DEMO_WORKS) + len(DEMO_POSTS)


def _person(email: str) -> User | None:
    return user_by_identifier(identifier=email)


def _buyers() -> list[User]:
    people = []
    for i in range(1, MAX_BUYERS + 1):
        user = _person(f"buyer{i:02d}@yaji.demo")
        if user is None:
            break
        people.append(user)
    return people


def _first_product_id(owner: User) -> int | None:
    try:
        card = catalog_selectors.creator_get(user_id=owner.pk)
    except ApplicationError:  # not a creator with a shop: nothing to tag
        return None
    for shop in card.shops:
        items = catalog_selectors.products_listed(shop_slug=shop.slug, limit=1).items
        if items:
            return items[0].pk
    return None


def _topics_step() -> str:
    operator = _person(OPERATOR)
    if operator is None:
        return "topics skipped"
    for name, description in DEMO_TOPICS:
        topic = Topic.objects.filter(name=name).first()
        if topic is None or not topic.description:
            services.topic_upsert(actor=operator, name=name, description=description)
    return "topics 话题"


def _work_step(spec: DemoWork) -> str:
    creator = _person(spec.creator)
    if creator is None or Work.objects.filter(creator=creator, title=spec.title).exists():
        return spec.title
    services.work_publish(
        creator=creator,
        title=spec.title,
        kind="audio",
        description=spec.description,
        tags=spec.tags,
        media=SimpleUploadedFile("demo.wav", melody_wav(spec.notes), content_type="audio/wav"),
    )
    return spec.title


def _follows_step(buyers: list[User]) -> str:
    rng = random.Random(SEED)
    creators = [u for u in (_person(e) for e in CREATORS) if u is not None]
    for creator in creators:
        for other in creators:
            if other.pk != creator.pk and rng.random() < 0.6:
                services.follow_add(follower=creator, followee_id=other.pk)
    for buyer in buyers:
        for creator in rng.sample(creators, k=min(len(creators), rng.randint(2, 4))):
            services.follow_add(follower=buyer, followee_id=creator.pk)
    return "follows 关注"


def _post_step(spec: DemoPost, buyers: list[User]) -> str:
    author = _person(spec.author)
    label = spec.text[:16]
    if author is None or Post.objects.filter(author=author, text=spec.text).exists():
        return label
    work_ids = []
    if spec.work_title:
        work = Work.objects.filter(creator=author, title=spec.work_title).first()
        if work is not None:
            work_ids.append(work.pk)
    product_id = _first_product_id(author) if spec.tag_product else None
    post = services.post_create(
        author=author,
        text=spec.text,
        work_ids=work_ids,
        product_ids=[product_id] if product_id else [],
    )
    if post.status != "visible":
        return label
    last: Comment | None = None
    for who, text in spec.comments:
        if who == -1:
            if last is not None:
                services.comment_create(
                    author=author, post_id=post.pk, text=text, parent_id=last.pk
                )
            continue
        if buyers:
            last = services.comment_create(
                author=buyers[who % len(buyers)], post_id=post.pk, text=text
            )
    for buyer in buyers[: spec.likes]:
        services.like_add(user=buyer, post_id=post.pk)
    if buyers and spec.likes >= 10:
        services.share_create(user=buyers[0], post_id=post.pk, channel="wechat")
        services.favourite_add(user=buyers[0], post_id=post.pk)
    return label


CHALLENGE_TOPIC = "非遗新做"
CONTEST_SLUG = "jasmine-tea-tin-2026"
# (designer, title, notes, picture colours): each design is a real picture drawn here
DEMO_DESIGNS: tuple[tuple[str, str, str, tuple[int, int, int]], ...] = (
    (WANQING, "白鹭衔茶", "苏绣白鹭的线稿印在罐身，盖子是一枚绣绷。", (232, 236, 240)),
    (SHANHE, "掐丝茉莉", "景泰蓝掐丝的茉莉花枝绕罐一周。", (32, 84, 148)),
    (SHENMO, "天青素罐", "宋式天青釉色，只留一行小字：一盏茉莉。", (150, 190, 190)),
)


def _challenge_step() -> str:
    """A running challenge on a demo topic: a week, rules and prizes; its entries are the
    topic's posts made from now on (the posts chapter below adds some)."""
    operator = _person(OPERATOR)
    topic = Topic.objects.filter(name=CHALLENGE_TOPIC).first()
    if operator is None or (topic is not None and Challenge.objects.filter(topic=topic).exists()):
        return "challenge 挑战"
    now = clock.now()
    challenges.challenge_create(
        actor=operator,
        topic_name=CHALLENGE_TOPIC,
        title="非遗新做 · 七日挑战 / Old Crafts, New Objects: a 7-day challenge",
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(days=7),
        rules="发一条带 #非遗新做 的动态：一件用老手艺做的新器物，配图或视频。\n"
        "Post with #非遗新做: a new object made with an old craft, with a picture or video.",
        prizes="第一名：景泰蓝茶则一只；前十名：苏绣书签。\n"
        "1st: a cloisonné tea scoop; top ten: embroidered bookmarks.",
    )
    return "challenge 挑战"


def _design_png(colour: tuple[int, int, int]) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (480, 360), colour)
    draw = ImageDraw.Draw(image)
    ink = tuple(255 - c for c in colour)
    draw.rounded_rectangle((150, 60, 330, 320), radius=24, outline=ink, width=6)  # the tin
    draw.ellipse((190, 120, 290, 220), outline=ink, width=4)  # a jasmine flower
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _contest_step(buyers: list[User]) -> str:
    """A design contest in its voting window: three designs, votes by verified buyers, and a
    small vote farm (three accounts on one phone) that is flagged and not counted."""
    operator = _person(OPERATOR)
    if operator is None or Contest.objects.filter(slug=CONTEST_SLUG).exists():
        return "contest 设计大赛"
    now = clock.now()
    contest = contests.contest_create(
        actor=operator,
        slug=CONTEST_SLUG,
        title="茉莉花茶罐设计大赛 / Jasmine tea tin design contest",
        brief="为一款茉莉花茶设计茶罐：可以量产，能装 100 克，要有江南的味道。\n"
        "Design a tin for a jasmine tea: mass-producible, holds 100 g, tastes of Jiangnan.",
        prizes="冠军设计将由雅集合作工坊量产上架，设计者获得每罐 5% 的分成。\n"
        "The winning design goes into production; its designer earns 5% of every tin.",
        submissions_open_at=now - timedelta(days=3),
        submissions_close_at=now + timedelta(days=1),
        voting_open_at=now + timedelta(days=1),
        voting_close_at=now + timedelta(days=8),
    )
    submitted = []
    for email, title, notes, colour in DEMO_DESIGNS:
        designer = _person(email)
        if designer is None:
            continue
        picture = SimpleUploadedFile("design.png", _design_png(colour), content_type="image/png")
        submitted.append(
            contests.contest_submit(
                author=designer,
                contest_id=contest.pk,
                title=title,
                description=notes,
                image=picture,
            )
        )
    # The operator closes submissions now and opens the vote for a week.
    contests.contest_reschedule(
        actor=operator,
        contest_id=contest.pk,
        submissions_close_at=clock.now(),
        voting_open_at=clock.now(),
        voting_close_at=clock.now() + timedelta(days=7),
    )
    visible = [s for s in submitted if s.status == "visible"]
    if not visible:
        return "contest 设计大赛"
    for i, buyer in enumerate(buyers[3:15]):
        try:
            contests.contest_vote(
                voter=buyer,
                contest_id=contest.pk,
                submission_id=visible[(i * 7) % len(visible)].pk,
                device=f"demo-phone-{i}",
            )
        except ApplicationError:  # not verified, a minor refused by risk control, ...
            continue
    for buyer in buyers[:3]:  # three accounts, one phone: flagged, not counted
        try:
            contests.contest_vote(
                voter=buyer,
                contest_id=contest.pk,
                submission_id=visible[-1].pk,
                device="demo-vote-farm-phone",
            )
        except ApplicationError:
            continue
    return "contest 设计大赛"


def community_chapter() -> Iterator[str]:
    """One step per work and post, plus topics, follows, a challenge and a contest
    (``COMMUNITY_STEPS`` in all)."""
    yield _topics_step()
    yield _challenge_step()
    for spec in DEMO_WORKS:
        yield _work_step(spec)
    buyers = _buyers()
    yield _follows_step(buyers)
    for post in DEMO_POSTS:
        yield _post_step(post, buyers)
    yield _contest_step(buyers)
