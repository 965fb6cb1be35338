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

A person is found (a) wherever a name the caller knows occurs, also with spaces between its
characters ("张　三"), and (b) after a role cue (当事人, 法定代表人, 负责人, 经营者, 驾驶人,
证人, 联系人 ...). After "cue：" (or a space, 为, 是, 系) the next word is the name unless it is
an organisation (ends in 公司, 店, 厂 ...) or already masked (张某某). After a cue with nothing
between, the word must start with a known surname, must not be a common word (当事人陈述,
当事人于), and must be followed by punctuation or a word that follows names (于, 在, 驾驶, 系
...). Names listed as 张三、李四 are all found.

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
# Common single surnames: a name after a cue with no colon must start with one of them.
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔"
    "向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌"
    "毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦"
    "麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩"
    "明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强"
    "帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓"
    "修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植"
    "衡富尧闭由"
)
_ROLE_CUES = (
    "机动车所有人", "实际经营者", "委托代理人", "法定代表人", "被检查人", "被询问人", "法人代表", "经营者",
    "负责人", "当事人", "驾驶人", "驾驶员", "代理人", "投诉人", "举报人", "申请人", "监护人", "投资人",
    "联系人", "收款人", "开户名", "曾用名", "违法行为人", "行为人", "证人", "车主", "户名", "姓名",
)  # fmt: skip
# Words that follow a name in running text: where an unpunctuated name ends.
_FOLLOW_WORDS = (
    "于", "在", "驾驶", "驾车", "酒后", "醉酒", "经营", "系", "是", "称", "的", "同志", "先生", "女士",
    "证实", "证明", "陈述", "签字", "签名", "等", "因", "未", "将", "对", "向", "与", "和", "及", "到",
    "从", "持", "使用", "无", "涉嫌", "违反", "违法", "擅自", "拒绝", "所", "已", "曾", "为", "作为",
    "担任", "现", "住", "家住", "户籍", "出生", "身份", "年龄", "男", "女", "个人", "本人", "提供",
    "承认", "表示", "供述", "自述", "均", "也", "即", "携带", "负责", "名下", "被", "应", "通过",
    "利用", "没有", "不", "主动", "当场", "开设", "开办", "开店", "任", "曾用名",
)  # fmt: skip
# Common words after a cue that start with a surname character (当事人陈述, 当事人于).
_NOT_NAMES = (
    "于", "向", "应", "和", "及", "由", "都", "来", "同", "有", "经", "陈述", "申辩", "申请", "申报",
    "明知", "明确", "全部", "全体", "成立", "成为", "高价", "连续", "严重", "单位", "车辆", "管理",
    "付款", "符合", "尚未", "解释", "支付", "信息", "相关", "国家", "初次", "展示", "常年", "曾经",
    "曾于", "曾因", "曾被", "曾多", "曾在", "曾有", "曾是", "任职", "任何", "时任", "时间", "方面",
    "安全", "安装", "包括", "金额", "卫生", "谈话", "施工", "路过", "公司", "商品", "商户", "原因",
    "原来", "位于", "权利", "强制", "盖章", "宣称", "居住", "通过", "提供", "万元", "余款", "余额",
)  # fmt: skip
_PLACEHOLDERS = frozenset({"无", "同上", "见上", "不详", "未知", "暂无", "本人", "匿名"})
_LOOSE_ORG_ENDINGS = frozenset("社所院站馆部队处行园场城吧厅摊档铺")
_ALREADY_MASKED = frozenset("某*×")
_NAME_SEPARATORS = frozenset(" .-'\u3000·•‧・･∙．")

