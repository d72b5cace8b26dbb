"""Finding facility types and tiers by id, Chinese or English name, alias — as users write them."""

from __future__ import annotations

import pytest

from linli import StandardError
from linli.standards import Profile, load_profile, normalise_name


@pytest.fixture(scope="module")
def chongqing() -> Profile:
    return load_profile("chongqing-2019")


@pytest.fixture(scope="module")
def gb50180() -> Profile:
    return load_profile("gb50180-2018")


@pytest.mark.parametrize(
    "written",
    [
        "health_station",  # id
        "卫生服务站",  # the policy's name
        "社区卫生服务站",  # alias
        "卫生站",  # alias
        "Community Health Station",  # English, any case
        "ｈｅａｌｔｈ＿ｓｔａｔｉｏｎ",  # full-width letters and underscore
        " 卫生服务站 ",  # surrounding spaces
        "卫生\u3000服务站",  # ideographic space inside
        "卫生 服务 站",
    ],
)
def test_facility_by_any_name(chongqing: Profile, written: str) -> None:
    assert chongqing.facility(written).id == "health_station"


def test_full_width_brackets_match_half_width(gb50180: Profile) -> None:
    official = gb50180.facility("卫生服务中心（社区医院）")
    assert gb50180.facility("卫生服务中心(社区医院)") is official
    assert gb50180.facility("社区医院") is official
    assert official.id == "health_service_centre"


def test_same_words_mean_the_standard_s_own_type(chongqing: Profile, gb50180: Profile) -> None:
    # 卫生服务站 is the community home's station in Chongqing and GB 50180's 5-minute station.
    assert chongqing.facility("卫生服务站").id == "health_station"
    assert gb50180.facility("卫生服务站").id == "community_health_station"


def test_unknown_facility_suggests_the_closest(chongqing: Profile) -> None:
    with pytest.raises(
        StandardError,
        match=r"chongqing-2019: expected a facility type .*found '卫生所'.*closest: .*"
        r"卫生服务站 \(health_station\)",
    ):
        chongqing.facility("卫生所")


def test_misspelt_id_suggests_the_id(chongqing: Profile) -> None:
    with pytest.raises(StandardError, match=r"closest: 警务室 \(police_office\)"):
        chongqing.facility("polise_office")


def test_unknown_far_from_everything_lists_the_known_types(chongqing: Profile) -> None:
    with pytest.raises(StandardError, match=r"found 'xyz'.*known: 公共服务中心 .*菜店") as info:
        chongqing.facility("xyz")
    assert isinstance(info.value, ValueError)


def test_tier_by_id_name_or_alias(chongqing: Profile, gb50180: Profile) -> None:
    assert chongqing.tier("street_centre").name == "街道中心"
    assert chongqing.tier("社区家园").id == "community_home"
    assert chongqing.tier("社区综合服务中心").id == "community_home"
    assert gb50180.tier("15分钟生活圈").id == "circle_15_min"
    assert gb50180.tier("１５分钟生活圈").id == "circle_15_min"  # full-width digits


def test_unknown_tier_suggests_the_closest(chongqing: Profile) -> None:
    with pytest.raises(StandardError, match=r"expected a tier .*found '街道'.*closest: 街道中心"):
        chongqing.tier("街道")


def test_tier_of_a_facility(chongqing: Profile) -> None:
    assert chongqing.tier_of("菜店").id == "community_home"
    assert chongqing.tier_of("police_station").id == "street_centre"


def test_facility_types_in_tier_order(chongqing: Profile) -> None:
    types = chongqing.facility_types()
    assert [f.id for f in types[:7]] == list(chongqing.tiers[0].facility_ids())
    assert [f.id for f in types[7:]] == list(chongqing.tiers[1].facility_ids())


def test_normalise_name() -> None:
    assert normalise_name("卫生服务中心（社区医院）") == "卫生服务中心(社区医院)"
    assert normalise_name("Health_Station") == normalise_name("health station") == "healthstation"
    assert normalise_name("\u3000警务室 ") == "警务室"
