"""Where persons are named in a published text, so that each one is masked.

LAW.md: every person named in a published text is masked, not only the party -- witnesses,
victims, relatives, officers, wherever the name stands (FJ art. 8; GD art. 46; PIPL art. 28).
Texts are normalised by ``portal.publicity.masking`` first (one character for one). A name is
found four ways, and each finding is the span of surname + given name:

1. **Known**: a name the caller knows (the party, ``named_persons``), wherever it occurs, also
   with spaces between its characters (张　三).
2. **After a role word**: 当事人, 证人, 受害人, 其妻, 执法人员, 店员, 经理 ... (``ROLE_CUES`` and
   ``MENTION_CUES``). After "cue：" (or a space, 为, 是, 系) the next word is the name unless
   it is an organisation or already masked (张某某). Straight after a cue the word must start
   with a surname, must not be a common word (当事人陈述, 当事人于), and the segmenter must
   not read that surname character as part of another word (当事人利用).
3. **By the segmenter** (``portal.publicity.segmenter``): a word it tags as a person's name
   (nr) that starts with a surname (张伟于2026年…, 殴打黄渤致其受伤), or a surname it reads
   alone followed by a name-like word (郑/国华).
4. **In lists**: the names beside a found one after 、, 和, 与, 及 (张三、李四和王五).

Where the given name ends is the hard part in unpunctuated Chinese (张三销售, 张伟于, 王秀英在).
It ends before a word that follows names (于, 在, 驾驶, 称 ...), else where the segmenter puts
a word boundary before a verb, particle or punctuation, else after two characters: when in
doubt a character too many is masked, never one too few.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from portal.publicity.names import (
    ALREADY_MASKED,
    CJK,
    COMPOUND_SURNAMES,
    ROLE_CUES,
    SURNAMES,
    alternation,
    is_cjk,
    is_organisation,
)
from portal.publicity.segmenter import FUNCTION_TAGS, NAME_TAGS, Tokens, segment

Span = tuple[int, int]

MENTION_CUES = (
    # witnesses, victims, complainants
    "见证人", "受害人", "被害人", "被侵权人", "消费者", "顾客", "购买人", "买受人", "出租人", "承租人",
    "房东", "邻居", "涉案人员", "参与人员", "违法人员", "同案人", "所有权人", "所有人", "产权人",
    "使用人",
    # relatives
    "之妻", "其妻", "妻子", "之夫", "其夫", "丈夫", "配偶", "之子", "其子", "儿子", "之女", "其女", "女儿",
    "父亲", "母亲", "其父", "其母", "哥哥", "弟弟", "姐姐", "妹妹", "其兄", "其弟", "其姐", "其妹", "之兄",
    "之弟", "之姐", "之妹", "儿媳", "女婿", "岳父", "岳母", "公公", "婆婆", "外甥", "侄子", "侄女", "表弟",
    "表哥", "表姐", "表妹", "祖父", "祖母", "爷爷", "奶奶", "外公", "外婆", "孙子", "孙女", "同事", "朋友",
    # officers
    "执法人员", "检查人员", "工作人员", "承办人", "审核人", "审批人", "经办人", "记录人", "询问人", "送达人",
    "签收人", "调查人", "民警", "交警", "辅警", "队员", "协管员",
    # staff and titles
    "员工", "职工", "工人", "店员", "厨师", "收银员", "司机", "保安", "管理员", "财务人员", "会计", "出纳",
    "律师", "医师", "医生", "护士", "药师", "校长", "店长", "店主", "老板娘", "老板", "船长", "业主",
    "股东", "总经理", "经理", "董事长", "董事", "监事", "主任", "厂长", "站长", "快递员", "学员", "教练",
    "实际控制人",
    # acts done to a person
    "殴打", "辱骂", "威胁", "恐吓", "打伤", "推搡", "骚扰", "骗取", "诈骗", "雇佣", "雇用", "指使",
)  # fmt: skip
CUE_WORDS = (*ROLE_CUES, *MENTION_CUES)

# Words that follow a name in running text: where an unpunctuated name ends.
_FOLLOW_WORDS = (
    "于", "在", "驾驶", "驾车", "酒后", "醉酒", "经营", "系", "是", "称", "的", "同志", "先生", "女士",
    "证实", "证明", "陈述", "签字", "签名", "等", "因", "未", "将", "对", "向", "与", "和", "及", "到",
    "从", "持", "使用", "无", "涉嫌", "违反", "违法", "擅自", "拒绝", "所", "已", "曾", "为", "作为",
    "担任", "现", "住", "家住", "户籍", "出生", "身份", "年龄", "男", "女", "个人", "本人", "提供",
    "承认", "表示", "供述", "自述", "均", "也", "即", "携带", "负责", "名下", "被", "应", "通过",
    "利用", "没有", "不", "主动", "当场", "开设", "开办", "开店", "任", "曾用名", "以", "致", "出具",
    "伙同",
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
# Words of enforcement texts the segmenter's dictionary tags as names (许可 is also a person).
_TAGGED_NOT_NAMES = frozenset({
    "许可", "许可证", "陈述", "童工", "林木", "通知书", "承重墙", "安全法", "岳父", "申报", "房屋内",
    "高达", "文明", "金额", "万元", "平安", "和平", "方便", "明确", "顾客",
})  # fmt: skip
# A last character the segmenter glued to a name (韩雪未, 谭晓在, 许晴称): never the given name's.
_GLUED = frozenset("于在称系将被把向从给让是的以未致等及和与也已曾因对")
_PLACE_UNITS = frozenset("省市区县镇乡村路街巷")
_GLUED_BEFORE = frozenset("由向给对被让把与和同人")
_PLACEHOLDERS = frozenset({"无", "同上", "见上", "不详", "未知", "暂无", "本人", "匿名"})
_LIST_JOINS = ("、", "和", "与", "及")
_NOT_SURNAME_TAGS = frozenset({"p", "c", "d", "u", "uj", "ul", "x", "m", "q", "r", "f"})

_CUE_RE = re.compile(
    rf"(?:{alternation(CUE_WORDS)})(?:姓名)?(?:\([^()]{{1,8}}\))?(?P<mark> *: *|为|是|系| +)?"
)
_RUN_RE = re.compile(rf"[{CJK}]{{1,40}}(?:·[{CJK}]{{1,20}}){{0,3}}")
_SPACED_RE = re.compile(rf"[{CJK}] {{1,2}}[{CJK}](?![{CJK}])")
_LATIN_NAME_RE = re.compile(r"[A-Z][a-z]+(?:[ .·-][A-Z][a-z]+)*")


def find_known_persons(text: str, names: Iterable[str]) -> Iterator[Span]:
    """Every occurrence of each name, also with one or two spaces between its characters."""
    for name in names:
        compact = "".join(name.split())
        if len(compact) >= 2:
            yield from (m.span() for m in re.finditer(" {0,2}".join(map(re.escape, compact)), text))


def find_persons(text: str) -> list[Span]:
    """Names after role words, tagged by the segmenter, and listed beside those (module doc)."""
    tokens = segment(text, CUE_WORDS)
    found: list[Span] = []
    for cue in _CUE_RE.finditer(text):
        found += _listed(text, tokens, _name_at(text, tokens, cue.end(), cue.group("mark") is not None))
    for span in _tagged(text, tokens):
        if not _overlaps(span, found):
            found += _listed(text, tokens, span)
    for start, _ in list(found):
        if text[start - 1 : start] == "、" and (before := _name_ending(text, tokens, start - 1)):
            found.append(before)
    return [span for span in found if not ALREADY_MASKED.intersection(text[span[0] : span[1] + 1])]


def _listed(text: str, tokens: Tokens, span: Span | None) -> list[Span]:
    """``span`` and the names listed after it (张三、李四和王五)."""
    spans: list[Span] = []
    while span is not None:
        spans.append(span)
        join = next((j for j in _LIST_JOINS if text.startswith(j, span[1])), None)
        span = _name_at(text, tokens, span[1] + len(join), False) if join else None
    return spans


def _overlaps(span: Span, spans: Iterable[Span]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in spans)


def _surname_at(text: str, position: int) -> int:
    """The length of the surname starting at ``position``: 2, 1, or 0 for none."""
    if text[position : position + 2] in COMPOUND_SURNAMES:
        return 2
    return 1 if text[position : position + 1] in SURNAMES else 0


def _name_at(text: str, tokens: Tokens, position: int, labelled: bool) -> Span | None:
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
    if "·" in run or ALREADY_MASKED.intersection(run):
        return position, position + len(run)
    if len(run) == 1:
        spaced = _SPACED_RE.match(text, position) if labelled else None
        return spaced.span() if spaced else None
    surname = _surname_at(text, position)
    if not labelled and surname == 0 and (named := tokens.at(position)) is not None and (
        named.tag in NAME_TAGS and 2 <= len(named.word) <= 3 and named.word not in _TAGGED_NOT_NAMES
    ):
        return position, named.end  # 当事人妙玉: a name the segmenter knows, without a surname
    if not labelled and (surname == 0 or _common_word(run, tokens, position)):
        return None
    if is_organisation(run):  # 福州闽江贸易有限公司; but 张三的小吃店 starts with a name
        return _name_before_follow_word(position, run, surname) if surname else None
    if labelled:
        if run in _PLACEHOLDERS:
            return None
        if len(run) <= max(4, surname + 3):
            return position, position + len(run)
        if surname == 0:  # 福州市晋安区老王水产摊: a long run not starting with a surname
            return None
        return (_name_before_follow_word(position, run, surname)
                or _name_by_tokens(text, tokens, position, surname, cued=True)
                or (position, position + surname + 2))
    return (_name_before_follow_word(position, run, surname)
            or _name_by_tokens(text, tokens, position, surname, cued=True))


def _common_word(run: str, tokens: Tokens, position: int) -> bool:
    """``run`` starts with a common word (当事人陈述), not with a name (于洋, 向华)."""
    word = next((w for w in _NOT_NAMES if run.startswith(w)), None)
    return word is not None and (len(word) > 1 or not _read_as_name(tokens, position))


def _read_as_name(tokens: Tokens, position: int) -> bool:
    """The segmenter reads a name (向华/nr) or a word (于洋/ns) where a particle could start."""
    token = tokens.at(position)
    return token is not None and len(token.word) in (2, 3) and token.tag in NAME_TAGS | {"ns"}


def _name_before_follow_word(position: int, run: str, surname: int) -> Span | None:
    """Surname + one or two characters, where the rest of the run starts with a follow word."""
    for length in (max(surname, 1) + 1, max(surname, 1) + 2):
        rest = run[length:]
        if len(run) >= length and (not rest or rest.startswith(_FOLLOW_WORDS)):
            return position, position + length
    return None


def _name_by_tokens(text: str, tokens: Tokens, start: int, surname: int, *, cued: bool) -> Span | None:
    """Surname + given name starting at ``start``, as the segmenter's words show it."""
    first = tokens.at(start)
    if first is None:  # the surname character ends another word
        return None
    size = len(first.word)
    if first.tag in NAME_TAGS and size > surname:
        end = min(first.end, start + surname + 2)
        if end - start == surname + 2 and text[end - 1] in _GLUED:  # 韩雪未, 谭晓在
            end -= 1
        elif cued and size == surname + 1 and _single_given(tokens, first.end):  # 林子/nr 豪/n
            end += 1
        return start, end
    if size == surname and (cued or surname == 2 or first.tag not in _NOT_SURNAME_TAGS):
        return _given_name(text, tokens, start, first.end, cued=cued)
    if cued and size == surname + 1 and first.tag not in (FUNCTION_TAGS - {"m"}) | {"n"}:  # 梁国/ns 栋
        return start, first.end + 1 if _single_given(tokens, first.end) else first.end
    return None