_ORG_SUFFIXES = (
    "股份有限公司", "有限责任公司", "个人独资企业", "有限公司", "合伙企业", "分公司", "公司", "集团",
    "商行", "商店", "商场", "超市", "经营部", "门市部", "营业部", "服务部", "工作室", "事务所", "合作社",
    "联合社", "中心", "酒店", "饭店", "宾馆", "餐厅", "餐馆", "药店", "药房", "诊所", "卫生院", "医院",
    "学校", "幼儿园", "协会", "委员会", "支行", "分行", "银行", "局", "厂", "店",
)  # fmt: skip
# Where an organisation name cannot continue to the left: cues, verbs, particles.
_ORG_CUTS = (
    *_ROLE_CUES, "个体工商户", "个体户", "经营", "位于", "设立", "投资", "持有", "就职", "受雇", "供职",
    "入职", "注册", "登记", "名下", "下属", "所属", "旗下", "委托", "雇佣", "冒用", "的", "在", "系", "是",
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


def _alternation(words: Iterable[str]) -> str:
    return "|".join(sorted(map(re.escape, set(words)), key=len, reverse=True))


_CUE_RE = re.compile(
    rf"(?:{_alternation(_ROLE_CUES)})(?:姓名)?(?:\([^()]{{1,8}}\))?(?P<mark> *: *|为|是|系| +)?"
)
_RUN_RE = re.compile(rf"[{CJK}]{{1,40}}(?:·[{CJK}]{{1,20}}){{0,3}}")
_SPACED_RE = re.compile(rf"[{CJK}] {{1,2}}[{CJK}](?![{CJK}])")
_LATIN_NAME_RE = re.compile(r"[A-Z][a-z]+(?:[ .·-][A-Z][a-z]+)*")
_ORG_SUFFIX_RE = re.compile(_alternation(_ORG_SUFFIXES))
_ORG_RE = re.compile(rf"(?:[{CJK}A-Za-z0-9]|\([{CJK}]{{1,8}}\)){{1,40}}?(?P<suffix>{_ORG_SUFFIX_RE.pattern})")
_ORG_CUT_RE = re.compile(_alternation(_ORG_CUTS))

_PLACE_CHAR = rf"(?:(?![省市区县在住])[{CJK}])"
_PLACE = rf"(?>{_PLACE_CHAR}{{0,12}}?(?:{_STREET_UNITS}))"
_HOUSE = (
    rf"(?>[附第]?(?:[0-9]+|[A-Za-z]|[一二三四五六七八九十百零〇两]+)(?:[-之][0-9A-Za-z]+)*(?:{_HOUSE_UNITS}))"
)
_ADDRESS_RE = re.compile(
    rf"(?:(?<=[省市区县旗州盟:,;。、 (在住于至到])|^)(?:{_PLACE}){{1,4}}"
    rf"(?P<house>(?:{_PLACE}?{_HOUSE})+(?:[0-9]{{2,5}}(?![0-9]))?)?"
)
_ADDRESS_LABEL_RE = re.compile(rf"(?:{_alternation(_ADDRESS_LABELS)}):? *[{CJK}]{{0,20}}$")


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
    keep += 1 if separated or not _is_cjk(stripped[0]) else _surname_length(stripped)
    return name[:keep] + "".join(ch if ch in _NAME_SEPARATORS or ch.isspace() else MASK for ch in name[keep:])


def _is_cjk(char: str) -> bool:
    return re.fullmatch(f"[{CJK}]", char) is not None


def find_known_persons(text: str, names: Iterable[str]) -> Iterator[tuple[int, int]]:
    """Every occurrence of each name, also with one or two spaces between its characters."""
    for name in names:
        compact = "".join(name.split())
        if len(compact) >= 2:
            yield from (m.span() for m in re.finditer(" {0,2}".join(map(re.escape, compact)), text))


def find_cued_persons(text: str) -> Iterator[tuple[int, int]]:
    """Names after role cues (当事人：张三, 驾驶人李四驾驶, 证人王五、赵六); not 张某某."""
    for cue in _CUE_RE.finditer(text):
        position, labelled = cue.end(), cue.group("mark") is not None
        while (span := _name_at(text, position, labelled)) is not None:
            start, end = span
            if not _ALREADY_MASKED.intersection(text[start : end + 1]):  # 张某, and 欧阳 in 欧阳**
                yield span
            if text[end : end + 1] not in ("、", "和", "及", "与"):
                break
            position, labelled = end + 1, False


def _name_at(text: str, position: int, labelled: bool) -> tuple[int, int] | None:
    """The span of the person's name starting at ``position``, if one does."""
    if labelled and (latin := _LATIN_NAME_RE.match(text, position)):
        return latin.span()
    run_match = _RUN_RE.match(text, position)
    if run_match is None:
        return None
    run = run_match.group()
    for prefix in ("个体工商户", "个体户"):
        if run.startswith(prefix) and len(run) > len(prefix):
            position, run = position + len(prefix), run[len(prefix) :]
    if "·" in run or _ALREADY_MASKED.intersection(run):
        return position, position + len(run)
    if len(run) == 1:
        spaced = _SPACED_RE.match(text, position) if labelled else None
        return spaced.span() if spaced else None
    surname = 2 if run[:2] in COMPOUND_SURNAMES else 1 if run[0] in _SURNAMES else 0
    if not labelled and (surname == 0 or run.startswith(_NOT_NAMES)):
        return None
    if _is_organisation(run):  # 福州闽江贸易有限公司; but 张三的小吃店 starts with a name
        return _name_before_follow_word(position, run, surname) if surname else None
    if labelled:
        if run in _PLACEHOLDERS:
            return None
        if len(run) <= max(4, surname + 3):
            return position, position + len(run)
        if surname == 0:  # 福州市晋安区老王水产摊: a long run not starting with a surname
            return None
        return _name_before_follow_word(position, run, surname) or (position, position + surname + 2)
    return _name_before_follow_word(position, run, surname)


def _is_organisation(run: str) -> bool:
    """An organisation suffix after 2+ characters, or a looser one (出版社) in a long run."""
    return _ORG_SUFFIX_RE.search(run, 2) is not None or (
        len(run) >= 5 and not _LOOSE_ORG_ENDINGS.isdisjoint(run[3:])
    )


def _name_before_follow_word(position: int, run: str, surname: int) -> tuple[int, int] | None:
    """Surname + one or two characters, where the rest of the run starts with a follow word."""
    for length in (max(surname, 1) + 1, max(surname, 1) + 2):
        rest = run[length:]
        if len(run) >= length and (not rest or rest.startswith(_FOLLOW_WORDS)):
            return position, position + length
    return None


def find_organisations(text: str) -> Iterator[tuple[int, int, int]]:
    """Organisation names as ``(start, suffix_start, end)``, cut after the last cue or verb."""
    for match in _ORG_RE.finditer(text):
        suffix_start = match.start("suffix")
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
