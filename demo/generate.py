#!/usr/bin/env python3
"""Generate Jincheng's demo collections: SAMPLE data, fictional, for demonstration only.

    python3 demo/generate.py [--out DIR]

rewrites `demo/institutions.json`, `demo/collections/{collection}.jsonl` and the sample files
of the other formats under `demo/files/` (CNMARC in GB18030, MARCXML, LIDO, a GBK CSV, the
JSON API's works, an RSS feed; see "file sources" below) (or writes them under DIR instead; the crate's tests use that to check the committed files are up to date). The output is
deterministic (fixed seeds, no clock, no network, Python 3 standard library only), so running
it twice gives byte-identical files and `git diff` shows only intended changes.

Every collection file holds one JSON object per line, ordered by (datestamp, identifier),
which is the order the OAI-PMH provider in `demo/src` serves them in:

    {"identifier": "oai:lzlib.example.invalid:00001", "datestamp": "2024-03-05T09:12:44Z",
     "deleted": false, "sets": ["clc:I"], "dc": {"title": ["..."], "creator": ["..."], ...}}

Deleted records carry `"deleted": true` and no `dc` object.

Titles, people, inventory numbers and descriptions are invented (some use the names of
well-known historical poets, painters and works so that searches feel real); every record
says so in dc:rights. ISBNs have valid check digits; they are not meant to identify the books
named (the few fixed ones in `special_library_records` may coincide with real editions).
"""

import argparse
import datetime as dt
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
RIGHTS = "示例数据（虚构，仅供演示）Sample data for demonstration"
SEED = 20251127

# Datestamps of the samples lie in this window; it ends before the demo was first run, so a
# second incremental harvest (from the previous responseDate) finds nothing new.
STAMP_START = dt.datetime(2024, 1, 8, 8, 0, 0)
STAMP_END = dt.datetime(2026, 10, 30, 18, 0, 0)

# Dublin Core elements in the order oai_dc records conventionally list them.
DC_ORDER = ["title", "creator", "subject", "description", "publisher", "contributor", "date",
            "type", "format", "identifier", "source", "language", "relation", "coverage",
            "rights"]

# --- institutions --------------------------------------------------------------------------

INSTITUTIONS = [
    {
        "id": "lzlib", "name": "兰州市图书馆", "type": "library", "district": "城关区",
        "level": "city", "repository_name": "兰州市图书馆 书目数据（示例）",
        "sets": [
            ["clc", "中国图书馆分类法 Chinese Library Classification"],
            ["clc:G", "G 文化、科学、教育、体育"],
            ["clc:I", "I 文学"],
            ["clc:J", "J 艺术"],
            ["clc:K", "K 历史、地理"],
            ["clc:TS", "TS 轻工业、手工业"],
            ["ancient", "古籍"],
            ["local", "地方文献"],
            ["foreign", "外文图书 Foreign-language books"],
        ],
    },
    {
        "id": "yzlib", "name": "榆中县图书馆", "type": "library", "district": "榆中县",
        "level": "county", "repository_name": "榆中县图书馆 馆藏目录（示例）",
        "sets": [
            ["clc", "中国图书馆分类法"],
            ["clc:I", "I 文学"],
            ["clc:K", "K 历史、地理"],
            ["clc:S", "S 农业科学"],
            ["clc:Z", "Z 综合性图书"],
            ["local", "地方文献"],
        ],
    },
    {
        "id": "lzmuseum", "name": "兰州市博物馆", "type": "museum", "district": "城关区",
        "level": "city", "repository_name": "兰州市博物馆 藏品目录（示例）",
        "sets": [
            ["majiayao", "马家窑彩陶"],
            ["bronze", "青铜器"],
            ["silkroad", "丝路文物"],
            ["yellowriver", "黄河文化"],
        ],
    },
    {
        "id": "lzart", "name": "兰州美术馆", "type": "art_gallery", "district": "城关区",
        "level": "city", "repository_name": "兰州美术馆 馆藏作品（示例）",
        "sets": [
            ["painting", "绘画"],
            ["calligraphy", "书法"],
            ["photography", "摄影"],
        ],
    },
    {
        "id": "lzculture", "name": "兰州市文化馆", "type": "cultural_centre", "district": "城关区",
        "level": "city", "repository_name": "兰州市文化馆 活动资讯（示例）",
        "sets": [
            ["lecture", "讲座"],
            ["exhibition", "展览"],
            ["performance", "演出"],
            ["ich", "非物质文化遗产"],
            ["ich:taipinggu", "兰州太平鼓"],
            ["ich:guzi", "兰州鼓子"],
            ["ich:hulu", "兰州刻葫芦"],
            ["ich:huaer", "花儿"],
            ["ich:jianzhi", "剪纸"],
        ],
    },
    {
        "id": "xgculture", "name": "西固区文化馆", "type": "cultural_centre", "district": "西固区",
        "level": "county", "repository_name": "西固区文化馆 群众文化活动（示例）",
        "sets": [
            ["lecture", "讲座"],
            ["exhibition", "展览"],
            ["performance", "演出"],
            ["ich", "非物质文化遗产"],
            ["ich:taipinggu", "兰州太平鼓"],
            ["ich:jianzhi", "剪纸"],
        ],
    },
    {
        "id": "liancheng", "name": "永登县连城镇综合文化站", "type": "cultural_centre",
        "district": "永登县", "level": "township",
        "repository_name": "连城镇综合文化站 活动与影像（示例）",
        "sets": [
            ["event", "活动"],
            ["photo", "影像"],
        ],
    },
    # The province level: Gansu's provincial library and museum stand in Lanzhou and serve
    # its citizens too (their real collections are far larger; these are sample entries).
    {
        "id": "gslib", "name": "甘肃省图书馆", "type": "library", "district": "城关区",
        "level": "province", "repository_name": "甘肃省图书馆 西北地方文献（示例）",
        "sets": [
            ["clc", "中国图书馆分类法"],
            ["clc:I", "I 文学"],
            ["clc:K", "K 历史、地理"],
            ["clc:J", "J 艺术"],
            ["local", "地方文献"],
        ],
    },
    {
        "id": "gsmuseum", "name": "甘肃省博物馆", "type": "museum", "district": "七里河区",
        "level": "province", "repository_name": "甘肃省博物馆 藏品目录（示例）",
        "sets": [
            ["painted-pottery", "彩陶"],
            ["slips", "简牍"],
            ["buddhist", "佛教艺术"],
        ],
    },
]

# --- shared vocabulary ----------------------------------------------------------------------

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾田董潘袁蔡蒋"
                "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺"
                "顾毛郝龚邵万钱严武戴莫孔汤") + ["欧阳", "司马", "慕容"]
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华玉兰萍红娟建国文辉力宁志海云峰"
             "鹏飞斌宇浩然晓燕雪梅春秋冬晨曦思远陇河泉")

# (publisher, place, ISBN prefix without check digit and title part)
PUBLISHERS = [
    ("甘肃人民出版社", "兰州", "978-7-226"),
    ("甘肃文化出版社", "兰州", "978-7-5490"),
    ("读者出版社", "兰州", "978-7-5527"),
    ("敦煌文艺出版社", "兰州", "978-7-5468"),
    ("兰州大学出版社", "兰州", "978-7-311"),
    ("甘肃教育出版社", "兰州", "978-7-5423"),
    ("甘肃科学技术出版社", "兰州", "978-7-5424"),
    ("中华书局", "北京", "978-7-101"),
    ("人民文学出版社", "北京", "978-7-02"),
    ("商务印书馆", "北京", "978-7-100"),
    ("上海古籍出版社", "上海", "978-7-5325"),
    ("文物出版社", "北京", "978-7-5010"),
    ("科学出版社", "北京", "978-7-03"),
    ("生活·读书·新知三联书店", "北京", "978-7-108"),
]
LOCAL_PUBLISHERS = PUBLISHERS[:7]
TRAD_PUBLISHERS = [
    ("中華書局（香港）有限公司", "香港", "978-962-231"),
    ("臺灣商務印書館", "臺北", "978-957-05"),
    ("聯經出版事業公司", "臺北", "978-957-08"),
]
ENGLISH_PUBLISHERS = [
    ("Cambridge University Press", "Cambridge", "978-1-108"),
    ("Oxford University Press", "Oxford", "978-0-19"),
    ("Routledge", "London", "978-1-138"),
    ("Brill", "Leiden", "978-90-04"),
    ("Foreign Languages Press", "Beijing", "978-7-119"),
]

DISTRICTS = ["城关区", "七里河区", "西固区", "安宁区", "红古区", "永登县", "皋兰县", "榆中县", "兰州新区"]

# The fixed ISBNs of `special_library_records`, so no generated book reuses one.
SEEN_ISBNS = {"9787101139662", "9787101118605", "9789622313286", "9781108423281", "9781138360594"}


def isbn13(rng, prefix):
    """A fresh ISBN-13 with a valid check digit, as (digits, hyphenated)."""
    while True:
        head = prefix.replace("-", "")
        body_len = 12 - len(head)
        body = "".join(str(rng.randrange(10)) for _ in range(body_len))
        d12 = head + body
        total = sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(d12))
        check = str((10 - total % 10) % 10)
        if d12 + check not in SEEN_ISBNS:
            SEEN_ISBNS.add(d12 + check)
            return d12 + check, f"{prefix}-{body}-{check}"


def person(rng):
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


class Stamps:
    """Datestamps: mostly random seconds in the window, some shared by an import batch."""

    def __init__(self, rng, batches):
        self.rng = rng
        self.batches = [self.random() for _ in range(batches)]

    def random(self, start=STAMP_START, end=STAMP_END):
        span = int((end - start).total_seconds())
        return start + dt.timedelta(seconds=self.rng.randrange(span))

    def next(self):
        if self.rng.random() < 0.3:
            return self.rng.choice(self.batches)
        return self.random()


