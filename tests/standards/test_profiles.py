"""The shipped profiles hold the policies' numbers, and every part of the schema loads."""

from __future__ import annotations

import re

import pytest

from linli.standards import (
    DEFAULT_PROFILE,
    FacilityType,
    Profile,
    Tier,
    available_profiles,
    load_profile,
)

CHONGQING_STREET_CENTRE = [
    "公共服务中心",
    "街道办事处",
    "派出所",
    "卫生服务中心",
    "老年服务中心",
    "街道文化中心",
    "全民健身活动中心",
]
CHONGQING_COMMUNITY_HOME = [
    "便民服务中心",
    "警务室",
    "日间照料中心",
    "多功能运动场",
    "卫生服务站",
    "社区文化活动室",
    "菜店",
]


@pytest.fixture(scope="module")
def chongqing() -> Profile:
    return load_profile("chongqing-2019")


@pytest.fixture(scope="module")
def gb50180() -> Profile:
    return load_profile("gb50180-2018")


# ---------------------------------------------------------------------------------------------
# Every shipped profile
# ---------------------------------------------------------------------------------------------


def test_the_two_profiles_are_shipped() -> None:
    assert available_profiles() == ["chongqing-2019", "gb50180-2018"]
    assert DEFAULT_PROFILE == "chongqing-2019"


@pytest.mark.parametrize("name", available_profiles())
def test_every_shipped_profile_loads_whole(name: str) -> None:
    p = load_profile(name)
    assert p.id == name
    assert p.title
    assert p.title_en
    assert p.source
    assert p.tiers
    assert p.population.persons_per_household > 0
    assert p.usable.max_floor_without_lift >= 1
    # Tiers run from the highest level down.
    minutes = [t.walk_min for t in p.tiers]
    assert minutes == sorted(minutes, reverse=True)
    assert all(t.facilities for t in p.tiers)


@pytest.mark.parametrize("name", available_profiles())
def test_facility_ids_are_unique_identifiers(name: str) -> None:
    ids = [f.id for f in load_profile(name).facility_types()]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", i) for i in ids)


@pytest.mark.parametrize("name", available_profiles())
def test_every_name_and_alias_finds_its_own_type(name: str) -> None:
    p = load_profile(name)
    for facility in p.facility_types():
        for label in facility.names():
            assert p.facility(label) is facility, label


@pytest.mark.parametrize("name", available_profiles())
def test_replaces_names_types_of_lower_tiers(name: str) -> None:
    p = load_profile(name)
    for i, tier in enumerate(p.tiers):
        lower = {f.id for t in p.tiers[i + 1 :] for f in t.facilities}
        for facility in tier.facilities:
            assert set(facility.replaces) <= lower
            assert tier.replaces_lower or not facility.replaces


# ---------------------------------------------------------------------------------------------
# chongqing-2019: the numbers of the policy
# ---------------------------------------------------------------------------------------------


def test_chongqing_tiers_hold_the_policy_numbers(chongqing: Profile) -> None:
    street, community = chongqing.tiers
    assert (street.id, street.name, community.id, community.name) == (
        "street_centre",
        "街道中心",
        "community_home",
        "社区家园",
    )
    # 街道中心规划服务人口为10万人，建筑面积不低于15000平方米 …「20分钟街道公共服务圈」
    assert street.population_served == (100_000, 100_000)
    assert street.population_min == street.population_max == 100_000
    assert street.min_floor_area_m2 == 15_000
    assert street.walk_min == 20
    # 社区人口规模为1.2万人，建筑面积不低于2700平方米 …「10分钟社区生活服务圈」
    assert community.population_served == (12_000, 12_000)
    assert community.min_floor_area_m2 == 2_700
    assert community.walk_min == 10
    # 新建52个标准化街道中心、392个社区家园
    assert (street.planned_new_count, community.planned_new_count) == (52, 392)


