"""The demo world's shops: the creators and merchants apply through the catalog services and
the demo reviewer approves them, so every shop went through onboarding like a real one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile

from yaji.accounts.selectors import user_by_identifier
from yaji.catalog import selectors as catalog_selectors
from yaji.catalog import services as catalog

REVIEWER_EMAIL = "reviewer@yaji.demo"


@dataclass(frozen=True)
class DemoShop:
    owner_email: str
    slug: str
    shop_type: str
    name_zh: str
    name_en: str
    region: str
    story_zh: str
    story_en: str
    bio: str = ""
    bio_en: str = ""


DEMO_SHOPS: tuple[DemoShop, ...] = (
    DemoShop(
        "lin.wanqing@yaji.demo",
        "wanqing-embroidery",
        "heritage_workshop",
        "婉清苏绣坊",
        "Wanqing Suzhou Embroidery",
        "江苏 · 苏州",
        "镇湖的绣娘家里，针线是传家的东西。婉清从外婆手里接过第一根针，至今已是苏绣第四代。\n\n"
        "工坊专做双面绣：一幅宋人花鸟，正反两面同样精细，一根丝线劈成六十四分之一。"
        "每件作品从描稿、配色到落针，都在苏州完成。",
        "In Zhenhu, the embroidery village outside Suzhou, needles are heirlooms. Wanqing took "
        "her first from her grandmother and is the fourth generation at the frame.\n\n"
        "The workshop specialises in double-sided embroidery: Song-dynasty birds and flowers, "
        "equally fine on both faces, stitched with silk split into sixty-four strands.",
        "苏绣第四代传人，以双面绣再现宋画花鸟。",
        "Fourth-generation Suzhou embroiderer reviving Song bird-and-flower paintings.",
    ),
    DemoShop(
        "gu.shanhe@yaji.demo",
        "shanhe-cloisonne",
        "heritage_workshop",
        "山河景泰蓝",
        "Shanhe Cloisonné",
        "北京 · 东城",
        "掐丝、点蓝、烧蓝、磨光、镀金——景泰蓝要过一百零八道工序。\n\n"
        "顾师傅三十年只做这一件事。工坊的每只花瓶、每枚书签，都由他亲手掐出第一根铜丝。",
        "Wire-shaping, enamel filling, firing, polishing, gilding: cloisonné takes a hundred "
        "and eight steps.\n\nMaster Gu has done this one thing for thirty years; he bends the "
        "first copper wire of every vase and bookmark himself.",
        "景泰蓝掐丝珐琅匠人，三十年只做一件事。",
        "A cloisonné enamel master: thirty years, one craft.",
    ),
    DemoShop(
        "shen.mo@yaji.demo",
        "shenmo-design",
        "creator",
        "沈墨设计",
        "Shen Mo Design",
        "浙江 · 杭州",
        "宋人的审美是克制的：一只素瓷盏，一炉清香，一帘雨。\n\n"
        "沈墨把这份克制做进日常——茶器、文具、香具，少一分装饰，多一分留白。",
        "Song taste was restraint: a plain porcelain cup, a thread of incense, a curtain of "
        "rain.\n\nShen Mo brings that restraint into everyday things — tea ware, stationery, "
        "incense tools — with less ornament and more empty space.",
        "独立设计师，把宋代美学做进日常器物。",
        "Independent designer bringing Song aesthetics into everyday objects.",
    ),
    DemoShop(
        "a.duo@yaji.demo",
        "aduo-miao-silver",
        "heritage_workshop",
        "阿朵苗银",
        "A Duo Miao Silver",
        "贵州 · 黔东南",
        "苗家姑娘出嫁，一身银饰是母亲一锤一锤打出来的。\n\n"
        "阿朵在雷山的作坊里延续这门锻制技艺：熔银、拉丝、錾花、编结，纹样里有蝴蝶妈妈，也有枫树与鹡宇鸟。",
        "When a Miao girl marries, her silver is hammered out by her mother, blow by blow.\n\n"
        "In her Leishan workshop A Duo keeps the forging tradition alive: melting, drawing "
        "wire, chasing and knotting patterns of the Butterfly Mother, the maple tree "
        "and the Jiyu bird.",
        "苗族银饰锻制技艺传承人。",
        "Keeper of the Miao silver-forging tradition of Guizhou.",
    ),
    DemoShop(
        "zhou.qingyin@yaji.demo",
        "qingyin-kunqu",
        "creator",
        "清音昆曲",
        "Qingyin Kunqu",
        "江苏 · 昆山",
        "水磨调，一字三转。清音唱闺门旦，也画戏服。\n\n"
        "这里有她录下的唱段，也有据《牡丹亭》戏服纹样设计的丝巾与团扇。",
        "Kunqu's 'water-mill' melody turns each syllable three times. Qingyin sings the "
        "young-lady roles and designs costumes.\n\nHere are her recorded arias, and silk "
        "scarves and round fans drawn from the costumes of The Peony Pavilion.",
        "昆曲闺门旦，在雅集发布唱段与戏服设计。",
        "Kunqu opera singer publishing arias and costume designs.",
    ),
    DemoShop(
        "shop@jiangnan-museum.yaji.demo",
        "jiangnan-weaving-museum",
        "museum",
        "江南织造博物馆文创",
        "Jiangnan Weaving Museum Shop",
        "江苏 · 南京",
        "博物馆藏有明清云锦三百余件。文创团队从馆藏纹样出发，经授权开发书签、丝巾与手账。\n\n"
        "每件文创都注明所依据的藏品与年代，收益的一部分用于织机修复。",
        "The museum holds over three hundred pieces of Ming and Qing brocade. Its design team "
        "licenses their patterns into bookmarks, scarves and notebooks.\n\nEvery piece names "
        "the object and era it comes from; part of each sale restores the old looms.",
    ),
    DemoShop(
        "studio@yunwen.yaji.demo",
        "yunwen",
        "brand",
        "云纹",
        "Yunwen",
        "广东 · 广州",
        "祥云与海水江崖，是中国纹样里最常见的吉祥语。\n\n"
        "云纹把它们画成当代的图形语言，做成卫衣、帆布包和日用杂货——国潮，也可以很安静。",
        "Auspicious clouds and sea waves are the commonest blessings in Chinese ornament.\n\n"
        "Yunwen redraws them as a contemporary graphic language on sweatshirts, totes and "
        "everyday goods — guochao can be quiet, too.",
    ),
)


def _demo_document(shop: DemoShop) -> SimpleUploadedFile:
    # A one-page placeholder PDF: the demo has no real licences to show.
    body = f"%PDF-1.4\n% Yaji demo qualification document for {shop.slug}\n%%EOF\n".encode()
    return SimpleUploadedFile(f"{shop.slug}-licence.pdf", body, content_type="application/pdf")


def shops_chapter() -> Iterator[str]:
    reviewer = user_by_identifier(identifier=REVIEWER_EMAIL)
    for spec in DEMO_SHOPS:
        owner = user_by_identifier(identifier=spec.owner_email)
        if owner is None or reviewer is None:
            yield spec.name_zh
            continue
        latest = catalog_selectors.application_latest(user=owner)
        if latest is None or latest.status == "rejected":
            latest = catalog.shop_application_submit(
                applicant=owner,
                name_zh=spec.name_zh,
                name_en=spec.name_en,
                slug=spec.slug,
                shop_type=spec.shop_type,
                story_zh=spec.story_zh,
                story_en=spec.story_en,
                region=spec.region,
                documents=[_demo_document(spec)],
            )
        if latest.status == "submitted":
            catalog.shop_application_approve(reviewer=reviewer, application_id=latest.pk)
        if spec.bio and catalog_selectors.creator_profile_get(user=owner) is None:
            catalog.creator_profile_update(user=owner, bio=spec.bio, bio_en=spec.bio_en)
        yield spec.name_zh