def fmt_stamp(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def dc(**fields):
    """A Dublin Core dict in canonical element order, lists only, empty elements dropped."""
    out = {}
    for key in DC_ORDER:
        value = fields.pop(key, None)
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        values = [v for v in values if v]
        if values:
            out[key] = values
    assert not fields, f"unknown DC elements {sorted(fields)}"
    out.setdefault("rights", [RIGHTS])
    return out


# --- libraries ------------------------------------------------------------------------------

# (class number, subject heading, set, title patterns); {p} a place, {n} a person
BOOK_TOPICS = [
    ("I222.742", "唐诗-诗集", "clc:I",
     ["{poet}诗选", "{poet}诗集校注", "{poet}诗歌鉴赏", "唐代边塞诗选注", "凉州词笺注", "盛唐诗人与河陇"]),
    ("I222.844", "宋词-选集", "clc:I", ["{ci}词选", "{ci}词编年笺注", "宋词中的西北"]),
    ("I247.5", "长篇小说-中国-当代", "clc:I",
     ["黄河远上", "金城往事", "皋兰山下", "白塔山的月亮", "西固的烟囱", "安宁桃花", "铁桥以北",
      "河州来信", "陇上人家", "雪落乌鞘岭", "驼铃声声", "兰州兰州", "五泉山下", "水车转过的夏天",
      "黄河第一桥", "拉面馆的清晨", "百合花开", "兴隆山的雾", "大河之北", "羊皮筏子"]),
    ("I267", "散文集-中国-当代", "clc:I",
     ["{p}散记", "黄河边的书房", "陇上行", "金城旧事", "河西走廊笔记", "兰州的四季", "滨河路漫步"]),
    ("I287.5", "儿童故事-中国-当代", "clc:I",
     ["小羊皮筏过黄河", "水车爷爷讲故事", "马踏飞燕的旅行", "彩陶罐里的秘密", "兰兰和州州"]),
    ("K294.21", "兰州-地方史", "clc:K",
     ["兰州通史", "兰州简史", "兰州古今谈", "金城兰州", "黄河之都：兰州", "丝绸之路与兰州",
      "兰州城市史研究", "兰州地名考", "兰州老街巷", "兰州历代人物", "{p}史话", "{p}文史资料选辑"]),
    ("K872.42", "考古-甘肃", "clc:K",
     ["马家窑文化研究", "甘肃彩陶", "齐家文化论集", "甘肃汉简研究", "河西走廊考古", "{p}考古发现",
      "黄河上游史前文化"]),
    ("K870.6", "敦煌学", "clc:K", ["敦煌学概论", "敦煌石窟艺术", "敦煌遗书研究", "莫高窟史话"]),
    ("K928.942", "旅游指南-兰州", "clc:K", ["兰州旅游指南", "黄河风情线", "兰州城市漫步地图", "{p}游览"]),
    ("J292.1", "汉字-书法", "clc:J", ["书法基础教程", "颜体楷书入门", "隶书技法", "陇上书法家"]),
    ("J212.05", "中国画-技法", "clc:J", ["中国山水画技法", "工笔花鸟画入门", "西北风情画集"]),
    ("J607.242", "民间音乐-兰州", "clc:J", ["兰州鼓子研究", "兰州鼓子曲词选", "兰州太平鼓", "河州花儿", "洮岷花儿"]),
    ("J528.3", "葫芦-雕刻-兰州", "clc:J", ["兰州刻葫芦艺术", "刻葫芦技法图解", "方寸乾坤：兰州刻葫芦"]),
    ("J825.41", "秦腔-研究", "clc:J", ["秦腔艺术概论", "陇剧与秦腔", "兰州戏曲志"]),
    ("TS972.132", "面条-制作-兰州", "clc:TS",
     ["兰州牛肉拉面制作技艺", "一碗面的城市：兰州牛肉面", "陇菜", "兰州小吃"]),
    ("G127.42", "地方文化-兰州", "clc:G",
     ["兰州非物质文化遗产名录", "甘肃文化资源概览", "黄河文化与兰州", "{p}民俗志"]),
    ("G258.2", "公共图书馆-读者服务", "clc:G", ["公共图书馆服务创新", "县级图书馆总分馆制实践"]),
]
POETS = ["李白", "杜甫", "王维", "王昌龄", "岑参", "高适", "白居易", "李商隐", "王之涣"]
CI_POETS = ["苏轼", "辛弃疾", "李清照", "柳永", "陆游"]
LOCAL_PLACES = ["兰州", "城关", "七里河", "西固", "安宁", "红古", "永登", "皋兰", "榆中", "兰州新区",
                "五泉山", "白塔山", "兴隆山", "什川", "青城", "连城"]
SUFFIX = ["", "", "", "（修订本）", "（第2版）", "·上册", "·下册"]
BOOK_DESCRIPTIONS = [
    "本书系统梳理了{t}的历史沿革与发展现状，收录图片{k}幅。",
    "作者多年从事{s}研究，本书是其{y}年以来田野调查与文献整理的总结。",
    "全书分为{c}章，语言平实，适合一般读者与研究者参考。",
    "书末附参考文献、人名索引及大事年表。",
    "本书为“兰州文化丛书”之一，兼顾学术性与可读性。",
    "收入作者近年发表的文章{c}篇，记录{p}的风土人情。",
]


def book_description(rng, title, subject, place):
    parts = [p.format(t=title, s=subject.split("-")[0], k=rng.randint(40, 400),
                      y=rng.randint(1985, 2015), c=rng.randint(5, 24), p=place)
             for p in BOOK_DESCRIPTIONS]
    rng.shuffle(parts)
    return "".join(parts[: rng.randint(1, 3)])


def book(rng, coll, n, topics, lang_code, publishers, local_share):
    cls, heading, set_spec, patterns = rng.choice(topics)
    place = rng.choice(LOCAL_PLACES)
    poet, ci = rng.choice(POETS), rng.choice(CI_POETS)
    pattern = rng.choice(patterns)
    title = pattern.format(p=place, poet=poet, ci=ci) + rng.choice(SUFFIX)
    pub, pub_place, prefix = rng.choice(LOCAL_PUBLISHERS if rng.random() < local_share else publishers)
    year = rng.randint(1988, 2025)
    digits, hyphenated = isbn13(rng, prefix)
    creators = [person(rng)]
    contributors = []
    if rng.random() < 0.2:
        creators = [creators[0] + " 主编"]
    if rng.random() < 0.25:
        contributors.append(person(rng) + rng.choice([" 校注", " 插图", " 编"]))
    if "{poet}" in pattern:
        # A selection of one poet's work names the poet too, as catalogues do.
        creators.insert(0, poet)
    sets = [set_spec]
    local = cls.startswith(("K294", "K928", "G127", "J607", "J528", "TS972")) or place in title
    if local:
        sets.append("local")
    isbn = f"ISBN {digits}" if rng.random() < 0.7 else f"ISBN {hyphenated}"
    identifiers = [isbn, f"http://opac.{coll}.example.invalid/record/{n:05d}"]
    if rng.random() < 0.3:
        identifiers.append(f"{cls}/{rng.randint(1, 999)}")
    date = str(year) if rng.random() < 0.8 else f"{year}-{rng.randint(1, 12):02d}"
    return sets, dc(
        title=title,
        creator=creators,
        subject=[cls, heading] + (["地方文献"] if local else []),
        description=book_description(rng, title, heading, place),
        publisher=pub if rng.random() < 0.5 else f"{pub_place}：{pub}",
        contributor=contributors,
        date=date,
        type=rng.choice(["图书", "图书", "Text"]),
        format=f"{rng.randint(96, 680)}页；{rng.choice([21, 23, 24, 26])}cm",
        identifier=identifiers,
        language=lang_code,
    )


ANCIENT_BOOKS = [
    ("皋兰县志", "（清）吴鼎新 修；黄建中 纂", "清乾隆四十三年", "刻本，线装 12册"),
    ("重修皋兰县志", "（清）张国常 纂修", "清光绪十八年", "刻本，线装 16册"),
    ("兰州府志", "（清）陈士桢 修；涂鸿仪 纂", "清道光十三年", "刻本，线装 6册"),
    ("金城集", "（明）黄谏 撰", "明嘉靖年间", "抄本，线装 2册"),
    ("五泉山志", "（清）佚名 辑", "清同治年间", "抄本，线装 1册"),
    ("河州志", "（明）吴祯 纂修", "明嘉靖四十二年", "刻本，线装 4册"),
    ("甘肃新通志", "（清）升允 修；安维峻 纂", "清宣统元年", "刻本，线装 48册"),
    ("榆中县志", "（清）佚名 纂", "清光绪年间", "抄本，线装 2册"),
    ("陇右金石录", "张维 辑", "民国三十二年", "铅印本，线装 10册"),
    ("靑城記", "（民国）佚名 撰", "民国二十四年", "石印本，线装 1册"),
]


def special_library_records():
    """The records the demo and its tests rely on by exact text."""
    return [
        (["clc:I", "ancient"], dc(
            title="靜夜思",
            creator="李白",
            subject=["唐诗", "I222.742"],
            description="牀前明月光，疑是地上霜。舉頭望明月，低頭思故鄉。",
            date="唐",
            type="古籍",
            format="寫本，一葉",
            identifier=["善本 LZ-GJ-0001", "http://opac.lzlib.example.invalid/record/00001"],
            language="chi",
            coverage="唐代",
        )),
        (["clc:I"], dc(
            title="唐诗三百首",
            creator="蘅塘退士 编选",
            subject=["I222.742", "唐诗-诗集"],
            description="清乾隆年间蘅塘退士孙洙选编的唐诗选本，收诗三百余首，流传最广的唐诗普及读本。",
            publisher="北京：中华书局",
            contributor="陈婉俊 补注",
            date="2019",
            type="图书",
            format="428页；21cm",
            identifier=["ISBN 9787101139662", "http://opac.lzlib.example.invalid/record/00002"],
            language="chi",
        )),
        (["clc:I"], dc(
            title="唐詩三百首詳析",
            creator="喻守真 編注",
            subject=["I222.742", "唐詩-注釋"],
            description="逐首詳析作法、章法與意旨，繁體豎排。",
            publisher="中華書局",
            date="2016",
            type="图书",
            format="392頁；21cm",
            identifier=["ISBN 9787101118605", "http://opac.lzlib.example.invalid/record/00003"],
            language="zh",
        )),
        (["clc:K", "local"], dc(
            title="蘭州古今談",
            creator="陳舊 著",
            subject=["K294.21", "蘭州-地方史"],
            description="以隨筆形式記述蘭州城郭、街巷、黃河鐵橋與五泉山之沿革。",
            publisher="香港：中華書局（香港）有限公司",
            date="2012",
            type="图书",
            format="256頁；21cm",
            identifier=["ISBN 9789622313286", "http://opac.lzlib.example.invalid/record/00004"],
            language="zh",
        )),
        (["foreign", "local"], dc(
            title=["Lanzhou: City on the Yellow River", "兰州：黄河之城"],
            creator="Harrison, Margaret",
            subject=["K294.21", "Lanzhou (China) -- History"],
            description="A short history of Lanzhou from the Han garrison of Jincheng to the "
                        "industrial city of the 20th century, with notes on the Zhongshan Bridge "
                        "& the waterwheels of the Yellow River.",
            publisher="Cambridge University Press",
            date="2018",
            type="Text",
            format="xii, 284 p. ; 24 cm",
            identifier=["ISBN 9781108423281", "http://opac.lzlib.example.invalid/record/00005"],
            language="eng",
        )),
        (["foreign", "clc:K"], dc(
            title="Silk & Clay: Essays on the <Gansu Corridor>",
            creator=["Okafor, Daniel", "Liu, Mei"],
            subject=["K872.42", "Silk Road -- Antiquities"],
            description="Essays on painted pottery & bronzes; objects < 30 cm and > 5 cm are "
                        "catalogued in the appendix. Sample record for XML escaping: \"quotes\" "
                        "and 'apostrophes' too.",
            publisher="Routledge",
            date="2021",
            type="Text",
            format="xvi, 312 p. : ill. ; 25 cm",
            identifier=["ISBN 9781138360594", "http://opac.lzlib.example.invalid/record/00006"],
            language="eng",
        )),
    ]


ENGLISH_BOOKS = [
    ("The Yellow River: A Natural and Unnatural History", "K928.42"),
    ("Painted Pottery of the Majiayao Culture", "K876.3"),
    ("Dunhuang and the Silk Road: An Introduction", "K870.6"),
    ("Tang Poetry in Translation", "I222.742"),
    ("Frontier Cities of Northwest China", "K294.2"),
    ("Gourd Carving: A Lanzhou Folk Art", "J528.3"),
    ("Noodles of Lanzhou: Food, Migration and Identity", "TS972.132"),
]
EN_FIRST = ["Anna", "James", "Sophie", "David", "Laura", "Peter", "Helen", "Mark", "Claire", "Tom"]
EN_LAST = ["Whitfield", "Baker", "Morgan", "Fischer", "Dubois", "Kowalski", "Tanaka", "Reyes", "Novak"]


def library(coll, count, deleted, seed, topics, lang_code, special):
    rng = random.Random(seed)
    stamps = Stamps(rng, 12)
    out = []
    n = 0

    def add(sets, fields, stamp=None):
        nonlocal n
        n += 1
        out.append(record(coll, n, stamp or stamps.next(), sets, fields))

    if special:
        for sets, fields in special_library_records():
            add(sets, fields)
        for title, creator, date, fmt in ANCIENT_BOOKS:
            add(["ancient", "local"], dc(
                title=title, creator=creator, subject=["K294.214", "地方志-兰州"],
                description=f"{title}，{date}{fmt.split('，')[0]}。馆藏古籍，有虫蛀，已修复。",
                date=date, type=rng.choice(["古籍", "古籍", "Text"]), format=fmt,
                identifier=[f"善本 LZ-GJ-{n + 1:04d}", f"http://opac.{coll}.example.invalid/record/{n + 1:05d}"],
                language="chi", coverage=["清代" if "清" in date else "明代" if "明" in date else "民国"],
            ))
        for title, cls in ENGLISH_BOOKS:
            pub, _, prefix = rng.choice(ENGLISH_PUBLISHERS)
            digits, _ = isbn13(rng, prefix)
            add(["foreign"], dc(
                title=title, creator=f"{rng.choice(EN_LAST)}, {rng.choice(EN_FIRST)}",
                subject=[cls], publisher=pub, date=str(rng.randint(2005, 2024)), type="Text",
                description="An English-language introduction for general readers.",
                format=f"{rng.randint(180, 420)} p. ; 24 cm",
                identifier=[f"ISBN {digits}", f"http://opac.{coll}.example.invalid/record/{n + 1:05d}"],
                language="eng",
            ))
        for _ in range(4):
            pub, place, prefix = rng.choice(TRAD_PUBLISHERS)
            digits, _ = isbn13(rng, prefix)
            title = rng.choice(["隴右文獻叢考", "絲綢之路藝術史", "黃河文明論集", "敦煌學十講"])
            add(["clc:K"], dc(
                title=title, creator=person(rng), subject=["K870.6", "歷史-甘肅"],
                publisher=f"{place}：{pub}", date=str(rng.randint(1995, 2020)), type="图书",
                format=f"{rng.randint(200, 500)}頁；21cm",
                identifier=[f"ISBN {digits}", f"http://opac.{coll}.example.invalid/record/{n + 1:05d}"],
                language="zh",
            ))
    publishers = PUBLISHERS
    while n < count:
        sets, fields = book(rng, coll, n + 1, topics, lang_code, publishers, 0.5)
        add(sets, fields)
    return finish(rng, coll, out, deleted, stamps)


YZ_TOPICS = [t for t in BOOK_TOPICS if t[2] in ("clc:I", "clc:K")] + [
    ("S644.9", "百合-栽培", "clc:S", ["兰州百合栽培技术", "百合病虫害防治", "高原百合"]),
    ("S63", "蔬菜园艺", "clc:S", ["高原夏菜种植技术", "设施蔬菜栽培问答", "{p}蔬菜产业发展"]),
    ("S652", "瓜类-栽培", "clc:S", ["白兰瓜栽培", "西甜瓜种植一本通"]),
    ("S858.2", "畜牧-饲养", "clc:S", ["肉羊养殖实用技术", "农家养鸡"]),
    ("K294.24", "榆中县-地方史", "clc:K",
     ["榆中县志", "兴隆山志", "青城古镇", "金崖史话", "榆中文史资料", "夏官营往事", "栖云山传说"]),
    ("Z228", "青少年读物", "clc:Z", ["十万个为什么：黄河篇", "给孩子讲甘肃", "百科小问答"]),
]


# --- museum ---------------------------------------------------------------------------------

MAJIAYAO = [
    # (phase, period date, vessel pattern, materials)
    ("马家窑类型", "约公元前3300年—公元前2650年", ["旋涡纹彩陶瓶", "水波纹彩陶盆", "平行线纹彩陶钵",
                                            "舞蹈纹彩陶盆", "网格纹彩陶罐"], "泥质红陶"),
    ("半山类型", "约公元前2650年—公元前2350年", ["锯齿纹彩陶壶", "葫芦网纹彩陶罐", "四大圆圈纹彩陶瓮",
                                           "人头形器口彩陶瓶"], "泥质红陶"),
    ("马厂类型", "约公元前2350年—公元前2050年", ["蛙纹彩陶罐", "回纹彩陶双耳罐", "折线纹彩陶杯",
                                           "人像彩陶壶"], "夹砂红陶"),
]
BRONZE = [
    ("齐家文化", "约公元前2000年", ["铜镜", "铜刀", "铜斧"]),
    ("商代", "商代晚期", ["铜戈", "铜镞"]),
    ("西周", "西周", ["铜簋", "铜鼎"]),
    ("战国", "战国", ["铜剑", "铜带钩", "铜壶"]),
    ("汉代", "汉代", ["铜灯", "铜镜", "铜钫", "铜博山炉", "铜车马饰"]),
    ("东汉", "东汉", ["铜摇钱树枝", "铜俑", "铜熏炉"]),
]
SILKROAD = [
    ("汉代", "汉代", "木简", "木", "居延汉简（{n}）"),
    ("北朝", "北魏", "银币", "银", "波斯萨珊卑路斯银币"),
    ("隋代", "隋代", "金币", "金", "东罗马查士丁尼金币"),
    ("唐代", "唐开元年间", "俑", "陶", "三彩骆驼载乐俑"),
    ("唐代", "唐代", "俑", "陶", "彩绘胡人牵马俑"),
    ("唐代", "唐代", "盘", "银", "鎏金银盘"),
    ("唐代", "唐代", "经卷", "纸", "敦煌写经残卷（{n}）"),
    ("西夏", "西夏", "瓷", "瓷", "褐釉剔花瓷瓶"),
    ("元代", "元代", "丝织品", "丝", "织金锦残片"),
    ("明代", "明代", "瓷", "瓷", "青花缠枝莲纹碗"),
]
YELLOWRIVER = [
    ("明代", "明嘉靖年间", "兰州水车模型", "木"),
    ("近代", "民国", "羊皮筏子", "羊皮、木"),
    ("清代", "清光绪三十四年", "黄河铁桥铆钉", "铁"),
    ("清代", "清光绪年间", "黄河铁桥建桥合同抄件", "纸"),
    ("清代", "清乾隆年间", "兰州府城图", "纸本设色"),
    ("近代", "民国二十年", "黄河渡口老照片", "银盐相纸"),
    ("清代", "清代", "刻葫芦鼻烟壶", "葫芦"),
    ("近代", "民国", "兰州鼓子三弦", "木、蟒皮"),
    ("清代", "清同治年间", "黄河漕运铁锚", "铁"),
    ("清代", "清乾隆年间", "金城关匾额", "木"),
]
FIND_SPOTS = ["兰州市城关区白道沟坪", "兰州市七里河区西果园", "兰州市西固区", "兰州市安宁区沙井驿",
              "兰州市红古区", "永登县连城", "皋兰县什川", "榆中县金崖", "兰州新区", "广河县", "临洮县马家窑"]


def dims(rng, shape="vessel"):
    """Measurements as a museum label writes them, by the shape of the object."""
    if shape == "coin":
        return f"直径{rng.randint(15, 30) / 10}厘米，重{rng.randint(20, 90) / 10}克"
    if shape == "flat":
        return f"长{rng.randint(10, 90)}.{rng.randint(0, 9)}厘米，宽{rng.randint(2, 40)}.{rng.randint(0, 9)}厘米"
    return f"高{rng.randint(5, 60)}.{rng.randint(0, 9)}厘米，口径{rng.randint(3, 40)}.{rng.randint(0, 9)}厘米"


SHAPES = {"银币": "coin", "金币": "coin", "木简": "flat", "经卷": "flat", "丝织品": "flat"}


def museum(coll, count, deleted, seed):
    rng = random.Random(seed)
    stamps = Stamps(rng, 8)
    out = []
    n = 0
    inv_seen = set()

    def inventory(year):
        while True:
            inv = f"LZM-{year}-{rng.randint(1, 9999):04d}"
            if inv not in inv_seen:
                inv_seen.add(inv)
                return inv

    def add(sets, fields):
        nonlocal n
        n += 1
        out.append(record(coll, n, stamps.next(), sets, fields))

    def ids(year):
        return [f"总登记号 {inventory(year)}", f"http://collection.{coll}.example.invalid/objects/{n + 1:05d}"]

    add(["bronze", "silkroad"], dc(
        title=["铜奔马", "马踏飞燕"],
        subject=["青铜器", "丝路文物", "中国旅游标志"],
        description="1969年武威雷台汉墓出土。马昂首嘶鸣，三足腾空，右后足踏一飞鸟，构思巧妙。"
                    "本馆所藏为1980年代按原大复制的展品，原件藏甘肃省博物馆。",
        date="东汉",
        type="文物",
        format=["青铜", "高34.5厘米，长45厘米，宽13.1厘米"],
        identifier=ids(1985),
        language="zh",
        coverage=["东汉", "武威市凉州区雷台"],
    ))
    add(["majiayao"], dc(
        title=["Painted pottery basin with dancing figures", "舞蹈纹彩陶盆（复制品）"],
        subject=["Painted pottery", "Majiayao culture"],
        description="Replica of the basin excavated at Shangsunjiazhai, Datong, Qinghai, in 1973. "
                    "Five dancers hold hands in three groups on the inner wall.",
        date="c. 3000 BCE",
        type="PhysicalObject",
        format=["Earthenware", "H. 14 cm, D. 29 cm"],
        identifier=ids(1990),
        language="eng",
        coverage="Majiayao culture",
    ))
    while n < count:
        kind = rng.choice(["majiayao", "majiayao", "bronze", "silkroad", "silkroad", "yellowriver"])
        spot = rng.choice(FIND_SPOTS)
        acq = rng.randint(1956, 2022)
        typ = rng.choice(["文物", "文物", "PhysicalObject"])
        if kind == "majiayao":
            phase, date, vessels, material = rng.choice(MAJIAYAO)
            vessel = rng.choice(vessels)
            title = f"{phase}{vessel}"
            if rng.random() < 0.3:
                date = rng.choice(["公元前3000年", "约公元前2500年", "新石器时代晚期"])
            fields = dc(
                title=title, subject=["彩陶", "马家窑文化", phase],
                description=f"{acq}年{spot}出土。{material}，{vessel[:-2]}纹饰以黑彩绘成，线条流畅，"
                            f"是马家窑文化{phase}的典型器物。",
                date=date, type=typ, format=[material, dims(rng)], identifier=ids(acq),
                language="zh", coverage=["马家窑文化", spot],
            )
        elif kind == "bronze":
            period, date, vessels = rng.choice(BRONZE)
            vessel = rng.choice(vessels)
            fields = dc(
                title=f"{period}{vessel}" if rng.random() < 0.5 else vessel,
                subject=["青铜器", period],
                description=f"{acq}年{spot}征集。通体绿锈，{rng.choice(['纹饰清晰', '保存完整', '局部残缺', '铭文漫漶'])}。",
                date=date, type=typ, format=["青铜", dims(rng)], identifier=ids(acq),
                language="zh", coverage=[period, spot],
            )
        elif kind == "silkroad":
            period, date, kind_name, material, name = rng.choice(SILKROAD)
            fields = dc(
                title=name.format(n=rng.randint(1, 60)),
                subject=["丝路文物", "丝绸之路", period],
                description=f"{spot}出土，{acq}年入藏。见证了汉唐以来兰州作为丝绸之路重镇的中西交流。",
                date=date, type=typ, format=[material, dims(rng, SHAPES.get(kind_name, "vessel"))],
                identifier=ids(acq), language="zh", coverage=[period, "丝绸之路"],
            )
        else:
            period, date, name, material = rng.choice(YELLOWRIVER)
            fields = dc(
                title=name + ("" if rng.random() < 0.6 else f"（{rng.choice(['甲', '乙', '丙', '丁'])}）"),
                subject=["黄河文化", "兰州-地方史", period],
                description=f"{acq}年征集自{spot}。反映黄河兰州段的交通、水利与民间生活。",
                date=date, type=typ, format=[material, dims(rng)], identifier=ids(acq),
                language="zh", coverage=[period, "黄河兰州段"],
            )
        add([kind], fields)
    return finish(rng, coll, out, deleted, stamps)


# --- art gallery ----------------------------------------------------------------------------

HISTORICAL_ARTISTS = [
    ("唐寅", "明代", "明正德年间"), ("文徵明", "明代", "明嘉靖年间"), ("董其昌", "明代", "明万历年间"),
    ("郑燮", "清代", "清乾隆年间"), ("刘墉", "清代", "清乾隆年间"), ("吴昌硕", "清代", "清光绪年间"),
    ("齐白石", "近现代", "1950年"), ("黄宾虹", "近现代", "1948年"), ("张大千", "近现代", "1943年"),
    ("范振绪", "近现代", "民国"), ("于右任", "近现代", "1945年"), ("常书鸿", "现代", "1955年"),
]
PAINT_SUBJECTS = [
    ("山水画", ["黄河远眺图", "皋兰山雪霁", "兴隆山秋色", "白塔晴雪", "五泉飞瀑", "陇上秋收",
              "黄河铁桥夜色", "河西走廊", "祁连积雪", "溪山行旅图（临本）"]),
    ("花鸟画", ["墨竹图", "百合花", "牡丹图", "荷塘清趣", "鹰石图", "梅花图", "白兰瓜与蝈蝈"]),
    ("人物画", ["敦煌飞天（临本）", "黄河船工", "拉面师傅", "太平鼓手", "牧羊女", "西北老农"]),
    ("油画", ["黄河母亲", "中山桥的早晨", "西固工业区", "安宁桃园", "兰州新区的春天", "羊皮筏子"]),
    ("版画", ["大河之北", "水车", "陇原新村", "黄土高原"]),
]
# Titles a pre-modern painter's work could carry (no bridges or industrial districts).
CLASSICAL_PAINTINGS = [
    ("山水画", ["溪山行旅图（临本）", "秋山图", "松下高士图", "江山雪霁图", "山居图"]),
    ("花鸟画", ["墨竹图", "梅花图", "牡丹图", "荷塘清趣", "鹰石图", "兰石图"]),
    ("人物画", ["敦煌飞天（临本）", "仕女图", "钟馗图", "东坡玩砚图"]),
]
PAINT_TECHNIQUES = {
    "山水画": ["纸本设色", "纸本水墨", "绢本设色"],
    "花鸟画": ["纸本设色", "纸本水墨", "绢本设色"],
    "人物画": ["纸本设色", "绢本设色"],
    "油画": ["布面油画"],
    "版画": ["木刻版画", "丝网版画"],
}
# The last three are for modern calligraphers only.
CALLIGRAPHY_TEXTS = ["杜甫《登高》", "李白《将进酒》", "王之涣《凉州词》", "岑参《白雪歌送武判官归京》",
                     "王维《使至塞上》", "苏轼《念奴娇·赤壁怀古》", "《兰亭序》（临本）", "“金城汤池”四字",
                     "毛泽东《沁园春·雪》", "七言联“黄河远上白云间”", "“黄河之都”四字"]
SCRIPTS = ["草书", "行书", "隶书", "篆书", "楷书", "行草"]


def art_gallery(coll, count, deleted, seed):
    rng = random.Random(seed)
    stamps = Stamps(rng, 8)
    out = []
    n = 0

    def add(sets, fields):
        nonlocal n
        n += 1
        out.append(record(coll, n, stamps.next(), sets, fields))

    def ids(year):
        return [f"LZAG-{year}-{n + 1:04d}", f"http://art.{coll}.example.invalid/works/{n + 1:05d}"]

    add(["painting"], dc(
        title=["Yellow River at Dusk", "黄河暮色"],
        creator="Whitfield, Anna",
        subject=["Oil painting", "Landscape"],
        description="Painted during an artist residency in Lanzhou; the Zhongshan Bridge & the "
                    "Baita Hill pagoda at sunset.",
        date="2019",
        type="StillImage",
        format=["Oil on canvas", "80 × 120 cm"],
        identifier=ids(2019),
        language="eng",
    ))
    while n < count:
        kind = rng.choice(["painting", "painting", "painting", "calligraphy", "calligraphy", "photography"])
        historical = rng.random() < 0.3
        if historical:
            artist, era, date = rng.choice(HISTORICAL_ARTISTS)
        else:
            artist, era, date = person(rng), "当代", str(rng.randint(1978, 2025))
        acquired = rng.randint(1985, 2024) if historical else max(int(date), 1985)
        if kind == "painting":
            genre, titles = rng.choice(CLASSICAL_PAINTINGS if historical else PAINT_SUBJECTS)
            technique = rng.choice(PAINT_TECHNIQUES[genre])
            size = f"纵{rng.randint(30, 240)}厘米，横{rng.randint(30, 180)}厘米"
            fields = dc(
                title=rng.choice(titles), creator=artist, subject=[genre, era],
                description=f"{artist}{'作' if not historical else '款'}，{technique}。"
                            f"{rng.choice(['画面构图疏朗', '笔墨苍润', '设色淡雅', '气势雄浑', '刻画细腻'])}，"
                            f"{rng.choice(['表现了黄河兰州段的壮美风光', '描绘陇原风物', '富有西北地域特色', '体现作者晚年风格'])}。",
                date=date, type=rng.choice(["绘画", "绘画", "StillImage"]), format=[technique, size],
                identifier=ids(acquired), language="zh", coverage=era,
                contributor=[person(rng) + " 题跋"] if historical and rng.random() < 0.3 else None,
            )
        elif kind == "calligraphy":
            script = rng.choice(SCRIPTS)
            text = rng.choice(CALLIGRAPHY_TEXTS[:-3] if historical else CALLIGRAPHY_TEXTS)
            form = rng.choice(["轴", "横幅", "册页", "对联", "扇面", "手卷"])
            fields = dc(
                title=f"{script}{text}{form}", creator=artist, subject=["书法", script, era],
                description=f"{artist}书，{script}。{rng.choice(['笔力遒劲', '结体端庄', '行气贯通', '古朴自然'])}，"
                            f"钤印{rng.randint(1, 4)}方。",
                date=date, type=rng.choice(["书法", "书法", "StillImage"]),
                format=[rng.choice(["纸本水墨", "洒金笺", "绢本"]), f"纵{rng.randint(30, 240)}厘米，横{rng.randint(20, 120)}厘米"],
                identifier=ids(acquired), language="zh", coverage=era,
            )
        else:
            place = rng.choice(["中山桥", "白塔山", "黄河风情线", "兴隆山", "什川古梨园", "青城古镇", "兰州新区"])
            year = rng.randint(1985, 2025)
            fields = dc(
                title=f"{place}{rng.choice(['晨曦', '雪霁', '夜色', '之秋', '人家', '远眺'])}",
                creator=person(rng), subject=["摄影", "风光摄影"],
                description=f"摄于{year}年，{place}。数码微喷，限量{rng.randint(3, 12)}版。",
                date=str(year), type="StillImage", format=["艺术微喷", f"{rng.randint(40, 120)} × {rng.randint(30, 90)} cm"],
                identifier=ids(max(year, 1985)), language="zh", coverage=place,
            )
        add([kind], fields)
    return finish(rng, coll, out, deleted, stamps)


# --- cultural centres -----------------------------------------------------------------------

ICH = [
    ("taipinggu", "兰州太平鼓", ["兰州太平鼓传承体验工作坊", "太平鼓进校园", "太平鼓技艺培训班"]),
    ("guzi", "兰州鼓子", ["兰州鼓子传唱会", "兰州鼓子曲牌研习班", "鼓子茶社雅集"]),
    ("hulu", "兰州刻葫芦", ["刻葫芦非遗体验课", "刻葫芦技艺公益培训", "方寸之间：刻葫芦亲子工作坊"]),
    ("huaer", "花儿", ["花儿演唱培训班", "莲花山花儿赏析会"]),
    ("jianzhi", "剪纸", ["陇原剪纸工作坊", "春节剪窗花体验活动"]),
]
LECTURES = ["黄河文化与兰州城市精神", "丝绸之路上的兰州", "马家窑彩陶的纹饰之美", "兰州方言趣谈",
            "唐诗中的河陇", "如何欣赏中国山水画", "非物质文化遗产保护的法律与实践", "家庭阅读指导",
            "老年智能手机使用课堂", "兰州老字号的故事"]
EXHIBITIONS = ["“黄河之滨”群众美术作品展", "兰州非遗保护成果展", "“陇原风”摄影作品展",
               "少儿书画作品展", "“金城印象”版画展", "老兰州记忆图片展"]
PERFORMANCES = ["“欢乐金城”广场文艺演出", "秦腔折子戏专场", "新春社火展演", "民族器乐音乐会",
                "“百姓大舞台”群众文艺汇演"]
VENUES = {
    "lzculture": ["兰州市文化馆三楼多功能厅", "兰州市文化馆展厅", "兰州市文化馆非遗传习所", "黄河风情线中山桥广场",
                  "兰州音乐厅", "东方红广场"],
    "xgculture": ["西固区文化馆排练厅", "西固区文化馆展厅", "西固公园", "福利路社区文化活动中心"],
}


def announced(rng, stamps, start):
    """The datestamp of an event record: published some weeks before the event, but never
    outside the sample window (events after it were all announced near its end)."""
    stamp = dt.datetime.combine(start, dt.time(9)) - dt.timedelta(days=rng.randint(7, 60),
                                                                  seconds=rng.randrange(86400))
    if stamp > STAMP_END:
        return stamps.random(STAMP_END - dt.timedelta(days=90), STAMP_END)
    if stamp < STAMP_START:
        return stamps.random(STAMP_START, STAMP_START + dt.timedelta(days=30))
    return stamp


def event_date(rng):
    start = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(3 * 365))
    if rng.random() < 0.3:
        end = start + dt.timedelta(days=rng.randint(5, 45))
        return f"{start.isoformat()}/{end.isoformat()}", start
    return start.isoformat(), start


