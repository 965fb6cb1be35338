"""Person names as published: the surname, the given name masked (FJ art. 8; GD art. 46)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.publicity import COMPOUND_SURNAMES, mask_person_name, mask_text


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("张三", "张*"),
        ("王小明", "王**"),
        ("欧阳娜娜", "欧阳**"),
        ("司马光", "司马*"),
        ("诸葛亮", "诸葛*"),
        ("尉迟恭", "尉迟*"),
        ("欧阳", "欧*"),
        ("阿卜杜拉·买买提", "阿***·***"),
        ("买买提•艾力", "买**•**"),
        ("John Smith", "J*** *****"),
        ("Mary-Jane O'Neil", "M***-**** *'****"),
        ("李Mike", "李****"),
        (" 张三 ", " 张* "),
        ("张　三", "张　*"),
    ],
)
def test_mask_person_name_keeps_only_the_surname(name: str, shown: str) -> None:
    assert mask_person_name(name) == shown


@pytest.mark.parametrize("name", ["", "张", " ", "张*", "欧阳**"])
def test_names_showing_no_more_than_a_surname_are_returned_as_they_are(name: str) -> None:
    assert mask_person_name(name) == name


SINGLE = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖"
GIVEN = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=1, max_size=3)


@given(surname=st.sampled_from(sorted(COMPOUND_SURNAMES) + list(SINGLE)), given_name=GIVEN)
def test_a_chinese_name_is_never_returned_unchanged(surname: str, given_name: str) -> None:
    name = surname + given_name
    shown = mask_person_name(name)
    kept = len(surname) if len(name) >= 3 else 1
    assert shown != name
    assert len(shown) == len(name)
    assert shown[:kept] == name[:kept]
    assert set(shown[kept:]) == {"*"}


# Characters of real given names: a "given name" such as 集团 would make 王集团 an organisation.
GIVEN_NAME_CHARACTERS = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文辉鑫宇浩然子涵欣怡"


@given(
    surname=st.sampled_from(list(SINGLE)),
    given_name=st.text(alphabet=GIVEN_NAME_CHARACTERS, min_size=1, max_size=3),
    before=st.text(alphabet="，。；、 ", max_size=3),
    after=st.text(alphabet="，。；、 ", max_size=3),
)
def test_every_occurrence_of_a_known_person_is_masked(
    surname: str, given_name: str, before: str, after: str
) -> None:
    name = surname + given_name
    text = f"{before}{name}{after}经查属实{before}{name}{after}"
    masked = mask_text(text, known_persons=[name]).text
    assert name not in masked
    assert masked.count(mask_person_name(name)) == 2
