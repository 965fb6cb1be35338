"""The province's own platform regulation, as pages and documents cite it (``PORTAL_PROVINCE``).

A party in Fujian reads Fujian's rule and never Guangdong's: everything that cites
the provincial regulation takes it from ``regulation(province)``. Names and articles are the
official ones (``seeds/``): Fujian Order No. 242 (2024), Guangdong Yue-Fu [2023] 73.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Regulation:
    """One province's platform regulation. ``e_service``: the article on electronic service
    with consent and the service time; ``e_seal``: on electronic seals and signatures;
    ``publicity``: on the publicity window (60 days to 2 years), where it sets one;
    ``data_objection``: on correcting enforcement data and handling objections to it."""

    title: str
    issued_as: str
    platform: str
    e_service: str
    e_seal: str
    publicity: str | None
    data_objection: str

    def cite(self, article: str) -> str:
        return f"{self.title}{article}"


REGULATIONS: dict[str, Regulation] = {
    "fujian": Regulation(
        title="《福建省一体化大融合行政执法平台管理暂行办法》", issued_as="福建省人民政府令第242号",
        platform="闽执法", e_service="第十九条", e_seal="第十八条", publicity="第二十一条",
        data_objection="第十五条"),
    "guangdong": Regulation(
        title="《广东省一体化行政执法平台管理办法》", issued_as="粤府〔2023〕73号",
        platform="粤执法", e_service="第三十条", e_seal="第二十七条、第二十八条", publicity=None,
        data_objection="第四十九条"),
}


def regulation(province: str) -> Regulation:
    return REGULATIONS[province]