def cultural_centre(coll, name, count, deleted, seed):
    rng = random.Random(seed)
    stamps = Stamps(rng, 6)
    out = []
    n = 0
    district = next(i["district"] for i in INSTITUTIONS if i["id"] == coll)

    def add(sets, fields, stamp=None):
        nonlocal n
        n += 1
        out.append(record(coll, n, stamp or stamps.next(), sets, fields))

    def url():
        return f"http://www.{coll}.example.invalid/events/{n + 1:05d}"

    if coll == "lzculture":
        add(["performance", "ich"], dc(
            title="兰州黄河文化艺术中心非遗展演",
            creator=name,
            subject=["非物质文化遗产", "兰州太平鼓", "兰州鼓子", "黄河文化"],
            description="集中展演兰州太平鼓、兰州鼓子、花儿等代表性项目，并设刻葫芦、剪纸现场制作展示。免费入场，需提前预约。",
            publisher=name,
            contributor=["兰州市太平鼓艺术团", "兰州鼓子传承人"],
            date="2026-06-13",
            type="Event",
            identifier=url(),
            language="zh",
            coverage=["兰州黄河文化艺术中心", district],
        ), dt.datetime(2026, 5, 20, 10, 0, 0))
        add(["lecture"], dc(
            title="Yellow River Culture: A Lecture Series in English",
            creator=name,
            subject=["Yellow River", "Intangible cultural heritage"],
            description="Monthly talks for international residents & visitors; <free admission>, "
                        "registration required.",
            publisher=name,
            contributor="Morgan, Helen",
            date="2026-03-01/2026-12-31",
            type="Event",
            identifier=url(),
            language="eng",
            coverage=VENUES[coll][0],
        ))
    while n < count:
        kind = rng.choice(["ich", "ich", "ich", "lecture", "exhibition", "performance"])
        date, start = event_date(rng)
        stamp = announced(rng, stamps, start)
        venue = rng.choice(VENUES[coll])
        presenter = person(rng)
        if kind == "ich":
            spec, ich_name, titles = rng.choice(ICH if coll == "lzculture" else [ICH[0], ICH[4]])
            title = rng.choice(titles) + f"（第{rng.randint(1, 30)}期）"
            sets = [f"ich:{spec}"]
            subject = ["非物质文化遗产", ich_name]
            desc = f"由{ich_name}传承人{presenter}现场教学，材料免费提供，限{rng.randint(15, 40)}人，请关注公众号报名。"
        elif kind == "lecture":
            title = f"“{rng.choice(LECTURES)}”公益讲座"
            sets = ["lecture"]
            subject = ["公益讲座", "全民阅读"]
            desc = f"主讲人：{presenter}。面向市民免费开放，座位有限，先到先得。"
        elif kind == "exhibition":
            title = rng.choice(EXHIBITIONS) + ("" if rng.random() < 0.5 else f"（{start.year}）")
            sets = ["exhibition"]
            subject = ["展览", "群众美术"]
            desc = f"展出作品{rng.randint(40, 200)}件，开放时间9:00—17:00，周一闭馆。"
        else:
            title = rng.choice(PERFORMANCES)
            sets = ["performance"]
            subject = ["群众文艺", "演出"]
            desc = f"{name}主办，{venue}。节目包括歌舞、器乐、戏曲等。"
        add(sets, dc(
            title=title, creator=name, subject=subject, description=desc, publisher=name,
            contributor=presenter, date=date, type=rng.choice(["Event", "活动", "活动"]),
            format=rng.choice([None, None, "线下活动", "线上直播"]), identifier=url(),
            language="zh", coverage=[venue, district],
        ), stamp)
    return finish(rng, coll, out, deleted, stamps)