def _single_given(tokens: Tokens, position: int) -> bool:
    """One more character of a given name at ``position``: a word of one name-like character."""
    after = tokens.at(position)
    return (after is not None and len(after.word) == 1 and _could_be_given(after.word, after.tag)
            and after.tag not in FUNCTION_TAGS)


def _given_name(text: str, tokens: Tokens, start: int, position: int, *, cued: bool) -> Span | None:
    """The given name after a surname read alone (王/秀英, 曾/凡, 郑/国华)."""
    first = tokens.at(position)
    if first is None or not is_cjk(text[position]):
        return None
    if len(first.word) == 2:
        named = first.tag in NAME_TAGS or first.tag == "nz"
        if named or (cued and first.tag not in FUNCTION_TAGS and not first.word.startswith(_FOLLOW_WORDS)):
            return start, first.end
        return None
    if len(first.word) == 1 and cued and _could_be_given(first.word, "g"):
        return start, first.end + 1 if _single_given(tokens, first.end) else first.end
    return None


def _could_be_given(char: str, tag: str) -> bool:
    return is_cjk(char) and char not in _GLUED and char not in ALREADY_MASKED and tag != "x"


def _tagged(text: str, tokens: Tokens) -> Iterator[Span]:
    """Names the segmenter tags, and surnames it reads alone before a name-like word."""
    for token in tokens:
        start = token.start
        if token.tag in NAME_TAGS and len(token.word) >= 3 and token.word[0] in _GLUED_BEFORE:
            start += 1  # 由马丽 负责: a preposition glued to the name
        surname = _surname_at(text, start)
        if not surname or token.word in _TAGGED_NOT_NAMES or (
            start == token.start and _common_word(token.word, tokens, start)
        ):
            continue
        if token.tag not in NAME_TAGS and (len(token.word) != surname or (
                surname == 1 and token.tag in _NOT_SURNAME_TAGS)):
            continue  # 元/m 的: a surname character read as another word
        run = _RUN_RE.match(text, start)
        trusted = token.tag in NAME_TAGS or surname == 2  # not 时/n 发现: ends at a follow word
        follow = _name_before_follow_word(start, run.group(), surname) if run and trusted else None
        if run is None or is_organisation(run.group()):
            span = follow  # 王老吉饮料经销部: a name only where a follow word ends it
        elif start != token.start:  # the rest of the word is the name (同周瑞 -> 周瑞)
            span = follow or (start, min(token.end, start + surname + 2))
        else:
            span = follow or _name_by_tokens(text, tokens, start, surname, cued=False)
        after = tokens.at(span[1]) if span is not None else None
        if span is None or text[span[0] : span[1]] in _TAGGED_NOT_NAMES or (
            (after is not None and after.word in _PLACE_UNITS)  # 丰泽/区: a place
            or (len(token.word) >= 3 and token.word[-1] in _PLACE_UNITS)  # 丰泽区/nr
        ):
            continue
        yield span


def _name_ending(text: str, tokens: Tokens, end: int) -> Span | None:
    """A name of two or three characters ending at ``end`` before a listed one (申明、欧杰)."""
    for size in (3, 2):
        start = end - size
        if start >= 0 and tokens.at(start) is not None and _surname_at(text, start) and all(
            is_cjk(char) for char in text[start:end]
        ):
            token = tokens.at(start)
            if token is not None and token.tag not in FUNCTION_TAGS - {"v", "vn", "a", "l", "i"}:
                return start, end
    return None