def test_chongqing_seven_facilities_each_with_the_exact_names(chongqing: Profile) -> None:
    street, community = chongqing.tiers
    assert [f.name for f in street.facilities] == CHONGQING_STREET_CENTRE
    assert [f.name for f in community.facilities] == CHONGQING_COMMUNITY_HOME
    assert all(f.required for f in chongqing.facility_types())
    assert len(chongqing.facility_types()) == 14


def test_chongqing_area_rules(chongqing: Profile) -> None:
    assert chongqing.built_area is not None
    assert chongqing.new_housing is not None
    # 每百户居民拥有综合服务设施面积不低于30平方米 (built-up areas, per community)
    assert chongqing.built_area.service_floor_area_m2_per_100_households == 30
    assert chongqing.built_area.applies_to_tier == "community_home"
    assert chongqing.built_area.required_floor_area_m2(4_000) == pytest.approx(1_200)
    # 开发建设单位必须按100户15平方米的标准无偿提供
    assert chongqing.new_housing.handover_floor_area_m2_per_100_households == 15
    assert chongqing.new_housing.handover_floor_area_m2(200) == pytest.approx(30)


def test_chongqing_coverage_and_population(chongqing: Profile) -> None:
    assert chongqing.coverage is not None
    assert chongqing.coverage.target_share == 1.0
    assert chongqing.coverage.target_year == 2020
    assert chongqing.population.persons_per_household == 2.45
    assert chongqing.population.floor_area_m2_per_person == pytest.approx(36.52)


def test_chongqing_street_centre_stands_in_for_community_facilities(chongqing: Profile) -> None:
    street = chongqing.tier("street_centre")
    assert street.replaces_lower
    assert "replaces_lower" in street.assumed  # the reply does not say so
    assert chongqing.facility("卫生服务中心").replaces == ("health_station",)
    assert chongqing.facility("派出所").replaces == ("police_office",)
    assert chongqing.facility("街道办事处").replaces == ()


def test_chongqing_colocation_has_the_four_kinds_of_the_policy(chongqing: Profile) -> None:
    rule = chongqing.colocation
    assert rule is not None
    # 引导相应层级的教育、交通、商业、游憩等设施相邻布局
    assert [c.name for c in rule.categories] == ["教育", "交通", "商业", "游憩"]
    assert rule.walk_min == 5
    assert "walk_min" in rule.assumed


def test_assumptions_are_listed(chongqing: Profile) -> None:
    marked = chongqing.assumptions()
    for key in (
        "tiers.street_centre.replaces_lower",
        "population.default_levels",
        "usable.max_floor_without_lift",
        "colocation.walk_min",
    ):
        assert key in marked
    # The policy's own numbers are not assumptions.
    assert not any(k.startswith(("built_area.", "new_housing.", "coverage.")) for k in marked)


# ---------------------------------------------------------------------------------------------
# gb50180-2018
# ---------------------------------------------------------------------------------------------


def test_gb50180_life_circles_and_block(gb50180: Profile) -> None:
    rows = [
        (t.id, t.name, t.population_served, t.walk_min, t.walk_distance_m) for t in gb50180.tiers
    ]
    assert rows == [
        ("circle_15_min", "十五分钟生活圈居住区", (50_000, 100_000), 15, (800, 1000)),
        ("circle_10_min", "十分钟生活圈居住区", (15_000, 25_000), 10, (500, 500)),
        ("circle_5_min", "五分钟生活圈居住区", (5_000, 12_000), 5, (300, 300)),
        ("residential_block", "居住街坊", (1_000, 3_000), 3, None),
    ]
    assert gb50180.tier("residential_block").assumed == ("walk_min",)
    assert gb50180.tier("circle_15_min").population_min == 50_000
    assert gb50180.tier("circle_15_min").population_max == 100_000


def test_gb50180_levels_do_not_replace_each_other(gb50180: Profile) -> None:
    assert not any(t.replaces_lower for t in gb50180.tiers)
    assert not any(f.replaces for f in gb50180.facility_types())