def township(coll, name, count, deleted, seed):
    rng = random.Random(seed)
    stamps = Stamps(rng, 4)
    out = []
    n = 0
    events = ["连城社火展演", "“农家书屋”读书分享会", "鲁土司衙门文化讲解", "连城镇广场舞大赛",
              "科技下乡：果树修剪培训", "端午节民俗活动", "妙因寺文物保护宣传日", "乡村春晚"]
    photos = ["鲁土司衙门旧影", "连城古镇街巷", "大通河畔", "妙因寺万岁殿", "连城社火", "河桥驿旧址"]
    while n < count:
        n += 1
        stamp = stamps.next()
        if rng.random() < 0.65:
            date, start = event_date(rng)
            stamp = announced(rng, stamps, start)
            fields = dc(
                title=rng.choice(events) + f"（{date[:4]}）", creator=name, subject=["乡村文化", "群众文化"],
                description=f"{name}组织，地点：连城镇文化广场。欢迎村民参加。", publisher=name,
                date=date, type=rng.choice(["活动", "Event"]),
                identifier=f"http://{coll}.example.invalid/huodong/{n:04d}", language="zh",
                coverage=["永登县连城镇", "永登县"],
            )
            sets = ["event"]
        else:
            year = rng.choice([1956, 1962, 1978, 1985, 1996, 2008, 2016, 2023])
            fields = dc(
                title=rng.choice(photos) + f"（{year}年）", creator=person(rng), subject=["老照片", "连城"],
                description=f"{year}年摄，村民捐赠，已数字化。", date=str(year), type="StillImage",
                format=["image/jpeg", "黑白照片" if year < 1990 else "彩色照片"],
                identifier=[f"LCZ-ZP-{n:04d}", f"http://{coll}.example.invalid/yingxiang/{n:04d}"],
                language="zh", coverage="永登县连城镇",
            )
            sets = ["photo"]
        out.append(record(coll, n, stamp, sets, fields))
    return finish(rng, coll, out, deleted, stamps)


