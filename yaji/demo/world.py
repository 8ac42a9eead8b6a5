"""The demo world: a deterministic, bilingual cultural-creative community.

Every person is built through the owning app's public services (the accounts manager for the
account itself, as the admin does; ``role_grant`` and ``kyc_submit`` for roles and real-name
checks), so the demo exercises the same code paths as real users. Later capabilities add their
own chapters (shops, products, works ...) to ``CHAPTERS``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction

from yaji.accounts import services as accounts
from yaji.accounts.kyc import id_number_make
from yaji.accounts.models import Role, User
from yaji.accounts.selectors import user_by_identifier
from yaji.community.demo import COMMUNITY_STEPS, community_chapter
from yaji.copyright.demo import COPYRIGHT_STEPS, copyright_chapter
from yaji.demo.orders import DEMO_ORDERS, orders_chapter
from yaji.demo.products import DEMO_PRODUCTS, catalogue_chapter, demo_catalogue, products_chapter
from yaji.demo.shops import DEMO_SHOPS, MAKERS, makers_chapter, shops_chapter
from yaji.search.services import search_index_rebuild

DEMO_PASSWORD = "yaji-demo-2026"  # noqa: S105  # public, printed by the command
SEED = 20261122
OPERATOR_EMAIL = "admin@yaji.demo"


@dataclass(frozen=True)
class Person:
    email: str
    display_name: str
    real_name: str
    roles: tuple[str, ...]
    birth: date
    region: str  # the six-digit administrative code of the ID number: where they are from
    story: str = ""
    language: str = "zh-hans"
    staff: bool = False
    superuser: bool = False
    scope: str = ""
    phone: str | None = field(default=None, compare=False)


PLATFORM_TEAM: tuple[Person, ...] = (
    Person(
        OPERATOR_EMAIL,
        "雅集运营 · Yaji Ops",
        "许文雅",
        (Role.OPERATOR,),
        date(1988, 4, 12),
        "110105",
        "平台运营负责人 / Head of platform operations",
        staff=True,
        superuser=True,
    ),
    Person(
        "reviewer@yaji.demo",
        "审核 · 周明心",
        "周明心",
        (Role.REVIEWER,),
        date(1992, 9, 3),
        "310104",
        "商品与内容审核 / Listing and content reviewer",
        staff=True,
    ),
    Person(
        "finance@yaji.demo",
        "财务 · 陈守正",
        "陈守正",
        (Role.FINANCE,),
        date(1985, 1, 20),
        "440305",
        "结算与对账 / Settlement and reconciliation",
        staff=True,
    ),
)

CREATORS: tuple[Person, ...] = (
    Person(
        "lin.wanqing@yaji.demo",
        "林婉清 Lin Wanqing",
        "林婉清",
        (Role.CREATOR,),
        date(1979, 6, 18),
        "320508",
        "苏绣第四代传人，以双面绣再现宋画花鸟。/ Fourth-generation Suzhou embroiderer "
        "reviving Song-dynasty bird-and-flower paintings in double-sided silk.",
    ),
    Person(
        "gu.shanhe@yaji.demo",
        "顾山河 Gu Shanhe",
        "顾山河",
        (Role.CREATOR,),
        date(1968, 11, 2),
        "110101",
        "景泰蓝掐丝珐琅匠人，三十年只做一件事。/ A cloisonné enamel master: thirty years, "
        "one craft.",
    ),
    Person(
        "shen.mo@yaji.demo",
        "沈墨 Shen Mo",
        "沈墨",
        (Role.CREATOR,),
        date(1994, 3, 27),
        "330106",
        "独立设计师，把宋代美学做进日常器物。/ Independent designer bringing Song aesthetics "
        "into everyday objects.",
        language="en",
    ),
    Person(
        "a.duo@yaji.demo",
        "阿朵 A Duo",
        "杨阿朵",
        (Role.CREATOR,),
        date(1990, 8, 8),
        "522601",
        "苗族银饰锻制技艺传承人。/ Keeper of the Miao silver-forging tradition of Guizhou.",
    ),
    Person(
        "zhou.qingyin@yaji.demo",
        "周清音 Zhou Qingyin",
        "周清音",
        (Role.CREATOR,),
        date(1997, 12, 1),
        "320583",
        "昆曲闺门旦，在雅集发布唱段与戏服设计。/ Kunqu opera singer publishing arias and "
        "costume designs.",
    ),
)

# Merchant staff roles are scoped to a shop ("shop:<id>"); shops arrive with the catalog, which
# grants these two their merchant_staff role when it opens their shops. Until then they shop.
MERCHANTS: tuple[Person, ...] = (
    Person(
        "shop@jiangnan-museum.yaji.demo",
        "江南织造博物馆文创 Jiangnan Weaving Museum",
        "吴知秋",
        (Role.BUYER,),
        date(1986, 5, 5),
        "320102",
        "馆藏云锦纹样授权文创。/ Licensed creations from the museum's brocade collection.",
    ),
    Person(
        "studio@yunwen.yaji.demo",
        "云纹工作室 Yunwen Studio",
        "韩青",
        (Role.BUYER,),
        date(1993, 2, 14),
        "440106",
        "国潮设计品牌，祥云与海水纹的当代演绎。/ A guochao brand reinterpreting auspicious "
        "clouds and sea waves.",
    ),
)

SUPPLIERS: tuple[Person, ...] = (
    Person(
        "factory@ciyuan.yaji.demo",
        "瓷源工坊 Ciyuan Kiln Works",
        "程立窑",
        (Role.SUPPLIER,),
        date(1975, 7, 30),
        "360203",
        "景德镇柔性制瓷工厂，承接小批量定制。/ A Jingdezhen kiln making small-batch, "
        "made-to-order porcelain.",
    ),
)

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
_GIVEN = "子涵欣怡梓萱诗琪雨桐思远浩然宇轩若溪清和知夏南星书瑶景行明月云舒一诺安然"
_CITIES = ("310101", "110108", "440304", "330102", "510104", "420106", "320106", "610113")


def _buyers(rng: random.Random, count: int, minors: int) -> list[Person]:
    people = []
    this_year = date.today().year
    for i in range(count):
        surname = rng.choice(_SURNAMES)
        given = "".join(rng.sample(_GIVEN, 2))
        minor = i < minors
        # Minors are 13–16 today; adults 19–60, so the minor flag never flips near a birthday.
        age = rng.randint(13, 16) if minor else rng.randint(19, 60)
        birth = date(this_year - age, rng.randint(1, 12), rng.randint(1, 28))
        people.append(
            Person(
                email=f"buyer{i + 1:02d}@yaji.demo",
                display_name=f"{surname}{given}",
                real_name=f"{surname}{given}",
                roles=(Role.BUYER,),
                birth=birth,
                region=rng.choice(_CITIES),
                language="en" if i % 5 == 4 else "zh-hans",
                phone=f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}",
            )
        )
    return people


def demo_people(*, buyers: int = 24, minors: int = 3) -> list[Person]:
    rng = random.Random(SEED)
    return [*PLATFORM_TEAM, *CREATORS, *MERCHANTS, *SUPPLIERS, *_buyers(rng, buyers, minors)]


@transaction.atomic
def _person_build(person: Person, *, operator: User | None, seq: int) -> User:
    user = User.objects.create_user(
        person.email,
        DEMO_PASSWORD,
        phone=person.phone,
        display_name=person.display_name,
        language=person.language,
        is_staff=person.staff,
        is_superuser=person.superuser,
    )
    granter = operator or user  # the first operator bootstraps the platform team
    for role in person.roles:
        accounts.role_grant(actor=granter, user=user, role=role, scope=person.scope)
    accounts.kyc_submit(
        user=user,
        real_name=person.real_name,
        id_number=id_number_make(region=person.region, birth=person.birth, seq=f"{seq % 1000:03d}"),
    )
    return user


def _people_chapter(people: list[Person]) -> Iterator[str]:
    operator = user_by_identifier(identifier=OPERATOR_EMAIL)
    for seq, person in enumerate(people, start=101):
        if user_by_identifier(identifier=person.email) is None:
            user = _person_build(person, operator=operator, seq=seq)
            if operator is None and person.superuser:
                operator = user
        yield person.display_name


Chapter = Callable[[], Iterator[str]]


def _search_chapter() -> Iterator[str]:
    """Index every listed product (the demo runs no outbox worker); one step per product."""
    previous = 0
    for done in search_index_rebuild():
        for _ in range(done - previous):
            yield "indexed"
        previous = done


def chapters(*, buyers: int = 24, minors: int = 3) -> list[tuple[str, int, Chapter]]:
    """(title, number of steps, steps) for each part of the world, in build order."""
    people = demo_people(buyers=buyers, minors=minors)
    return [
        ("people 人物", len(people), lambda: _people_chapter(people)),
        ("shops 店铺", len(DEMO_SHOPS), shops_chapter),
        ("makers 更多店铺", len(MAKERS), makers_chapter),
        ("products 商品", len(DEMO_PRODUCTS), products_chapter),
        ("catalogue 商品目录", len(demo_catalogue()), catalogue_chapter),
        ("community 社区", COMMUNITY_STEPS, community_chapter),
        ("orders 订单", len(DEMO_ORDERS), orders_chapter),
        ("copyright 版权存证", COPYRIGHT_STEPS, copyright_chapter),
        ("search 搜索索引", len(DEMO_PRODUCTS) + len(demo_catalogue()), _search_chapter),
    ]
