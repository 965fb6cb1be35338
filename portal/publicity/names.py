"""Names in published texts: persons (shown by surname), organisations (kept) and places.

The publicity rule (LAW.md "Publicity and privacy"; FJ art. 8, GD art. 46) shows a natural
person by surname only, an organisation by its full name, and an address down to its district
or county. This module finds those three in free text; ``portal.publicity.masking`` combines
what it finds with the number-shaped data and decides what is finally masked. Functions here
take text already normalised by ``masking`` (full-width forms as ASCII, one character for one,
so every index is also an index in the original).

Persons. ``mask_person_name`` keeps the surname and replaces every other letter with ``*``;
separators (space, ``·``, ``.``, ``-``) stay so the name keeps its shape:

| name | shown | why |
| --- | --- | --- |
| 张三, 王小明 | 张*, 王** | the first character is the surname |
| 欧阳娜娜, 司马光 | 欧阳**, 司马* | compound surname, name of 3+ characters |
| 欧阳 | 欧* | two characters: surname + given name |
| 阿卜杜拉·买买提 | 阿***·*** | middle dot: first character only (1) |
| John Smith, 李Mike | J*** *****, 李**** | Latin letters: first character only (2) |
| 张*, 张某 | unchanged | already masked |

(1) The first segment of such a name (Uyghur, Kazakh, transliterated names) is the person's
own name, not a family name, so showing it would show the given name. (2) The order of family
and given name is unknown.

Where persons stand in a text is found by ``portal.publicity.persons``; the surnames and
role words it relies on are here, beside the rule that shows a name.

Organisations: a run of letters and digits ending in an organisation suffix (有限公司, 合作社,
中心, 局, 店, 厂 ...), cut after the last role cue, verb or particle inside it (张三经营的张三
小吃店 -> 张三小吃店), so a person before the name is not taken for part of it.

Places: the part of an address below the district or county -- street, village, number,
building, room -- starting after an administrative unit (省 市 区 县 旗 州 盟), a label or a
preposition. Without an address label (住址, 住所, 经营场所 ...) it must end in a house number,
so 五四路与东街交叉路口 (a place, not an address) stays.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

MASK = "*"
CJK = "\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002ebef"

COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 诸葛 上官 皇甫 东方 令狐 慕容 尉迟 长孙 宇文 司徒 夏侯 公孙 轩辕 端木 独孤 南宫 万俟 闻人"
    " 钟离 呼延 澹台 赫连 申屠 西门 太史 公冶 宗政 濮阳 淳于 单于 仲孙 百里 东郭 南门 羊舌 微生 梁丘"
    " 左丘 东门 第五 拓跋 完颜 纳兰 司空 司寇 亓官 巫马 谷梁 乐正 公羊 段干 漆雕 壤驷 公良 颛孙 鲜于"
    " 闾丘 公西 南荣 东里 叱干 贺兰 耶律".split()
)
# Common single surnames: a name found without a colon after a cue must start with one of them.
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔"
    "向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌"
    "毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦"
    "麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩"
    "明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强"
    "帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓"
    "修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植"
    "衡富尧闭由訾逄禤佴钭笪虢郗滑暴鄂昌凤酆傅萧贝贲洪钮荀羿汲邴糜松隗宓蓬韶蓟怀籍赖苍莘贡郦璩濮郏阎宦庾暨"
    "弘禄殳蔚夔厍融毋乜巢蒯竺桓"
)
ROLE_CUES = (
    "机动车所有人", "实际经营者", "委托代理人", "法定代表人", "被检查人", "被询问人", "法人代表", "经营者",
    "负责人", "当事人", "驾驶人", "驾驶员", "代理人", "投诉人", "举报人", "申请人", "监护人", "投资人",
    "联系人", "收款人", "开户名", "曾用名", "违法行为人", "行为人", "证人", "车主", "户名", "姓名",
)  # fmt: skip
_LOOSE_ORG_ENDINGS = frozenset("社所院站馆部队处园城吧厅摊档铺")
# Common words holding one of those characters: 全部 or 处罚 make no organisation.
_NOT_ORG_WORDS = re.compile("全部|内部|外部|局部|所得|场所|所有|所在|处罚|处理|到处|住院|部门|队员")
ALREADY_MASKED = frozenset("某*×")
_NAME_SEPARATORS = frozenset(" .-'\u3000·•‧・･∙．")

_ORG_SUFFIXES = (
    "股份有限公司", "有限责任公司", "个人独资企业", "有限公司", "合伙企业", "分公司", "公司", "集团",
    "商行", "商店", "商场", "超市", "经营部", "门市部", "营业部", "服务部", "工作室", "事务所", "合作社",
    "养殖场", "农场", "屠宰场", "市场", "车行",
    "联合社", "中心", "酒店", "饭店", "宾馆", "餐厅", "餐馆", "药店", "药房", "诊所", "卫生院", "医院",
    "学校", "小学", "中学", "大学", "学院", "幼儿园", "协会", "委员会", "支行", "分行", "银行", "局", "厂",
    "店",
)  # fmt: skip
# Where an organisation name cannot continue to the left: cues, verbs, particles.
_ORG_CUTS = (
    *ROLE_CUES, "个体工商户", "个体户", "经营", "位于", "设立", "投资", "持有", "就职", "受雇", "供职",
    "入职", "注册", "登记", "负责", "共同", "名下", "下属", "所属", "旗下", "委托", "雇佣", "冒用", "的",
    "在", "系", "是",
    "为", "与", "和", "及", "向", "对", "将", "被", "由", "从", "到", "至", "去", "进", "出", "回", "开",
    "租", "即", "其", "该", "本", "此", "给", "让", "把", "跟", "同", "请", "称", "说", "等", "任", "以",
)  # fmt: skip

_ADDRESS_LABELS = (
    "家庭住址", "现住址", "户籍地址", "户籍所在地", "户籍地", "居住地址", "居住地", "住所地", "经营场所",
    "经营地址", "经营地点", "联系地址", "通讯地址", "送达地址", "住址", "住所", "地址", "居住在", "住在",
    "家住", "现住", "住",
)  # fmt: skip
_STREET_UNITS = (
    "街道|大道|胡同|社区|小区|花园|公寓|大厦|大楼|广场|新村|村委会|居委会|工业区|开发区|工业园"
    "|镇|乡|村|路|街|巷|弄|里|组|苑|庄|湾|屯"
)
_HOUSE_UNITS = "号楼|号院|号|栋|幢|座|单元|室|楼|层|户|弄|巷|排|间|铺|组|区|#"


def alternation(words: Iterable[str]) -> str:
    return "|".join(sorted(map(re.escape, set(words)), key=len, reverse=True))


_ORG_SUFFIX_RE = re.compile(alternation(_ORG_SUFFIXES))
_ORG_RE = re.compile(rf"(?:[{CJK}A-Za-z0-9]|\([{CJK}]{{1,8}}\)){{1,40}}?(?P<suffix>{_ORG_SUFFIX_RE.pattern})")
_ORG_CUT_RE = re.compile(alternation(_ORG_CUTS))
_INSIDE = frozenset("内里中外前后门")

_PLACE_CHAR = rf"(?:(?![省市区县在住])[{CJK}])"
_PLACE = rf"(?>{_PLACE_CHAR}{{0,12}}?(?:{_STREET_UNITS}))"
_HOUSE = (
    rf"(?>[附第]?(?:[0-9]+|[A-Za-z]|[一二三四五六七八九十百零〇两]+)(?:[-之][0-9A-Za-z]+)*(?:{_HOUSE_UNITS}))"
)
_ADDRESS_RE = re.compile(
    rf"(?:(?<=[省市区县旗州盟:,;。、 (在住于至到])|^)(?:{_PLACE}){{1,4}}"
    rf"(?P<house>(?:{_PLACE}?{_HOUSE})+(?:[0-9]{{2,5}}(?![0-9]))?)?"
)
_ADDRESS_LABEL_RE = re.compile(rf"(?:{alternation(_ADDRESS_LABELS)}):? *[{CJK}]{{0,20}}$")


def _surname_length(name: str) -> int:
    """1, or 2 for a compound surname -- only when a given name of 1+ characters follows it."""
    return 2 if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES else 1


def mask_person_name(name: str) -> str:
    """The name as published: surname kept, every other letter masked (table in the module doc).

    Surrounding whitespace is kept. A name of fewer than two characters is returned as it is:
    it shows no more than the surname the rule allows.
    """
    stripped = name.strip()
    if len(stripped) < 2:
        return name
    keep = len(name) - len(name.lstrip())
    separated = not _NAME_SEPARATORS.isdisjoint(stripped)  # 阿卜杜拉·买买提, 张 三
    keep += 1 if separated or not is_cjk(stripped[0]) else _surname_length(stripped)
    return name[:keep] + "".join(ch if ch in _NAME_SEPARATORS or ch.isspace() else MASK for ch in name[keep:])


def is_cjk(char: str) -> bool:
    return re.fullmatch(f"[{CJK}]", char) is not None


def is_organisation(run: str) -> bool:
    """An organisation suffix after 2+ characters, or a looser one (出版社) in a long run,
    before any cue or verb that ends a name (焦大共同经营该店 is a person, then a shop)."""
    cut = _ORG_CUT_RE.search(run, 2)
    head = run[: cut.start()] if cut else run
    return _ORG_SUFFIX_RE.search(head, 2) is not None or (
        len(head) >= 5 and not _LOOSE_ORG_ENDINGS.isdisjoint(_NOT_ORG_WORDS.sub("", head[3:]))
    )


def find_organisations(text: str) -> Iterator[tuple[int, int, int]]:
    """Organisation names as ``(start, suffix_start, end)``, cut after the last cue or verb."""
    for match in _ORG_RE.finditer(text):
        suffix_start = match.start("suffix")
        if match.end() - suffix_start == 1 and text[match.end() : match.end() + 1] in _INSIDE:
            continue  # 在店内, 厂里: a place in a shop, not a shop's name
        start = match.start()
        for cut in _ORG_CUT_RE.finditer(text, start, suffix_start):
            start = cut.end()
        if suffix_start - start >= 2:
            yield start, suffix_start, match.end()


def find_addresses(text: str) -> Iterator[tuple[int, int]]:
    """The part of each address below district/county level (street, number, room)."""
    for match in _ADDRESS_RE.finditer(text):
        if match.group("house") or _ADDRESS_LABEL_RE.search(text, max(0, match.start() - 40), match.start()):
            yield match.span()