# --- assembly -------------------------------------------------------------------------------

def record(coll, n, stamp, sets, fields):
    return {
        "identifier": f"oai:{coll}.example.invalid:{n:05d}",
        "datestamp": fmt_stamp(stamp),
        "deleted": False,
        "sets": sets,
        "dc": fields,
    }


def finish(rng, coll, records, deleted, stamps):
    """Appends `deleted` withdrawn records (header only), then sorts into serving order."""
    n = len(records)
    for i in range(deleted):
        n += 1
        sets = [rng.choice([s for s, _ in next(x for x in INSTITUTIONS if x["id"] == coll)["sets"]
                            if s not in ("clc", "ich")])]
        records.append({
            "identifier": f"oai:{coll}.example.invalid:{n:05d}",
            "datestamp": fmt_stamp(stamps.random(dt.datetime(2025, 6, 1), STAMP_END)),
            "deleted": True,
            "sets": sets,
        })
    records.sort(key=lambda r: (r["datestamp"], r["identifier"]))
    return records


# --- the province level -----------------------------------------------------------------------

GS_TOPICS = [t for t in BOOK_TOPICS if t[2] in ("clc:I", "clc:K", "clc:J")] + [
    ("K294.2", "甘肃-地方史", "clc:K",
     ["甘肃通史", "陇右文化概论", "甘肃古代交通史", "河西四郡史话", "甘肃历史人物", "陇南史话"]),
    ("K878.6", "简牍-研究-甘肃", "clc:K", ["甘肃简牍百年", "悬泉汉简研究", "居延新简释读", "天水放马滩秦简"]),
]

# (title pattern, set, period, date, material, measurement shape); {n} a number
GS_OBJECTS = [
    ("大地湾彩陶钵（{n}）", "painted-pottery", "仰韶文化", "约公元前5000年", "泥质红陶", "vessel"),
    ("人头形器口彩陶瓶（复制品）", "painted-pottery", "仰韶文化", "约公元前3800年", "泥质红陶", "vessel"),
    ("齐家文化双大耳罐（{n}）", "painted-pottery", "齐家文化", "约公元前2000年", "夹砂红陶", "vessel"),
    ("悬泉置汉简（{n}）", "slips", "汉代", "西汉", "木", "flat"),
    ("武威医简（{n}）", "slips", "汉代", "东汉", "木", "flat"),
    ("天水放马滩木板地图（复制品）", "slips", "秦代", "战国秦", "木", "flat"),
    ("炳灵寺石窟造像残块（{n}）", "buddhist", "北朝", "西秦", "石", "vessel"),
    ("敦煌写经（{n}）", "buddhist", "唐代", "唐代", "纸", "flat"),
    ("鎏金铜佛坐像（{n}）", "buddhist", "明代", "明代", "铜鎏金", "vessel"),
]


def provincial_museum(coll, count, deleted, seed):
    """甘肃省博物馆: objects from all over the province, none shared with 兰州市博物馆."""
    rng = random.Random(seed)
    stamps = Stamps(rng, 6)
    out = []
    n = 0
    while n < count:
        n += 1
        pattern, set_spec, period, date, material, shape = rng.choice(GS_OBJECTS)
        acq = rng.randint(1958, 2021)
        fields = dc(
            title=pattern.format(n=rng.randint(1, 90)), subject=[period, dict(GS_SETS)[set_spec]],
            description=f"{acq}年入藏。{period}{material}器物，展于本馆陇原文物展厅（示例）。",
            date=date, type=rng.choice(["文物", "PhysicalObject"]), format=[material, dims(rng, shape)],
            identifier=[f"总登记号 GSM-{acq}-{n:04d}", f"http://collection.{coll}.example.invalid/objects/{n:05d}"],
            language="zh", coverage=[period, "甘肃"],
        )
        out.append(record(coll, n, stamps.next(), [set_spec], fields))
    return finish(rng, coll, out, deleted, stamps)


GS_SETS = [["painted-pottery", "彩陶"], ["slips", "简牍"], ["buddhist", "佛教艺术"]]


# --- file sources: MARC, LIDO, CSV, JSON API, RSS ------------------------------------------
#
# The demo also serves sources in the other formats Jincheng harvests, as files under
# `demo/files/` (served at `/demo/files/{name}`) and one paged JSON API (`/demo/api/works`,
# served from `files/lzart_works.json`). All of it is SAMPLE data, like the collections above.

SAMPLE_NOTE = "（示例数据，虚构，仅供演示）"

# CNMARC for 永登县图书馆: (title, other title info, CLC class, subject, topical subdivision)
YD_BOOKS = [
    ("永登县志", "1991-2010", "K294.24", "地方志", "永登县"),
    ("连城鲁土司衙门", "建筑与历史", "K928.71", "古建筑", "永登县"),
    ("妙因寺壁画", None, "J218.6", "寺院壁画", "永登县"),
    ("苦水玫瑰栽培技术", None, "S685.12", "玫瑰花", "栽培技术"),
    ("永登高高跷", "民间社火调查", "J722.2", "社火", "永登县"),
    ("庄浪河畔", "散文集", "I267", "散文", "当代"),
    ("河西走廊东端的古城堡", None, "K878.3", "城堡遗址", "河西走廊"),
    ("丝绸之路上的驿站", None, "K928.6", "驿站", "丝绸之路"),
    ("乌鞘岭下", "长篇小说", "I247.5", "长篇小说", "当代"),
    ("西北花儿精选", None, "I277.2", "花儿", "西北地区"),
    ("旱作农业实用技术", None, "S343.1", "旱地农业", "甘肃"),
    ("高原夏菜种植手册", None, "S63", "蔬菜园艺", "甘肃"),
    ("兰州黄河风情线", "导游手册", "K928.9", "旅游指南", "兰州"),
    ("明长城甘肃段考察记", None, "K928.77", "长城", "甘肃"),
    ("鲁土司家族史", None, "K820.9", "土司", "永登县"),
    ("河湟民间故事", None, "I277.3", "民间故事", "河湟地区"),
    ("马家窑彩陶图谱", None, "K876.34", "彩陶", "马家窑文化"),
    ("中国书法简史", None, "J292.1", "书法", "历史"),
    ("少儿科普百问", "天文地理", "Z228.1", "科学知识", "少儿读物"),
    ("家庭养羊新技术", None, "S826", "羊", "饲养管理"),
    ("枸杞与沙棘", "西北经济林栽培", "S793", "经济林", "西北地区"),
    ("甘肃红色文化读本", None, "K295.4", "革命史", "甘肃"),
    ("永登方言词汇", None, "H172.2", "西北方言", "永登县"),
    ("敦煌莫高窟艺术", None, "J196.2", "石窟艺术", "敦煌"),
    ("黄河母亲", "诗歌集", "I227", "诗歌", "当代"),
    ("农家书屋管理实务", None, "G258.23", "农村图书馆", "管理"),
    ("陇上名人录", None, "K820.842", "人物", "甘肃"),
    ("秦腔艺术欣赏", None, "J825.41", "秦腔", "艺术欣赏"),
    ("兰州牛肉面", "一碗面的文化史", "TS972.132", "面食", "兰州"),
    ("小城故事", "短篇小说集", "I247.7", "短篇小说", "当代"),
    ("祁连山生态保护", None, "X321.242", "生态环境保护", "祁连山"),
    ("中药材种植技术", None, "S567", "药用植物", "栽培技术"),
    ("西夏文明探秘", None, "K246.3", "西夏", "历史"),
    ("读者文摘精选", "2010-2020", "I218", "文学作品", "作品综合集"),
    ("丝路驼铃", "长篇历史小说", "I247.53", "历史小说", "当代"),
    ("永登县非物质文化遗产名录", None, "G127.424", "非物质文化遗产", "永登县"),
    ("古浪峡与乌鞘岭", None, "K928.3", "山峡", "甘肃"),
    ("农村电商入门", None, "F724.6", "电子商务", "农村"),
    ("小学生古诗词诵读", None, "I207.22", "古典诗歌", "小学"),
    ("苦水高高跷传承人口述史", None, "K825.78", "民间艺人", "永登县"),
]
YD_BRANCHES = ["永登县图书馆总馆", "永登县图书馆连城分馆", "永登县图书馆苦水分馆", "永登县图书馆红城分馆"]


