"""``linli standards``: list the profiles, show one readably, print one raw, read the user's."""

from __future__ import annotations

from pathlib import Path

from profile_files import MINIMAL_PROFILE, shipped_data, write_data
from typer.testing import CliRunner

from linli.cli import app

runner = CliRunner()


def test_list_names_and_titles() -> None:
    result = runner.invoke(app, ["standards"])
    assert result.exit_code == 0, result.output
    for text in ("chongqing-2019", "(default)", "gb50180-2018", "街道中心", "居住街坊"):
        assert text in result.output, text


def test_show_chongqing_tiers_facilities_and_numbers() -> None:
    result = runner.invoke(app, ["standards", "chongqing-2019"])
    assert result.exit_code == 0, result.output
    out = result.output
    for text in (
        "重庆市主城区街道和社区综合服务中心",
        "街道中心",
        "street centre",
        "社区家园",
        "15,000",
        "2,700",
        "20 min",
        "10 min",
        "卫生服务站",
        "health_station",
        "菜店",
        "amenity=police",
        "speed_m_per_min",
        "service_floor_area_m2_per_100_households",
        "handover_floor_area_m2_per_100_households",
        "persons_per_household",
        "max_floor_without_lift",
        "* assumption",
    ):
        assert text in out, text
    # Shown as tables, not as the raw file.
    assert "[[tiers]]" not in out


def test_show_gb50180() -> None:
    result = runner.invoke(app, ["standards", "gb50180-2018"])
    assert result.exit_code == 0, result.output
    for text in ("十五分钟生活圈居住区", "居住街坊", "初中", "小学", "幼儿园", "△", "no"):
        assert text in result.output, text
    # No floor-area rules in this standard: those keys do not appear.
    assert "service_floor_area_m2_per_100_households" not in result.output


def test_raw_prints_the_file() -> None:
    result = runner.invoke(app, ["standards", "chongqing-2019", "--raw"])
    assert result.exit_code == 0, result.output
    assert "[[tiers]]" in result.output
    assert 'id = "chongqing-2019"' in result.output
    assert "每百户居民拥有综合服务设施面积" in result.output


def test_show_a_user_profile_file(tmp_path: Path) -> None:
    path = tmp_path / "my-town.toml"
    path.write_text(MINIMAL_PROFILE, encoding="utf-8")
    result = runner.invoke(app, ["standards", str(path)])
    assert result.exit_code == 0, result.output
    for text in ("某镇社区服务标准", "邻里中心", "社区诊所", "社区图书室 △", "8,000–10,000"):
        assert text in result.output, text


def test_invalid_user_profile_exits_2_and_names_the_key(tmp_path: Path) -> None:
    data = shipped_data()
    data["tiers"][0]["walk_min"] = -20
    path = write_data(tmp_path / "bad.toml", data)
    result = runner.invoke(app, ["standards", str(path)])
    assert result.exit_code == 2
    assert "[[tiers]][1].walk_min" in result.output
    assert "bad.toml" in result.output


def test_unknown_profile_name_exits_2() -> None:
    result = runner.invoke(app, ["standards", "shanghai-2016"])
    assert result.exit_code == 2
    assert "shanghai-2016" in result.output
    assert "gb50180-2018" in result.output
