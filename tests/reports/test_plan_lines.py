"""The solver's lines in a plan's outputs: every level's count, proven bound and gap."""

from __future__ import annotations

import numpy as np

from linli.planning.two_tier import TOTAL_CENTRES, TwoTierPlan
from linli.reports.plan import solve_lines

NAMES = ["街道中心", "社区家园"]


def two_tier_result(**kw):
    # Three homes in a row; a community home reaches one neighbour, a street centre all.
    d = np.array([[1.0, 4.0, 9.0], [4.0, 1.0, 4.0], [9.0, 4.0, 1.0]])
    return TwoTierPlan.from_cost_matrices(
        d, d, weights=[5, 5, 5], street_capacity=100, community_capacity=100,
        street_walk_min=20, community_walk_min=5, **kw,
    ).solve(mip_gap=0.0)  # fmt: skip


def test_each_level_of_a_two_tier_plan_has_its_own_line():
    r = two_tier_result()
    assert r.status == "optimal"
    lines = solve_lines(r, NAMES)
    counts = r.details["count_objectives"]
    assert lines[0].startswith(f"街道中心 {counts[0]:,.0f} 处：已证明最优")
    assert lines[1].startswith(f"社区家园 {counts[1]:,.0f} 处：已证明最优")
    assert "差距 0.00%" in lines[1]
    assert lines[2].startswith("步行总时间")
    assert lines[-1].startswith("求解用时")
    assert len(lines) == 4


def test_a_level_left_open_shows_its_own_bound_and_gap():
    r = two_tier_result()
    stage = dict(r.details["stages"][1], objective=23.0, bound=21.0, gap=2 / 23,
                 status="time_limit")  # fmt: skip
    r.details["stages"][1] = stage
    lines = solve_lines(r, NAMES)
    assert "社区家园 23 处：达到时限（下界 21，差距 8.70%）" in lines[1]
    assert "time_limit (proven bound 21, gap 8.70%)" in lines[1]


def test_both_tiers_counted_alike_are_named_together():
    r = two_tier_result(count_objectives=TOTAL_CENTRES)
    lines = solve_lines(r, NAMES)
    assert lines[0].startswith("站点总数（街道中心、社区家园）")


def test_a_single_tier_result_is_one_line_and_the_time():
    r = two_tier_result()
    single = type(r)(
        objective=4.0, sites=r.sites, assignment=r.assignment, bound=3.0, gap=0.25,
        status="heuristic", seconds=1.5,
    )  # fmt: skip
    lines = solve_lines(single, ["社区家园"])
    assert lines == [
        "社区家园 4 处：启发式（下界 3，差距 25.00%） centres: 4, heuristic (proven bound 3, "
        "gap 25.00%)",
        "求解用时 solve time 1.5 s",
    ]


def test_a_stage_not_run_says_why():
    r = two_tier_result()
    r.details["stages"][-1] = dict(r.details["stages"][-1], model_status="not run: model too large")
    lines = solve_lines(r, NAMES)
    assert "未求解（模型过大" in lines[2]
    assert "not run: model too large" in lines[2]
    assert "下界" not in lines[2]  # a stage not run proves nothing