def iso2709(leader, fields):
    """One ISO 2709 record from (tag, bytes) fields, already encoded."""
    ft, rt = b"\x1e", b"\x1d"
    directory, body = b"", b""
    for tag, data in fields:
        data += ft
        directory += tag.encode("ascii") + b"%04d%05d" % (len(data), len(body))
        body += data
    directory += ft
    base = 24 + len(directory)
    total = base + len(body) + 1
    head = (b"%05d" % total) + leader[5:12].encode("ascii") + (b"%05d" % base) + leader[17:24].encode("ascii")
    return head + directory + body + rt


def marc_field(tag, content, encoding):
    if isinstance(content, str):
        return tag, content.encode(encoding)
    indicators, subfields = content
    data = indicators.encode("ascii")
    for code, value in subfields:
        data += b"\x1f" + code.encode("ascii") + value.encode(encoding)
    return tag, data


def cnmarc_file():
    rng = random.Random(SEED + 101)
    out = b""
    for n, (title, other, clc, subject, sub) in enumerate(YD_BOOKS, start=1):
        publisher, place, prefix = rng.choice(LOCAL_PUBLISHERS)
        _, isbn = isbn13(rng, prefix)
        year = rng.randint(1995, 2024)
        author = person(rng)
        f100 = f"{year}0101d{year}    em y0chiy0120    ea"
        assert len(f100) == 36
        sub200 = [("a", title)] + ([("e", other)] if other else []) + [("f", f"{author}著")]
        fields = [
            ("001", f"YD{n:06d}"),
            ("005", f"2025{rng.randint(1, 9):02d}{rng.randint(1, 28):02d}103000.0"),
            ("010", ("  ", [("a", isbn), ("d", f"CNY{rng.randint(18, 98)}.00")])),
            ("100", ("  ", [("a", f100)])),
            ("101", ("0 ", [("a", "chi")])),
            ("200", ("1 ", sub200)),
        ]
        if rng.random() < 0.25:
            fields.append(("205", ("  ", [("a", f"第{rng.choice('二三')}版")])))
        fields += [
            ("210", ("  ", [("a", place), ("c", publisher), ("d", str(year))])),
            ("215", ("  ", [("a", f"{rng.randint(120, 520)}页"), ("c", "图"), ("d", f"{rng.choice((21, 24, 26))}cm")])),
            ("330", ("  ", [("a", f"本书介绍{subject}的相关知识，兼及{sub}。{SAMPLE_NOTE}")])),
            ("606", ("0 ", [("a", subject), ("x", "研究" if n % 3 else "概况")]
                     + ([("y", sub)] if sub.endswith(("县", "州", "区", "甘肃", "敦煌", "祁连山")) else []))),
            ("690", ("  ", [("a", clc), ("v", "5")])),
            ("701", (" 0", [("a", author), ("4", "著")])),
        ]
        book_no = str(rng.randint(1, 99))
        branches = [YD_BRANCHES[0]] + rng.sample(YD_BRANCHES[1:], rng.choice((0, 1, 1, 2)))
        barcode = 10000 + n * 10
        for branch in branches:
            for copy in range(1, rng.choice((1, 2, 2, 3)) + 1):
                barcode += 1
                fields.append(("905", ("  ", [("a", branch), ("b", f"YD{barcode:08d}"), ("d", clc),
                                              ("e", book_no), ("f", str(copy))])))
        out += iso2709("00000nam0 2200000   450 ", [marc_field(t, c, "gb18030") for t, c in fields])
    return out


# MARCXML (MARC21) for 兰州市图书馆's 西北地方文献 collection:
# (title, remainder, author (inverted for English), CLC, subject, language, publisher index)
LZ_XML_BOOKS = [
    ("兰州历史地图集", None, "K992.421", "历史地图", "chi"),
    ("黄河上游水文化研究", None, "K928.42", "水文化", "chi"),
    ("兰州城市史", "从金城到省会", "K294.21", "城市史", "chi"),
    ("甘肃古代石窟寺", None, "K879.24", "石窟", "chi"),
    ("白塔山与五泉山", "兰州名胜志", "K928.7", "名胜古迹", "chi"),
    ("兰州方言研究", None, "H172.2", "兰州话", "chi"),
    ("兰州太平鼓", None, "J722.2", "太平鼓", "chi"),
    ("羊皮筏子与黄河水运", None, "U6-092", "水上运输", "chi"),
    ("兰州中山桥百年", None, "K928.78", "桥梁", "chi"),
    ("陇右文献丛考", None, "Z838", "地方文献", "chi"),
    ("兰州刻葫芦艺术", None, "J529", "葫芦雕刻", "chi"),
    ("甘肃近代报刊史", None, "G219.29", "报刊", "chi"),
    ("河州花儿研究", None, "I207.292", "花儿", "chi"),
    ("清代甘肃书院", None, "G649.299", "书院", "chi"),
    ("兰州水车博览", None, "S277.9", "水车", "chi"),
    ("丝绸之路甘肃段考古", None, "K872.4", "考古发现", "chi"),
    ("左宗棠与西北", None, "K827", "人物研究", "chi"),
    ("兰州老街巷", None, "K928.5", "街道", "chi"),
    ("甘肃彩陶", None, "K876.34", "彩陶", "chi"),
    ("兰州黄河铁桥档案选编", None, "K295.2", "档案", "chi"),
    ("The Gansu Corridor: A Cultural History", None, "K294.2", "Gansu Corridor", "eng"),
    ("Lanzhou and the Upper Yellow River", None, "K928.42", "Yellow River", "eng"),
    ("Painted Pottery of Majiayao", None, "K876.34", "Painted pottery", "eng"),
    ("Travellers on the Silk Road", "Letters from Gansu", "K928.6", "Silk Road", "eng"),
    ("甘肃简牍研究", None, "K877.54", "简牍", "chi"),
    ("敦煌遗书中的兰州", None, "K870.6", "敦煌学", "chi"),
    ("兰州民俗志", None, "K892.442", "民俗", "chi"),
    ("西北回族社会史", None, "K281.3", "回族", "chi"),
    ("皋兰什川古梨园", None, "S661.2", "梨", "chi"),
    ("甘肃藏书家传略", None, "G259.29", "藏书家", "chi"),
]
EN_AUTHORS = ["Hughes, Margaret", "Wang, Li", "Thompson, David", "Zhang, Wei"]
LZ_BRANCHES = [("兰州市图书馆总馆", "地方文献阅览室"), ("兰州市图书馆七里河分馆", "借阅区"),
               ("兰州市图书馆安宁分馆", "借阅区")]


def xml_escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def marcxml_file():
    rng = random.Random(SEED + 102)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             "<!-- 兰州市图书馆 西北地方文献 MARCXML 导出。SAMPLE data: invented, for demonstration only. -->",
             '<collection xmlns="http://www.loc.gov/MARC21/slim">']

    def control(tag, value):
        lines.append(f'    <controlfield tag="{tag}">{xml_escape(value)}</controlfield>')

    def data(tag, ind, subfields):
        inner = "".join(f'<subfield code="{c}">{xml_escape(v)}</subfield>' for c, v in subfields)
        lines.append(f'    <datafield tag="{tag}" ind1="{ind[0]}" ind2="{ind[1]}">{inner}</datafield>')

    for n, (title, rest, clc, subject, lang) in enumerate(LZ_XML_BOOKS, start=1):
        english = lang == "eng"
        if english:
            publisher, place, prefix = rng.choice(ENGLISH_PUBLISHERS)
            author = rng.choice(EN_AUTHORS)
        else:
            publisher, place, prefix = rng.choice(LOCAL_PUBLISHERS)
            author = person(rng)
        digits, _ = isbn13(rng, prefix)
        year = rng.randint(1998, 2024)
        lines.append("  <record>")
        lines.append("    <leader>00000nam a2200000 i 4500</leader>")
        control("001", f"LZDF{n:05d}")
        control("005", f"2025{rng.randint(1, 9):02d}{rng.randint(1, 28):02d}090000.0")
        control("008", f"250101s{year}    ch a          000 0 {lang} d")
        data("020", "  ", [("a", digits)])
        data("041", "0 ", [("a", lang)])
        data("084", "  ", [("a", clc), ("2", "clc")])
        data("100", "1 ", [("a", author + ("," if english else "")), ("e", "author." if english else "著")])
        sub245 = [("a", title + (" :" if rest else " /"))]
        if rest:
            sub245.append(("b", rest + " /"))
        sub245.append(("c", f"{author} {'.' if english else '著'}" if not english else f"{author}."))
        data("245", "10", sub245)
        data("264", " 1", [("a", place + " :"), ("b", publisher + ","), ("c", f"{year}.")])
        pages = rng.randint(150, 480)
        data("300", "  ", [("a", f"{pages} pages :" if english else f"{pages}页 :"),
                           ("b", "illustrations ;" if english else "图 ;"), ("c", "24 cm" if english else "24cm")])
        if english:
            data("520", "  ", [("a", f"On {subject} and the history of Gansu. Sample data: invented, for demonstration only.")])
        else:
            data("520", "  ", [("a", f"本书系统介绍{subject}，收录大量地方史料与图片。{SAMPLE_NOTE}")])
        data("650", " 7", [("a", subject), ("z", "Gansu" if english else "兰州"), ("2", "cct")])
        branches = rng.sample(LZ_BRANCHES, rng.choice((1, 1, 2)))
        item = f"{rng.randint(1, 99)}"
        barcode = 30000 + n * 10
        for branch, location in branches:
            for _ in range(rng.choice((1, 2))):
                barcode += 1
                data("852", "  ", [("a", "兰州市图书馆"), ("b", branch), ("c", location), ("h", clc), ("i", item),
                                   ("p", f"LZ{barcode:08d}"), ("z", rng.choice(["在架", "在架", "借出"]))])
        data("856", "40", [("u", f"http://opac.lzlib.example.invalid/record/LZDF{n:05d}")])
        lines.append("  </record>")
    lines.append("</collection>")
    return ("\n".join(lines) + "\n").encode("utf-8")