@pytest.mark.parametrize(
    ("tier", "names"),
    [
        (
            "circle_15_min",
            [
                "初中",
                "大型多功能运动场地",
                "卫生服务中心（社区医院）",
                "养老院",
                "老年养护院",
                "文化活动中心（含青少年、老年活动中心）",
                "社区服务中心（街道级）",
                "街道办事处",
                "司法所",
                "派出所",
            ],
        ),
        ("circle_10_min", ["小学", "中型多功能运动场地", "菜市场或生鲜超市"]),
        (
            "circle_5_min",
            [
                "社区服务站（含居委会、治安联防站、残疾人康复室）",
                "社区食堂",
                "文化活动站（含青少年活动站、老年活动站）",
                "小型多功能运动（球类）场地",
                "室外综合健身场地（含老年户外活动场地）",
                "幼儿园",
                "托儿所",
                "老年人日间照料中心（托老所）",
                "社区卫生服务站",
            ],
        ),
        ("residential_block", ["物业管理与服务", "儿童、老年人活动场地", "便利店（菜店、日杂等）"]),
    ],
)
def test_gb50180_facilities_by_level(gb50180: Profile, tier: str, names: list[str]) -> None:
    listed = [f.name for f in gb50180.tier(tier).facilities]
    for name in names:
        assert name in listed


def test_gb50180_has_no_floor_area_rules(gb50180: Profile) -> None:
    # The standard sets no m² per 100 households and no coverage target.
    assert gb50180.built_area is None
    assert gb50180.new_housing is None
    assert gb50180.coverage is None
    assert gb50180.colocation is not None


def test_gb50180_reuses_chongqing_walking(gb50180: Profile, chongqing: Profile) -> None:
    assert gb50180.walking == chongqing.walking


# ---------------------------------------------------------------------------------------------
# Helpers of the schema
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facility", "tags", "expected"),
    [
        ("health_station", {"amenity": "clinic"}, True),
        ("health_station", {"amenity": "doctors"}, True),
        ("health_station", {"amenity": "police"}, False),
        ("police_office", {"amenity": "police", "name": "解放碑警务室"}, True),
        ("vegetable_shop", {"amenity": "marketplace"}, True),
        ("vegetable_shop", {"shop": "greengrocer"}, True),
        ("community_culture_room", {"amenity": "community_centre"}, True),
        ("sports_court", {"leisure": "pitch", "sport": "basketball"}, True),
        ("sports_court", {}, False),
    ],
)
def test_osm_tags_identify_facilities(
    chongqing: Profile, facility: str, tags: dict[str, str], expected: bool
) -> None:
    assert chongqing.facility(facility).matches_osm(tags) is expected


def test_colocation_wildcard_matches_any_shop(chongqing: Profile) -> None:
    assert chongqing.colocation is not None
    commerce, transport = (
        next(c for c in chongqing.colocation.categories if c.id == kind)
        for kind in ("commerce", "transport")
    )
    assert commerce.matches_osm({"shop": "bakery"})
    assert not commerce.matches_osm({"highway": "bus_stop"})
    assert transport.matches_osm({"highway": "bus_stop"})
    assert transport.matches_osm({"railway": "subway_entrance"})


@pytest.mark.parametrize(
    ("floor", "lift", "basement", "usable"),
    [
        (1, False, None, True),
        (1, None, None, True),
        (2, False, None, False),
        (5, True, None, True),
        (3, None, None, None),  # lift unknown: the data cannot tell
        (-1, True, None, False),  # basements never count under chongqing-2019
        (1, False, True, False),  # a half-basement flagged as such
        (None, None, None, None),
    ],
)
def test_usable_rules(
    chongqing: Profile,
    floor: int | None,
    lift: bool | None,
    basement: bool | None,
    usable: bool | None,
) -> None:
    assert chongqing.usable.is_usable(floor=floor, lift=lift, basement=basement) is usable


def test_schema_objects_are_frozen(chongqing: Profile) -> None:
    tier = chongqing.tiers[0]
    assert isinstance(tier, Tier)
    assert isinstance(tier.facilities[0], FacilityType)
    with pytest.raises(AttributeError):
        tier.walk_min = 30  # type: ignore[misc]
