"""Why each site is needed: the closing check against a plain maximum flow (networkx)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from linli.planning.explain import closing_shortfall, only_reach


def reference_shortfall(
    demand: np.ndarray,
    site: np.ndarray,
    weights: np.ndarray,
    assignment: np.ndarray,
    capacity: np.ndarray,
    closed: int,
    movable: np.ndarray,
) -> float:
    """The whole plan as one flow network with ``closed`` shut: residents left over."""
    open_ = set(assignment[assignment >= 0].tolist()) | {closed}
    open_.discard(closed)
    g = nx.DiGraph()
    need = 0.0
    room = {j: float(capacity[j]) for j in open_}
    for i, w in enumerate(weights):
        if assignment[i] < 0:
            continue
        if not movable[i]:
            if assignment[i] in room:
                room[assignment[i]] -= w
            continue  # stays: its load is fixed (at the closed site it is simply gone)
        need += w
        g.add_edge("s", ("d", i), capacity=float(w))
        for j in site[demand == i]:
            if int(j) in open_:
                g.add_edge(("d", i), ("j", int(j)), capacity=float(w))
    for j, r in room.items():
        g.add_edge(("j", j), "t", capacity=max(r, 0.0))
    if "s" not in g or "t" not in g:
        return need
    return need - nx.maximum_flow_value(g, "s", "t")


def random_plan(seed: int) -> tuple[np.ndarray, ...]:
    """Homes and sites on a line; each home reaches the sites within a radius; a plan that
    assigns each home to a reachable open site (capacities at least its load)."""
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(5, 40)), int(rng.integers(3, 12))
    home_x, site_x = rng.uniform(0, 10, n), rng.uniform(0, 10, m)
    radius = rng.uniform(1.5, 4.0)
    near = np.abs(home_x[:, None] - site_x[None, :]) <= radius
    near[np.arange(n), np.abs(home_x[:, None] - site_x[None, :]).argmin(axis=1)] = True
    demand, site = np.nonzero(near)
    weights = np.round(rng.uniform(1, 30, n), 2)
    open_ = rng.random(m) < 0.7
    assignment = np.full(n, -1)
    for i in range(n):
        options = np.flatnonzero(near[i] & open_)
        if options.size:
            assignment[i] = rng.choice(options)
    load = np.bincount(assignment[assignment >= 0], weights=weights[assignment >= 0], minlength=m)
    capacity = np.maximum(load, 1.0) * rng.uniform(1.0, 1.6, m)
    movable = rng.random(n) < 0.85
    return demand, site, weights, assignment, capacity, movable, open_


@pytest.mark.parametrize("seed", range(40))
def test_closing_shortfall_matches_a_plain_maximum_flow(seed: int) -> None:
    demand, site, weights, assignment, capacity, movable, _ = random_plan(seed)
    check = np.unique(assignment[assignment >= 0])
    got = closing_shortfall(demand, site, weights, assignment, capacity, check, movable=movable)
    want = [
        reference_shortfall(demand, site, weights, assignment, capacity, int(j), movable)
        for j in check
    ]
    np.testing.assert_allclose(got, want, atol=0.05 * len(weights))
    assert np.all(got >= 0)


def test_some_random_plans_have_sites_needed_for_capacity_and_some_closable() -> None:
    shortfalls = []
    for seed in range(40):
        demand, site, weights, assignment, capacity, _movable, _ = random_plan(seed)
        check = np.unique(assignment[assignment >= 0])
        shortfalls.append(closing_shortfall(demand, site, weights, assignment, capacity, check))
    every = np.concatenate(shortfalls)
    assert (every > 1).any()
    assert (every == 0).any()


def test_a_site_whose_neighbours_are_full_far_away_is_needed() -> None:
    # A chain: home 0 reaches sites 0 and 1; home 1 reaches sites 1 and 2; home 2 only site 2.
    # Closing site 0 moves home 0 to site 1, which pushes home 1 to site 2, which is full
    # with home 2: the neighbourhood ring alone would look full, the whole chain decides.
    demand = np.array([0, 0, 1, 1, 2])
    site = np.array([0, 1, 1, 2, 2])
    weights = np.array([10.0, 10.0, 10.0])
    assignment = np.array([0, 1, 2])
    for room_at_2, expected in ((20.0, 0.0), (10.0, 10.0), (15.0, 5.0)):
        capacity = np.array([10.0, 10.0, room_at_2])
        got = closing_shortfall(demand, site, weights, assignment, capacity, np.array([0]))
        assert got.tolist() == [expected]


def test_residents_who_stay_keep_their_place() -> None:
    # Closing site 0, home 0 can go to site 1 only if home 1 moves on to site 2; held at
    # site 1 (an existing centre's residents), home 1 stays and site 1 is too full.
    demand, site = np.array([0, 0, 1, 1, 2]), np.array([0, 1, 1, 2, 2])
    weights, assignment = np.array([6.0, 6.0, 1.0]), np.array([0, 1, 2])
    capacity = np.full(3, 10.0)
    free = closing_shortfall(demand, site, weights, assignment, capacity, np.array([0]))
    held = closing_shortfall(
        demand, site, weights, assignment, capacity, np.array([0]),
        movable=np.array([True, False, True]),
    )  # fmt: skip
    assert free.tolist() == [0.0]
    assert held.tolist() == [2.0]


def test_only_reach_counts_residents_with_no_other_open_site() -> None:
    demand, site, weights, _assignment, _capacity, _, open_ = random_plan(3)
    chosen = np.flatnonzero(open_)
    got = only_reach(demand, site, weights, chosen, len(open_))
    for value, j in zip(got, chosen, strict=True):
        reachers = demand[site == j]
        alone = [i for i in reachers if np.sum(open_[site[demand == i]]) == 1]
        assert value == pytest.approx(weights[alone].sum())


def test_the_sites_table_says_which_reason_holds() -> None:
    import geopandas as gpd
    import pandas as pd
    import shapely

    from linli.reports.plan import _tier_rows
    from linli.standards import load_profile

    profile = load_profile("chongqing-2019")
    tier = profile.tier("community_home")  # 10 min, 12,000 residents
    # Homes 0 and 1 (8,000 each) reach sites 0 and 1; home 2 (500) reaches site 0 only;
    # site 2 stands with a street centre and serves no one.
    reach = pd.DataFrame(
        {"origin": [0, 0, 1, 1, 2], "destination": [0, 1, 0, 1, 0], "walk_min": [3.0] * 5}
    )
    weights = np.array([8_000.0, 8_000.0, 500.0])
    sites = gpd.GeoDataFrame(
        {"kind": ["new", "new", "new"]}, geometry=shapely.points([(0, 0), (1, 0), (2, 0)])
    )
    table = _tier_rows(
        tier, np.array([0, 1, 2]), np.array([0, 1, 0]), np.array([3.0, 3.0, 3.0]),
        weights=weights, sites=sites, profile=profile, reach=reach,
        street_sites=np.array([2]),
    )  # fmt: skip
    assert table["needed_for"].tolist() == ["reach", "capacity", "co-location"]
    assert table["only_reach"].tolist() == [500.0, 0.0, 0.0]
    # Closing site 1: 16,500 residents for the 12,000 places of site 0.
    assert table["closing_shortfall"].iloc[1] == pytest.approx(4_500.0)
    assert "4,500" in table["why"].iloc[1]
    # The least used new sites closed in turn: site 2 (no one), then site 1 (8,000).
    from linli.reports.plan import _trade_off

    cost = _trade_off(tier, table, reach, weights, None)
    assert cost["dropped"].tolist() == [0, 1, 2]
    assert cost["centres"].tolist() == [3, 2, 1]
    np.testing.assert_allclose(cost["served"], [16_500.0, 16_500.0, 12_000.0])
    np.testing.assert_allclose(cost["unserved"], [0.0, 0.0, 4_500.0])
    # With home 1 at 3,000, site 0 has room for it (11,500 of 12,000): site 1 could close.
    with_room = _tier_rows(
        tier, np.array([0, 1]), np.array([0, 1, 0]), np.array([3.0, 3.0, 3.0]),
        weights=np.array([8_000.0, 3_000.0, 500.0]), sites=sites, profile=profile, reach=reach,
    )  # fmt: skip
    assert with_room["needed_for"].tolist() == ["reach", "review"]
    assert with_room["closing_shortfall"].iloc[1] == 0.0


def test_the_report_says_what_sets_each_tiers_count_and_names_very_small_centres() -> None:
    import pandas as pd

    from linli.reports.plan import _site_charts, _utilisation_notes
    from linli.standards import load_profile

    profile = load_profile("chongqing-2019")
    sites = pd.DataFrame(
        {
            "site": [1, 2, 3, 4],
            "tier": ["street_centre", "street_centre", "community_home", "community_home"],
            "tier_name": ["街道中心", "街道中心", "社区家园", "社区家园"],
            "kind": ["new", "new", "new", "existing"],
            "residents": [30_000.0, 2_000.0, 11_000.0, 500.0],
            "needed_for": ["reach", "reach", "capacity", "existing"],
        }
    )
    sites["utilisation"] = sites["residents"] / sites["tier"].map(
        {"street_centre": 100_000.0, "community_home": 12_000.0}
    )
    street, community, small = _utilisation_notes(sites, profile)
    assert "街道中心 2 处，平均服务 16,000 人，为容量 100,000 的 16%" in street
    assert "20 分钟步行圈决定" in street
    assert "社区家园 2 处，平均服务 5,750 人，为容量 12,000 的 48%" in community
    sites.loc[3, "residents"] = 9_000.0  # (11,000 + 9,000) / 2 = 83 % of 12,000
    sites["utilisation"] = sites["residents"] / sites["tier"].map(
        {"street_centre": 100_000.0, "community_home": 12_000.0}
    )
    assert "容量（人口）决定" in _utilisation_notes(sites, profile)[1]
    sites.loc[3, "residents"] = 500.0
    sites.loc[3, "utilisation"] = 500.0 / 12_000.0
    # Only new centres are named: the existing one with 500 residents is kept as it is.
    assert small.startswith(
        "1 处新建站点服务人口不足其容量的 5%（街道中心 1 处共 2,000 人（6.2%））"
    )
    assert "街道中心 #2（2,000 人）" in small
    charts = _site_charts(sites, ["街道中心", "社区家园"])
    assert list(charts[0].categories) == ["现状保留", "可达性", "容量"]
    assert charts[0].series == {"街道中心": [0.0, 2.0, 0.0], "社区家园": [1.0, 0.0, 1.0]}
    assert [c.title for c in charts[1:]] == [
        "街道中心容量利用率（服务人口 ÷ 容量）",
        "社区家园容量利用率（服务人口 ÷ 容量）",
    ]


def reference_served(demand, site, weights, capacity, open_sites) -> float:  # type: ignore[no-untyped-def]
    """Residents a set of open sites serves at most, as one networkx flow."""
    g = nx.DiGraph()
    for i, w in enumerate(weights):
        g.add_edge("s", ("d", i), capacity=float(w))
        for j in site[demand == i]:
            if int(j) in open_sites:
                g.add_edge(("d", i), ("j", int(j)), capacity=float(w))
    for j in open_sites:
        g.add_edge(("j", int(j)), "t", capacity=float(capacity[j]))
    if "t" not in g:
        return 0.0
    return float(nx.maximum_flow_value(g, "s", "t"))


@pytest.mark.parametrize("seed", range(15))
def test_served_without_matches_a_plain_maximum_flow(seed: int) -> None:
    from linli.planning.explain import served_without

    demand, site, weights, _assignment, capacity, _, open_ = random_plan(seed)
    chosen = np.flatnonzero(open_)
    drop = np.random.default_rng(seed).permutation(chosen)
    counts = list(range(len(drop) + 1))
    got = served_without(demand, site, weights, capacity, chosen, drop, counts)
    want = [
        reference_served(demand, site, weights, capacity, set(drop[k:].tolist())) for k in counts
    ]
    np.testing.assert_allclose(got, want, atol=0.01 * len(weights))
    assert np.all(np.diff(got) <= 1e-9)  # closing sites never serves more