# LIDO for 兰州市博物馆 精品文物: (title, en title, work type, material, technique, size,
# display date, period, earliest, latest, culture, place, description)
LZM_LIDO = [
    ("马家窑类型彩陶旋纹双耳罐", None, "陶器", "泥质红陶", "彩绘", "高28.6厘米，口径11.2厘米", "约公元前3000年", "新石器时代", "-3100", "-2700", "马家窑文化", "兰州市城关区白道沟坪", "黑彩绘旋纹四组，线条流畅，为马家窑类型典型器。"),
    ("半山类型彩陶葫芦网纹壶", None, "陶器", "泥质红陶", "彩绘", "高33.5厘米", "约公元前2600年", "新石器时代", "-2650", "-2300", "马家窑文化", "兰州市七里河区西果园", "腹部绘葫芦形网格纹，红黑相间锯齿纹镶边。"),
    ("马厂类型彩陶四大圆圈纹壶", None, "陶器", "泥质红陶", "彩绘", "高37.2厘米", "约公元前2200年", "新石器时代", "-2300", "-2000", "马家窑文化", "兰州市红古区", "腹部四个大圆圈内填网格纹。"),
    ("彩陶舞蹈纹盆（复制品）", "Painted basin with dancing figures (replica)", "陶器", "泥质红陶", "彩绘", "高14厘米，口径29厘米", "约公元前3000年", "新石器时代", "-3100", "-2700", "马家窑文化", "兰州市", "按原大复制，内壁绘三组舞蹈人物。"),
    ("彩陶蛙纹瓮", None, "陶器", "泥质红陶", "彩绘", "高41厘米", "约公元前2200年", "新石器时代", "-2300", "-2000", "马家窑文化", "永登县", "肩腹部绘变体蛙纹。"),
    ("齐家文化双大耳罐", None, "陶器", "泥质红陶", "手制", "高12.4厘米", "约公元前2000年", "新石器时代", "-2200", "-1600", "齐家文化", "永登县连城", "素面，双耳宽大。"),
    ("辛店文化彩陶双钩纹罐", None, "陶器", "夹砂红陶", "彩绘", "高19.8厘米", "约公元前1200年", "青铜时代", "-1400", "-700", "辛店文化", "榆中县", "颈腹绘双钩纹。"),
    ("青铜斧", None, "青铜器", "青铜", "铸造", "长10.5厘米，刃宽4.2厘米", "约公元前1800年", "青铜时代", "-2000", "-1600", "齐家文化", "兰州市西固区", "甘肃早期铜器之一。"),
    ("青铜镜", None, "青铜器", "青铜", "铸造", "直径11.6厘米", "西汉", "西汉", "-206", "8", None, "兰州市七里河区", "日光铭文镜，铭文清晰。"),
    ("铜博山炉", None, "青铜器", "青铜", "铸造", "高17.3厘米", "东汉", "东汉", "25", "220", None, "兰州市安宁区", "炉盖作博山形，层峦叠嶂。"),
    ("铜鎏金佛造像", None, "青铜器", "青铜", "鎏金", "高22厘米", "明代", "明", "1368", "1644", None, "永登县", "结跏趺坐，鎏金保存较好。"),
    ("铜熏炉", None, "青铜器", "青铜", "铸造", "高15.8厘米", "汉代", "汉", "-206", "220", None, "兰州市城关区", "盖镂空，器身素面。"),
    ("铜车马饰", None, "青铜器", "青铜", "铸造", "长6.2厘米", "战国", "战国", "-475", "-221", None, "榆中县", "车马器构件。"),
    ("东罗马金币（复制品）", "Byzantine gold solidus (replica)", "钱币", "金", "打压", "直径1.9厘米，重4.4克", "公元6世纪", "北朝至隋", "500", "600", None, "丝绸之路", "丝路贸易见证，按馆藏原件复制。"),
    ("波斯萨珊银币", "Sasanian silver drachm", "钱币", "银", "打压", "直径2.7厘米，重4.0克", "公元5世纪", "南北朝", "400", "500", None, "兰州市", "正面王像，背面拜火祭坛。"),
    ("唐代胡人牵驼俑", None, "陶俑", "陶", "彩绘", "高45厘米", "唐代", "唐", "618", "907", None, "兰州市", "胡人深目高鼻，牵驼而行。"),
    ("唐三彩骆驼", None, "陶俑", "陶", "三彩釉", "高61厘米", "唐代", "唐", "618", "907", None, "兰州市", "釉色明亮，驼峰间载货。"),
    ("丝绸残片", "Silk fragment", "丝织品", "丝", "织造", "长18厘米，宽9厘米", "唐代", "唐", "618", "907", None, "丝绸之路甘肃段", "联珠纹，色泽已褪。"),
    ("汉代木简", None, "简牍", "木", "墨书", "长23厘米，宽1.2厘米", "西汉", "西汉", "-206", "8", None, "河西走廊", "隶书墨迹，记戍卒廪食。"),
    ("驿使图画像砖（复制品）", None, "画像砖", "砖", "彩绘", "长35厘米，宽17厘米", "魏晋", "魏晋", "220", "420", None, "嘉峪关市", "一驿使骑马持檄疾驰。"),
    ("元代黄河渡口石碑拓片", None, "拓片", "纸", "拓印", "纵120厘米，横62厘米", "元代", "元", "1271", "1368", None, "兰州市", "记黄河渡口修缮事。"),
    ("清代羊皮筏子模型", None, "模型", "羊皮、木", "缝制", "长80厘米", "清代", "清", "1644", "1911", None, "兰州市城关区", "黄河传统渡河工具模型。"),
    ("兰州黄河铁桥铆钉", None, "近现代文物", "铁", "锻造", "长12厘米", "清宣统元年", "清", "1909", "1909", None, "兰州市城关区", "中山桥建桥时原件。"),
    ("兰州水车木构件", None, "近现代文物", "木", "榫卯", "长150厘米", "民国", "民国", "1912", "1949", None, "兰州市", "水车辐条构件。"),
    ("刻葫芦《丝路驼队》", None, "工艺品", "葫芦", "针刻", "高16厘米", "2015年", "当代", "2015", "2015", None, "兰州市", "兰州刻葫芦技艺，刻丝路驼队。"),
]


def lido_file():
    parts = ['<?xml version="1.0" encoding="UTF-8"?>',
             "<!-- 兰州市博物馆 精品文物 LIDO 导出。SAMPLE data: invented, for demonstration only. -->",
             '<lido:lidoWrap xmlns:lido="http://www.lido-schema.org" '
             'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">']
    for n, o in enumerate(LZM_LIDO, start=1):
        (zh, en, work, material, technique, size, display, period, earliest, latest, culture, place,
         description) = o
        oid = f"LZM-LIDO-{n:04d}"
        e = xml_escape
        out = ['  <lido:lido>',
               f'    <lido:lidoRecID lido:source="兰州市博物馆" lido:type="local">{oid}</lido:lidoRecID>',
               '    <lido:descriptiveMetadata xml:lang="zh">',
               '      <lido:objectClassificationWrap>',
               f'        <lido:objectWorkTypeWrap><lido:objectWorkType><lido:term>{e(work)}</lido:term></lido:objectWorkType></lido:objectWorkTypeWrap>',
               '        <lido:classificationWrap><lido:classification><lido:term>馆藏文物</lido:term></lido:classification></lido:classificationWrap>',
               '      </lido:objectClassificationWrap>',
               '      <lido:objectIdentificationWrap>',
               '        <lido:titleWrap><lido:titleSet>']
        if en:
            out.append(f'          <lido:appellationValue xml:lang="en">{e(en)}</lido:appellationValue>')
        out += [f'          <lido:appellationValue xml:lang="zh">{e(zh)}</lido:appellationValue>',
                '        </lido:titleSet></lido:titleWrap>',
                '        <lido:repositoryWrap><lido:repositorySet lido:type="current">',
                '          <lido:repositoryName><lido:legalBodyName><lido:appellationValue>兰州市博物馆</lido:appellationValue></lido:legalBodyName></lido:repositoryName>',
                f'          <lido:workID lido:type="inventory number">{oid}</lido:workID>',
                '        </lido:repositorySet></lido:repositoryWrap>',
                f'        <lido:objectDescriptionWrap><lido:objectDescriptionSet><lido:descriptiveNoteValue>{e(description + SAMPLE_NOTE)}</lido:descriptiveNoteValue></lido:objectDescriptionSet></lido:objectDescriptionWrap>',
                f'        <lido:objectMeasurementsWrap><lido:objectMeasurementsSet><lido:displayObjectMeasurements>{e(size)}</lido:displayObjectMeasurements></lido:objectMeasurementsSet></lido:objectMeasurementsWrap>',
                '      </lido:objectIdentificationWrap>',
                '      <lido:eventWrap><lido:eventSet><lido:event>',
                '        <lido:eventType><lido:term>production</lido:term></lido:eventType>']
        if culture:
            out.append(f'        <lido:culture><lido:term>{e(culture)}</lido:term></lido:culture>')
        out += ['        <lido:eventDate>',
                f'          <lido:displayDate>{e(display)}</lido:displayDate>',
                f'          <lido:date><lido:earliestDate>{earliest}</lido:earliestDate><lido:latestDate>{latest}</lido:latestDate></lido:date>',
                '        </lido:eventDate>',
                f'        <lido:periodName><lido:term>{e(period)}</lido:term></lido:periodName>',
                f'        <lido:eventPlace><lido:displayPlace>{e(place)}</lido:displayPlace></lido:eventPlace>',
                '        <lido:eventMaterialsTech><lido:materialsTech>',
                f'          <lido:termMaterialsTech lido:type="material"><lido:term>{e(material)}</lido:term></lido:termMaterialsTech>',
                f'          <lido:termMaterialsTech lido:type="technique"><lido:term>{e(technique)}</lido:term></lido:termMaterialsTech>',
                '        </lido:materialsTech></lido:eventMaterialsTech>',
                '      </lido:event></lido:eventSet></lido:eventWrap>',
                '    </lido:descriptiveMetadata>',
                '    <lido:administrativeMetadata xml:lang="zh">',
                f'      <lido:rightsWorkWrap><lido:rightsWorkSet><lido:creditLine>兰州市博物馆藏 {e(RIGHTS)}</lido:creditLine></lido:rightsWorkSet></lido:rightsWorkWrap>',
                f'      <lido:recordWrap><lido:recordID lido:type="local">{oid}</lido:recordID><lido:recordType><lido:term>item</lido:term></lido:recordType><lido:recordSource><lido:legalBodyName><lido:appellationValue>兰州市博物馆</lido:appellationValue></lido:legalBodyName></lido:recordSource><lido:recordInfoSet><lido:recordInfoLink>http://collection.lzmuseum.example.invalid/lido/{oid}</lido:recordInfoLink></lido:recordInfoSet></lido:recordWrap>',
                '    </lido:administrativeMetadata>',
                '  </lido:lido>']
        parts.append("\n".join(out))
    parts.append("</lido:lidoWrap>")
    return ("\n".join(parts) + "\n").encode("utf-8")


