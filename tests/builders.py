"""Case bodies and calendar tables shared by the tests of several packages."""

from __future__ import annotations

from portal.cases.intake import NewCase, NewParty, Officer
from tests.identities import ZHANGSAN

# An operator table for 2027 as `portal calendar load FILE` reads it. Illustrative: the real
# 2027 arrangement was not published when this was written; only its shape matters here.
TABLE_2027 = """\
# 2027 arrangement (test fixture)
year,date,kind,name
2027,2027-01-01,holiday,元旦
2027,2027-01-02,holiday,元旦
2027,2027-01-03,holiday,元旦
2027,2027-02-06,holiday,春节
2027,2027-02-07,holiday,春节
2027,2027-02-08,holiday,春节
2027,2027-02-09,holiday,春节
2027,2027-02-10,holiday,春节
2027,2027-02-11,holiday,春节
2027,2027-02-12,holiday,春节
2027,2027-02-20,workday,春节
"""


OFFICERS = (Officer("陈明", "35010020230017"), Officer("林芳", "35010020230024"))


def new_case(number: str = "榕市监处罚〔2026〕1号", *parties: NewParty) -> NewCase:
    return NewCase(number, "行政处罚", "销售超过保质期的食品", True, False,
                   parties or (ZHANGSAN.party,), OFFICERS)
