"""The HTML report in a real browser: Debian's headless Chromium, driven by playwright.

CI installs ``chromium`` and ``fonts-noto-cjk`` (see .ci/run); playwright only drives that
browser (its own browser downloads are not used). Outside CI the test is skipped when Chromium
or playwright is absent; in CI (``CI`` set) it fails instead.
"""

from __future__ import annotations

import importlib.util
import io
import os
from pathlib import Path
from typing import Any

import pytest
from report_fixtures import sample_report

from linli.reports import write_report

CHROMIUM = Path(os.environ.get("LINLI_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HAVE_BROWSER = CHROMIUM.exists() and importlib.util.find_spec("playwright") is not None

browser = pytest.mark.skipif(
    not HAVE_BROWSER and "CI" not in os.environ,
    reason=f"needs {CHROMIUM} (apt-get install chromium fonts-noto-cjk) and playwright",
)

# Drawn into a canvas with the heading's font: a missing font draws every character as the
# same box (tofu), like the private-use character U+F8FF, so distinct glyphs prove a CJK font.
GLYPHS_JS = """
([font, chars]) => {
  const c = document.createElement('canvas'); c.width = 48; c.height = 48;
  const g = c.getContext('2d');
  return chars.map(ch => {
    g.clearRect(0, 0, 48, 48); g.font = font; g.fillStyle = '#000'; g.textBaseline = 'top';
    g.fillText(ch, 4, 4);
    const d = g.getImageData(0, 0, 48, 48).data;
    let s = ''; for (let i = 3; i < d.length; i += 4) s += d[i] > 127 ? '1' : '0';
    return s;
  });
}
"""


@pytest.fixture(scope="module")
def chromium() -> Any:
    if not HAVE_BROWSER:
        pytest.fail(
            f"CI must provide {CHROMIUM} and playwright: .ci/run installs chromium and "
            "fonts-noto-cjk, the dev extra installs playwright"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@browser
@pytest.mark.slow
def test_report_renders_map_and_chinese_text(chromium: Any, tmp_path: Path) -> None:
    from PIL import Image, ImageStat

    report = write_report(tmp_path / "report.html", **sample_report("zh"))
    page = chromium.new_page(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(report.as_uri())
    page.wait_for_load_state("load")

    # Nothing but the file itself is loaded: no CDN, no tiles, no fonts.
    assert requests == [report.as_uri()]

    # (a) the map is there, visible, with a real size, and draws features.
    first_map = page.locator("svg.linli-map").first
    assert first_map.is_visible()
    box = first_map.bounding_box()
    assert box is not None
    assert box["width"] > 600
    assert box["height"] > 200
    assert page.locator("svg.linli-map .feature").count() > 2000

    # (b) Chinese text renders with a CJK font, not as boxes.
    heading = page.locator("h1")
    assert heading.inner_text() == "渝中区邻里中心评估（示例）"
    session = page.context.new_cdp_session(page)
    session.send("DOM.enable")
    session.send("CSS.enable")
    root = session.send("DOM.getDocument")["root"]["nodeId"]
    h1 = session.send("DOM.querySelector", {"nodeId": root, "selector": "h1"})["nodeId"]
    fonts = session.send("CSS.getPlatformFontsForNode", {"nodeId": h1})["fonts"]
    cjk = [f for f in fonts if "CJK" in f["familyName"] or "Hei" in f["familyName"]]
    assert cjk, f"the heading was drawn with {fonts}, no CJK font"
    assert sum(f["glyphCount"] for f in cjk) >= 10  # 渝中区邻里中心评估（示例）, bar the Latin
    font = page.evaluate("getComputedStyle(document.querySelector('h1')).font")
    glyphs = page.evaluate(GLYPHS_JS, [font, ["邻", "里", "中", "心", "\uf8ff"]])
    assert len(set(glyphs[:4])) == 4, "CJK characters all draw the same shape: missing font"
    assert all(g != glyphs[4] for g in glyphs[:4]), "CJK characters draw as the missing glyph"
    assert all("1" in g for g in glyphs[:4])

    # The map's labels are Chinese too, inside the SVG.
    label = page.locator("svg.linli-map .legend-title").first
    assert label.inner_html() == "现有设施（示例）"

    # Screenshot (saved for people to look at) and the heading's pixels are not blank.
    png = page.screenshot(full_page=True)
    (tmp_path / "report.png").write_bytes(png)
    hb = heading.bounding_box()
    assert hb is not None
    shot = Image.open(io.BytesIO(png)).convert("L")
    crop = shot.crop(
        (int(hb["x"]), int(hb["y"]), int(hb["x"] + hb["width"]), int(hb["y"] + hb["height"]))
    )
    assert ImageStat.Stat(crop).stddev[0] > 20, "the heading's region of the screenshot is blank"
    map_crop = shot.crop(
        (int(box["x"]), int(box["y"]), int(box["x"] + box["width"]), int(box["y"] + box["height"]))
    )
    assert ImageStat.Stat(map_crop).stddev[0] > 10, "the map's region of the screenshot is blank"
    page.close()


@browser
@pytest.mark.slow
def test_report_tables_sort_and_layers_toggle(chromium: Any, tmp_path: Path) -> None:
    report = write_report(tmp_path / "report.html", **sample_report("zh"))
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(report.as_uri())

    table = page.locator("table.sortable").first
    header = table.locator("th", has_text="户数")
    header.locator("button").click()
    assert header.get_attribute("aria-sort") == "ascending"
    column = [th.inner_text() for th in table.locator("thead th").all()].index("户数")
    values = [
        int(v.replace(",", ""))
        for v in table.locator(f"tbody tr td:nth-child({column + 1})").all_inner_texts()
    ]
    assert values == sorted(values)
    header.locator("button").click()
    values = [
        int(v.replace(",", ""))
        for v in table.locator(f"tbody tr td:nth-child({column + 1})").all_inner_texts()
    ]
    assert values == sorted(values, reverse=True)

    toggle = page.locator("input[data-layer='map-1-layer-2']")
    toggle.uncheck()
    assert not page.locator("#map-1-layer-2").is_visible()
    toggle.check()
    assert page.locator("#map-1-layer-2").is_visible()
    assert errors == []
    page.close()