# GBK CSV export of 兰州画院's works; 作者 and 题材 hold several values separated by `；`.
LZHY_SUBJECTS = ["山水", "黄河", "花鸟", "人物", "丝路", "西部风情", "书法", "草原", "戈壁", "古城"]
LZHY_WORKS = [
    ("黄河远上白云间", "绘画", "纸本设色", "山水；黄河"), ("陇上秋色", "绘画", "纸本设色", "山水；西部风情"),
    ("大河之源", "绘画", "纸本水墨", "黄河；山水"), ("丝路驼铃", "绘画", "纸本设色", "丝路；人物"),
    ("敦煌飞天", "绘画", "纸本重彩", "人物；丝路"), ("祁连牧歌", "绘画", "纸本设色", "草原；人物"),
    ("金城春晓", "绘画", "纸本设色", "古城；花鸟"), ("戈壁胡杨", "绘画", "纸本水墨", "戈壁；山水"),
    ("行书《凉州词》", "书法", "纸本墨笔", "书法"), ("隶书“厚德载物”", "书法", "纸本墨笔", "书法"),
    ("草书毛泽东诗词", "书法", "纸本墨笔", "书法"), ("篆书对联", "书法", "洒金笺墨笔", "书法"),
    ("黄河铁桥旧影", "绘画", "布面油画", "黄河；古城"), ("五泉山雪霁", "绘画", "纸本设色", "山水；古城"),
    ("羊皮筏子", "绘画", "纸本水墨", "黄河；人物"), ("陇中梯田", "绘画", "布面油画", "西部风情；山水"),
    ("花儿会", "绘画", "纸本设色", "人物；西部风情"), ("雪域高原", "绘画", "纸本设色", "草原；山水"),
    ("牡丹图", "绘画", "纸本设色", "花鸟"), ("荷塘清趣", "绘画", "纸本水墨", "花鸟"),
    ("河西走廊长卷", "绘画", "纸本设色", "丝路；山水；戈壁"), ("嘉峪关晨曦", "绘画", "纸本设色", "古城；戈壁"),
    ("楷书《兰州赋》", "书法", "纸本墨笔", "书法；古城"), ("行草《黄河颂》", "书法", "纸本墨笔", "书法；黄河"),
    ("大漠孤烟", "绘画", "纸本水墨", "戈壁；丝路"), ("太平鼓舞", "绘画", "纸本设色", "人物；西部风情"),
    ("白塔山远眺", "绘画", "布面油画", "古城；黄河"), ("鸣沙山月牙泉", "绘画", "纸本设色", "山水；丝路"),
    ("百合花开", "绘画", "纸本设色", "花鸟"), ("黄河母亲", "绘画", "纸本水墨", "黄河；人物"),
]


def lzhy_csv():
    rng = random.Random(SEED + 104)
    header = ["作品编号", "作品名称", "作者", "创作年代", "类别", "材质", "尺寸", "题材", "简介", "版权说明"]
    rows = [header]
    for n, (title, kind, material, subjects) in enumerate(LZHY_WORKS, start=1):
        authors = [person(rng) for _ in range(rng.choice((1, 1, 1, 2, 3)))]
        year = rng.randint(1985, 2024)
        h, w = rng.randint(50, 240), rng.randint(40, 180)
        note = "合作" if len(authors) > 1 else ""
        rows.append([
            f"LZHY-{year}-{n:03d}", title, "；".join(authors), f"{year}年", kind, material,
            f"{h}厘米×{w}厘米", subjects,
            f"{'、'.join(authors)}{note}作品，以{subjects.split('；')[0]}为题材。{SAMPLE_NOTE}",
            RIGHTS,
        ])
    text = "\r\n".join(",".join(row) for row in rows) + "\r\n"
    assert '"' not in text and all(len(r) == len(header) for r in rows)
    assert not any("," in cell for row in rows for cell in row)
    return text.encode("gbk")


# JSON API of 兰州美术馆's online collection: 45 works, served paged by the demo crate.
LZART_API_THEMES = [("黄河", "山水"), ("丝路", "人物"), ("敦煌", "人物"), ("陇原", "山水"), ("金城", "风景"),
                    ("祁连", "山水"), ("高原", "风景"), ("西部", "风情")]
LZART_API_FORMS = [("国画", "纸本设色", "绘画"), ("油画", "布面油画", "绘画"), ("版画", "木刻版画", "绘画"),
                   ("水彩", "纸本水彩", "绘画"), ("书法", "纸本墨笔", "书法"), ("摄影", "银盐相纸", "照片")]
LZART_API_WORDS = ["晨曦", "秋韵", "春潮", "暮色", "长歌", "雪霁", "印象", "组画之一", "组画之二", "纪事", "新貌", "之夏"]


def lzart_works():
    rng = random.Random(SEED + 105)
    works, titles = [], set()
    while len(works) < 45:
        theme, subject = rng.choice(LZART_API_THEMES)
        form, medium, category = rng.choice(LZART_API_FORMS)
        title = f"{theme}{rng.choice(LZART_API_WORDS)}"
        if title in titles:
            continue
        titles.add(title)
        n = len(works) + 1
        year = rng.randint(1978, 2024)
        artists = [{"name": person(rng), "role": "作者"} for _ in range(rng.choice((1, 1, 2)))]
        works.append({
            "id": f"LZAM-W{n:04d}",
            "title": title,
            "artists": artists,
            "year": str(year),
            "category": category,
            "form": form,
            "medium": medium,
            "size": {"text": f"{rng.randint(40, 200)}厘米×{rng.randint(30, 150)}厘米"},
            "tags": [theme, subject, form],
            "intro": f"{form}作品，表现{theme}{subject}。{SAMPLE_NOTE}",
            "url": f"http://collection.lzart.example.invalid/works/LZAM-W{n:04d}",
            "rights": RIGHTS,
        })
    return works


# RSS 2.0 of 七里河区文化馆's events; times, venues and organisers as description lines.
QLH_EVENTS = [
    ("“七里河大讲堂”：黄河文化与兰州", "讲座", "2025年3月8日 14:30-16:30", "七里河区文化馆三楼报告厅"),
    ("秦腔经典唱段票友会", "演出", "2025年3月22日 19:00-21:00", "七里河区文化馆小剧场"),
    ("兰州太平鼓公益培训班（春季）", "培训", "2025年4月5日 09:00-11:30", "七里河区文化馆排练厅"),
    ("西果园镇社火展演", "演出", "2025年4月19日 10:00-12:00", "西果园镇文化广场"),
    ("剪纸艺术进社区", "活动", "2025年5月10日 15:00-17:00", "敦煌路街道综合文化站"),
    ("“花儿与少年”民歌演唱会", "演出", "2025年5月24日 19:30-21:30", "七里河区文化馆小剧场"),
    ("少儿书法公益课", "培训", "2025年6月7日 09:30-11:00", "七里河区文化馆书画室"),
    ("非遗传承人手工艺市集", "活动", "2025年6月14日 10:00-18:00", "小西湖公园"),
    ("摄影讲座：用镜头记录黄河", "讲座", "2025年7月12日 14:30-16:30", "七里河区文化馆三楼报告厅"),
    ("广场舞展演", "演出", "2025年8月2日 19:30-21:00", "七里河区体育公园"),
    ("兰州鼓子传承专场", "演出", "2025年9月13日 19:30-21:00", "七里河区文化馆小剧场"),
    ("“我们的节日·中秋”诗会", "活动", "2025年10月4日 19:00-20:30", "七里河区文化馆三楼报告厅"),
    ("群众美术作品展", "展览", "2025年10月18日 09:00-17:00", "七里河区文化馆一楼展厅"),
    ("刻葫芦技艺体验课", "培训", "2025年11月8日 14:00-16:00", "七里河区文化馆非遗工作室"),
    ("新春文艺晚会", "演出", "2026年1月24日 19:30-21:30", "七里河区文化馆小剧场"),
]


def rfc2822(day, hour):
    return day.strftime("%a, %d %b %Y ") + f"{hour:02d}:00:00 +0800"


def qlh_rss():
    items = []
    for n, (title, category, when, venue) in enumerate(QLH_EVENTS, start=1):
        ymd = when.split(" ")[0]
        y, rest = ymd.split("年")
        m, rest = rest.split("月")
        d = rest.rstrip("日")
        announced = dt.date(int(y), int(m), int(d)) - dt.timedelta(days=7)
        lines = [f"<p>活动时间：{when}</p>", f"<p>地点：{venue}</p>", "<p>主办单位：七里河区文化馆</p>"]
        if n % 4 == 1:
            lines.append(f"<p>报名链接：http://www.qlhwhg.example.invalid/signup/{n:03d}</p>")
        if n % 5 == 2:
            lines.append(f"<p>云直播：http://live.qlhwhg.example.invalid/room/{n:03d}</p>")
        lines.append(f"<p>{xml_escape(RIGHTS)}</p>")
        items.append("\n".join([
            "<item>",
            f"  <title>{xml_escape(title)}</title>",
            f"  <link>http://www.qlhwhg.example.invalid/events/{n:03d}</link>",
            f'  <guid isPermaLink="false">qlhwhg-event-{n:03d}</guid>',
            f"  <pubDate>{rfc2822(announced, 9)}</pubDate>",
            f"  <category>{category}</category>",
            "  <description><![CDATA[" + "".join(lines) + "]]></description>",
            "</item>",
        ]))
    rss = "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0">',
        "<channel>",
        "<title>七里河区文化馆 · 活动预告（示例数据）</title>",
        "<link>http://www.qlhwhg.example.invalid/</link>",
        f"<description>群众文化活动预告。{xml_escape(RIGHTS)}</description>",
        "<language>zh-cn</language>",
        *items,
        "</channel>",
        "</rss>",
    ])
    return (rss + "\n").encode("utf-8")


def file_sources():
    """name → bytes of every file under `files/`, in the order they are generated."""
    return {
        "ydlib_cnmarc.mrc": cnmarc_file(),
        "lzlib_marcxml.xml": marcxml_file(),
        "lzmuseum_lido.xml": lido_file(),
        "lzhy_works.csv": lzhy_csv(),
        "lzart_works.json": (json.dumps(lzart_works(), ensure_ascii=False, indent=1) + "\n").encode("utf-8"),
        "qlhculture_events.rss": qlh_rss(),
    }


def main():
    ap = argparse.ArgumentParser(description="Generate Jincheng's SAMPLE demo collections.")
    ap.add_argument("--out", default=HERE, help="directory to write into (default: demo/)")
    out_dir = ap.parse_args().out
    collections = {
        "lzlib": library("lzlib", 175, 3, SEED + 1, BOOK_TOPICS, "chi", special=True),
        "yzlib": library("yzlib", 90, 2, SEED + 2, YZ_TOPICS, "zh", special=False),
        "lzmuseum": museum("lzmuseum", 120, 3, SEED + 3),
        "lzart": art_gallery("lzart", 100, 2, SEED + 4),
        "lzculture": cultural_centre("lzculture", "兰州市文化馆", 80, 3, SEED + 5),
        "xgculture": cultural_centre("xgculture", "西固区文化馆", 40, 2, SEED + 6),
        "liancheng": township("liancheng", "永登县连城镇综合文化站", 24, 2, SEED + 7),
        "gslib": library("gslib", 40, 2, SEED + 8, GS_TOPICS, "chi", special=False),
        "gsmuseum": provincial_museum("gsmuseum", 30, 2, SEED + 9),
    }
    assert list(collections) == [i["id"] for i in INSTITUTIONS]
    os.makedirs(os.path.join(out_dir, "collections"), exist_ok=True)
    with open(os.path.join(out_dir, "institutions.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(INSTITUTIONS, f, ensure_ascii=False, indent=2)
        f.write("\n")
    total = 0
    for coll, records in collections.items():
        path = os.path.join(out_dir, "collections", f"{coll}.jsonl")
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            for r in records:
                f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")
        live = sum(not r["deleted"] for r in records)
        total += live
        print(f"{coll}: {len(records)} records ({live} live, {len(records) - live} deleted)")
    print(f"total live records: {total}")
    os.makedirs(os.path.join(out_dir, "files"), exist_ok=True)
    for name, data in file_sources().items():
        with open(os.path.join(out_dir, "files", name), "wb") as f:
            f.write(data)
        print(f"files/{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
