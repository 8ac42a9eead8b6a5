"""The demo world's shops: the creators and merchants apply through the catalog services and
the demo reviewer approves them, so every shop went through onboarding like a real one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from yaji.accounts import services as accounts
from yaji.accounts.kyc import id_number_make
from yaji.accounts.models import User
from yaji.accounts.selectors import user_by_identifier
from yaji.catalog import selectors as catalog_selectors
from yaji.catalog import services as catalog

REVIEWER_EMAIL = "reviewer@yaji.demo"
DEMO_OWNER_PASSWORD = "yaji-demo-2026"  # noqa: S105  # the demo password, as in world.py


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


# --- the wider maker community: 35 more shops, each run by its own verified owner -----------------

# (slug, shop type, name zh, name en, region, specialities (item keys of the demo catalogue),
#  what they do zh, what they do en)
MAKERS: tuple[tuple[str, str, str, str, str, tuple[str, ...], str, str], ...] = (
    (
        "yixing-zisha",
        "heritage_workshop",
        "宜兴紫砂小筑",
        "Yixing Zisha House",
        "江苏 · 宜兴",
        ("teapot", "teacup", "teaset"),
        "三代人守着一座龙窑，只用本山紫砂泥。",
        "Three generations at one dragon kiln, using only local zisha clay.",
    ),
    (
        "jingdezhen-qinghua",
        "studio",
        "景德镇青花工作室",
        "Jingdezhen Blue-and-White Studio",
        "江西 · 景德镇",
        ("bowl", "plate", "vase", "teacup"),
        "手绘青花，一笔一画都在坯上完成。",
        "Every stroke of cobalt is painted by hand on the raw body.",
    ),
    (
        "longquan-celadon",
        "studio",
        "龙泉青瓷坊",
        "Longquan Celadon Works",
        "浙江 · 龙泉",
        ("bowl", "vase", "teacup", "jianzhan"),
        "梅子青与粉青，是龙泉窑千年的颜色。",
        "Plum green and powder blue: the thousand-year colours of Longquan.",
    ),
    (
        "hangzhou-silk",
        "brand",
        "杭州丝路",
        "Hangzhou Silk Road",
        "浙江 · 杭州",
        ("scarf", "shawl", "qipao", "cushion"),
        "十六姆米桑蚕丝，织出西湖的颜色。",
        "Sixteen-momme mulberry silk in the colours of West Lake.",
    ),
    (
        "suzhou-kesi",
        "heritage_workshop",
        "苏州缂丝研习社",
        "Suzhou Kesi Atelier",
        "江苏 · 苏州",
        ("fan", "embroidery", "bookmark", "scarf"),
        "通经断纬，一寸缂丝一寸金。",
        "Warp unbroken, weft cut: an inch of kesi is an inch of gold.",
    ),
    (
        "miao-batik",
        "heritage_workshop",
        "丹寨蜡染坊",
        "Danzhai Batik Workshop",
        "贵州 · 丹寨",
        ("scarf", "tote", "cushion", "tshirt"),
        "蓝靛与蜂蜡，画出苗家古歌里的图案。",
        "Indigo and beeswax draw the patterns of old Miao songs.",
    ),
    (
        "dali-tie-dye",
        "heritage_workshop",
        "大理扎染院",
        "Dali Tie-Dye Courtyard",
        "云南 · 大理",
        ("scarf", "tote", "tshirt", "teamat"),
        "板蓝根染出的蓝，每一块都不一样。",
        "Every piece dyed with woad-root blue comes out different.",
    ),
    (
        "yuhang-paper",
        "creator",
        "余杭纸语",
        "Yuhang Paper Words",
        "浙江 · 杭州",
        ("notebook", "postcard", "calendar", "bookmark"),
        "手工竹纸做成的本子与卡片。",
        "Notebooks and cards of hand-made bamboo paper.",
    ),
    (
        "huizhou-ink",
        "heritage_workshop",
        "徽州墨砚斋",
        "Huizhou Ink and Inkstone",
        "安徽 · 歙县",
        ("inkstone", "brush", "paperweight", "seal"),
        "歙砚徽墨，文房里最老的两位朋友。",
        "She inkstones and Hui ink, the oldest friends of the scholar's desk.",
    ),
    (
        "xian-tang-studio",
        "studio",
        "长安唐风",
        "Chang'an Tang Style",
        "陕西 · 西安",
        ("hanfu", "hairpin", "fan", "magnet"),
        "从唐代壁画里走出来的颜色与纹样。",
        "Colours and patterns stepping out of Tang murals.",
    ),
    (
        "dunhuang-colours",
        "museum",
        "敦煌色彩文创",
        "Dunhuang Colours",
        "甘肃 · 敦煌",
        ("scarf", "postcard", "magnet", "print", "notebook"),
        "把莫高窟壁画的矿物色带回日常。",
        "The mineral pigments of the Mogao murals, brought into daily life.",
    ),
    (
        "palace-creations",
        "museum",
        "故宫文创精选",
        "Palace Museum Creations",
        "北京 · 东城",
        ("magnet", "blocks", "bookmark", "calendar", "badge"),
        "宫里的瑞兽与纹样，做成小小的礼物。",
        "The palace's guardian beasts and patterns, made into small gifts.",
    ),
    (
        "suzhou-museum-shop",
        "museum",
        "苏州博物馆文创",
        "Suzhou Museum Shop",
        "江苏 · 苏州",
        ("fan", "bookmark", "teacup", "postcard"),
        "贝聿铭的白墙灰瓦，和馆藏的吴门书画。",
        "I. M. Pei's white walls and the Wu school paintings of the collection.",
    ),
    (
        "sanxingdui-lab",
        "museum",
        "三星堆文创实验室",
        "Sanxingdui Creative Lab",
        "四川 · 广汉",
        ("blocks", "magnet", "badge", "tshirt"),
        "青铜面具也可以很可爱。",
        "Bronze masks can be cute, too.",
    ),
    (
        "guochao-lab",
        "brand",
        "国潮研究所",
        "Guochao Lab",
        "上海 · 徐汇",
        ("sweatshirt", "tshirt", "tote", "phonecase"),
        "把传统纹样印上街头。",
        "Traditional patterns, printed for the street.",
    ),
    (
        "panda-goods",
        "brand",
        "熊猫杂货铺",
        "Panda Goods",
        "四川 · 成都",
        ("tote", "phonecase", "magnet", "mug"),
        "成都的熊猫，和它们的竹林。",
        "Chengdu's pandas and their bamboo groves.",
    ),
    (
        "lantern-festival",
        "studio",
        "上元灯彩",
        "Shangyuan Lanterns",
        "江苏 · 南京",
        ("lantern", "couplets", "redenvelope", "giftbox"),
        "秦淮灯彩，点亮每一个节日。",
        "Qinhuai lanterns to light every festival.",
    ),
    (
        "spring-couplets",
        "creator",
        "墨香春联",
        "Ink Spring Couplets",
        "河北 · 武强",
        ("couplets", "print", "redenvelope"),
        "手写春联与木版年画。",
        "Hand-written couplets and woodblock new-year prints.",
    ),
    (
        "foshan-papercut",
        "heritage_workshop",
        "佛山剪纸社",
        "Foshan Paper-cut Society",
        "广东 · 佛山",
        ("papercut", "postcard", "lantern"),
        "铜衬纸与金箔，佛山剪纸的华丽。",
        "Copper-lined paper and gold leaf: the splendour of Foshan paper-cuts.",
    ),
    (
        "huaxian-shadow",
        "heritage_workshop",
        "华县皮影班",
        "Huaxian Shadow Puppets",
        "陕西 · 渭南",
        ("puppet", "bookmark", "magnet"),
        "牛皮雕镂，一口道尽千古事。",
        "Carved oxhide: one voice tells a thousand years.",
    ),
    (
        "weifang-kites",
        "heritage_workshop",
        "潍坊风筝坊",
        "Weifang Kites",
        "山东 · 潍坊",
        ("kite",),
        "扎、糊、绘、放，风筝之都的四艺。",
        "Frame, paste, paint and fly: the four arts of the kite capital.",
    ),
    (
        "xiamen-lacquer",
        "heritage_workshop",
        "厦门漆线雕",
        "Xiamen Lacquer Thread",
        "福建 · 厦门",
        ("vase", "plate", "badge", "giftbox"),
        "漆线盘绕，金碧辉煌。",
        "Coiled lacquer threads in gold and green.",
    ),
    (
        "fuzhou-bodiless",
        "heritage_workshop",
        "福州脱胎漆器",
        "Fuzhou Bodiless Lacquer",
        "福建 · 福州",
        ("bowl", "teacup", "vase", "plate"),
        "轻如羽毛的脱胎漆器。",
        "Bodiless lacquer as light as a feather.",
    ),
    (
        "beijing-silver",
        "studio",
        "京城花丝",
        "Capital Filigree",
        "北京 · 西城",
        ("bangle", "earrings", "necklace", "brooch"),
        "花丝镶嵌，宫廷首饰的细工。",
        "Filigree and inlay, the fine work of court jewellery.",
    ),
    (
        "yunnan-silver",
        "studio",
        "鹤庆银器",
        "Heqing Silverware",
        "云南 · 鹤庆",
        ("bangle", "teacup", "earrings", "necklace"),
        "一锤一锤敲出来的银器。",
        "Silver raised blow by blow.",
    ),
    (
        "jade-hairpins",
        "creator",
        "簪花小筑",
        "Hairpin Cottage",
        "江苏 · 扬州",
        ("hairpin", "brooch", "earrings"),
        "绒花与发簪，扬州的手艺。",
        "Velvet flowers and hairpins, a Yangzhou craft.",
    ),
    (
        "bamboo-weaving",
        "heritage_workshop",
        "青神竹编",
        "Qingshen Bamboo Weaving",
        "四川 · 青神",
        ("teamat", "lamp", "giftbox", "fan"),
        "竹丝细如发，编成灯与盒。",
        "Bamboo strands fine as hair, woven into lamps and boxes.",
    ),
    (
        "incense-hall",
        "studio",
        "一炷香堂",
        "Single Stick Incense",
        "福建 · 泉州",
        ("burner", "teaset", "teamat"),
        "沉香与檀香，宋人的四般闲事之一。",
        "Agarwood and sandalwood, one of the Song's four leisures.",
    ),
    (
        "tea-house",
        "brand",
        "山中茶事",
        "Mountain Tea Matters",
        "福建 · 武夷山",
        ("teaset", "teacup", "teapot", "jianzhan"),
        "好茶要配好器。",
        "Good tea deserves good vessels.",
    ),
    (
        "jianyang-jianzhan",
        "heritage_workshop",
        "建阳建盏",
        "Jianyang Jian Ware",
        "福建 · 南平",
        ("jianzhan", "teacup"),
        "兔毫与油滴，窑变天成。",
        "Hare's fur and oil spots, born in the kiln.",
    ),
    (
        "print-room",
        "creator",
        "木刻版画室",
        "Woodcut Print Room",
        "浙江 · 杭州",
        ("print", "postcard", "calendar", "book"),
        "一块梨木版，印出一年的节气。",
        "One pear-wood block prints a year of solar terms.",
    ),
    (
        "art-books",
        "brand",
        "雅集画册社",
        "Yaji Art Books",
        "上海 · 静安",
        ("book", "calendar", "notebook", "print"),
        "把名画装订成书。",
        "Great paintings bound into books.",
    ),
    (
        "digital-ink",
        "creator",
        "数字水墨",
        "Digital Ink",
        "广东 · 深圳",
        ("wallpaper", "print"),
        "用数字笔触延续水墨。",
        "Ink painting carried on in digital brushwork.",
    ),
    (
        "screen-workshop",
        "studio",
        "东阳木雕屏风",
        "Dongyang Carved Screens",
        "浙江 · 东阳",
        ("screen", "paperweight", "lamp"),
        "东阳木雕，一刀一凿。",
        "Dongyang woodcarving, cut by cut.",
    ),
    (
        "cushion-home",
        "brand",
        "云栖家居",
        "Yunqi Home",
        "浙江 · 杭州",
        ("cushion", "lamp", "vase", "mug"),
        "把江南的雨天带回家。",
        "Bringing Jiangnan's rainy days home.",
    ),
)


@dataclass(frozen=True)
class Maker:
    shop: DemoShop
    specialities: tuple[str, ...]


def demo_makers() -> list[Maker]:
    """The 35 generated shops with the items each makes; owners are ``owner@<slug>.yaji.demo``."""
    out = []
    for slug, shop_type, name_zh, name_en, region, items, what_zh, what_en in MAKERS:
        story_zh = (
            f"{name_zh}在{region.split(' · ')[-1]}。{what_zh}\n\n每一件都由工坊里的手艺人亲手完成，"
            "从选料到包装，我们希望你收到的不只是一件东西，也是一段手上的时间。"
        )
        story_en = (
            f"{name_en} works in {region}. {what_en}\n\nEvery piece is finished by hand in the "
            "workshop, from choosing the material to packing it: what arrives is an object and "
            "the hours of hand-work inside it."
        )
        out.append(
            Maker(
                DemoShop(
                    f"owner@{slug}.yaji.demo",
                    slug,
                    shop_type,
                    name_zh,
                    name_en,
                    region,
                    story_zh,
                    story_en,
                ),
                items,
            )
        )
    return out


_OWNER_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁"
_OWNER_GIVEN = ("守艺", "青禾", "知远", "慕白", "清风", "砚秋", "素心", "南乔", "景然", "若水")


def _maker_owner(index: int, email: str) -> User:
    """The verified owner account of a generated shop (created once)."""
    owner = user_by_identifier(identifier=email)
    if owner is not None:
        return owner
    name = _OWNER_SURNAMES[index % len(_OWNER_SURNAMES)] + _OWNER_GIVEN[index % len(_OWNER_GIVEN)]
    with transaction.atomic():
        owner = User.objects.create_user(email, DEMO_OWNER_PASSWORD, display_name=name)
    accounts.kyc_submit(
        user=owner,
        real_name=name,
        id_number=id_number_make(
            region="330106",
            birth=date(1970 + index % 30, 1 + index % 12, 1 + index % 28),
            seq=f"{500 + index:03d}",
        ),
    )
    return owner


def _shop_open(spec: DemoShop, owner: User, reviewer: User) -> None:
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


def makers_chapter() -> Iterator[str]:
    reviewer = user_by_identifier(identifier=REVIEWER_EMAIL)
    for index, maker in enumerate(demo_makers()):
        if reviewer is not None:
            owner = _maker_owner(index, maker.shop.owner_email)
            _shop_open(maker.shop, owner, reviewer)
        yield maker.shop.name_zh
