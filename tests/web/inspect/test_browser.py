"""The inspect and dataset pages in headless Chromium (Playwright driving Debian's
/usr/bin/chromium) against the real app: upload a real photo and see its letter; analyse a
folder with two models side by side; query, relabel a sample in the grid and undo it; analyse
a video and read its timeline. Each test writes a screenshot to bench/results/screenshots/."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from fingerspell.export.bundle import Bundle
from fingerspell.home import default_bundle_dir

# Generous: under `make test -n 2` on a busy 2-core machine an image with two models can take
# seconds. Passing runs never wait for these; they only keep a slow machine from failing.
TIMEOUT = 180_000


@pytest.fixture(autouse=True, scope="module")
def patient_expect():
    """30 s instead of Playwright's 5 s for every expectation here, restored afterwards
    (`expect.set_options` is process-wide)."""
    expect.set_options(timeout=30_000)
    yield
    expect.set_options(timeout=5_000)


def test_upload_a_photo_and_see_its_letter(live_server, page, photos, screenshots):
    page.goto(live_server.url + "/inspect")
    expect(page.locator("#model option")).not_to_have_count(0)
    # The slider starts at the bundle's still-image threshold, the one `fingerspell predict` uses.
    threshold = Bundle.load(default_bundle_dir()).still.threshold
    expect(page.locator("#conf")).to_have_value(str(threshold))
    expect(page.locator("#conf-value")).to_have_text(f"{threshold:.2f}")
    page.set_input_files("#files", str(photos["B"][0]))
    expect(page.locator("#results tbody tr")).to_have_count(1, timeout=TIMEOUT)
    expect(page.locator("#results tbody td.letter").first).to_have_text("B")
    expect(page.locator("[data-role=letter]")).to_have_text("B", timeout=TIMEOUT)
    expect(page.locator(".bars .bar")).to_have_count(5)
    page.screenshot(path=str(screenshots / "inspect-photo.png"), full_page=True)
    # Nav bar links to the other pages.
    assert page.locator("nav.app-nav a").all_inner_texts() == ["Live", "Practice", "Inspect", "Datasets"]


def test_folder_analysed_with_two_models_side_by_side(live_server, page, photos, screenshots):
    page.goto(live_server.url + "/inspect")
    expect(page.locator("#compare option[value=second]")).to_have_count(1)
    page.select_option("#compare", "second")
    page.locator(".folder-list .folder[data-path=letters]").click()
    expect(page.locator("#crumbs")).to_contain_text("letters")
    total = 2 * len(photos["A"])  # the first two letter folders (A, B): enough to compare, quick
    page.fill("#limit", str(total))
    page.click("#analyse-folder")
    expect(page.locator("#status")).to_contain_text(f"finished: {total} of {total}", timeout=TIMEOUT)
    expect(page.locator("#results tbody tr")).to_have_count(total)
    expect(page.locator("#summary")).to_contain_text(f"right {total}/{total}")
    expect(page.locator("#summary")).to_contain_text(f"models agree on {total}/{total}")
    # Sort by confidence, highest first: the column reads in descending order.
    header = page.locator("#results th[data-key=conf]")
    header.click()
    header.click()
    values = [float(v) for v in page.locator("#results tbody tr td:nth-child(4)").all_inner_texts()]
    assert values == sorted(values, reverse=True)
    page.locator("#results tbody tr").first.click()
    expect(page.locator("canvas.detail-canvas")).to_have_count(2)
    # A threshold above every confidence: letters disappear without analysing again.
    page.locator("#conf").fill("1")
    expect(page.locator("#summary")).to_contain_text("right 0/")
    page.locator("#conf").fill("0.5")
    page.screenshot(path=str(screenshots / "inspect-compare.png"), full_page=True)


def test_query_relabel_in_the_grid_and_undo(live_server, page, screenshots):
    page.goto(live_server.url + "/datasets?name=mini")
    expect(page.locator("#query-total")).to_contain_text("18 samples")
    page.fill("#query", 'lable == "M"')
    page.press("#query", "Enter")
    expect(page.locator("#query-error")).to_contain_text("unknown field 'lable' at column 1 (did you mean 'label'?)")
    page.fill("#query", 'label in ("M", "N")')
    page.click("#run-query")
    expect(page.locator("#query-error")).to_have_text("")
    expect(page.locator("#query-total")).to_contain_text("6 samples")
    tile = page.locator('.tile[data-label="M"]').first
    sample_id = tile.get_attribute("data-id")
    tile.click()
    expect(page.locator('[data-fact="label"]')).to_have_text("M")
    page.select_option("#relabel-to", "N")
    page.fill("#reason", "an N, not an M")
    page.click("#relabel")
    fixed = page.locator(f'.tile[data-id="{sample_id}"]')
    expect(fixed).to_have_attribute("data-label", "N")
    expect(fixed.locator(".lab s")).to_have_text("M")  # the original label, struck through
    expect(page.locator('[data-fact="original label"]')).to_have_text("M")
    expect(page.locator("#sample-fixes li")).to_contain_text(["relabel N \u2013 an N, not an M"])
    page.screenshot(path=str(screenshots / "datasets-relabel.png"), full_page=True)
    page.locator("#sample-fixes button.undo").click()
    expect(fixed).to_have_attribute("data-label", "M")
    expect(fixed.locator(".lab s")).to_have_count(0)
    expect(page.locator("#sample-fixes li.undone")).to_have_count(1)


def test_video_timeline_and_spelled_text(live_server, page, photo_root, screenshots):
    page.goto(live_server.url + "/inspect")
    expect(page.locator("#compare option[value=second]")).to_have_count(1)
    page.select_option("#compare", "second")  # the same video spelled by a second bundle too
    page.set_input_files("#files", str(photo_root / "clips" / "lv.avi"))
    expect(page.locator("#spelled")).to_have_text("LV", timeout=TIMEOUT)
    expect(page.locator("#compare-spelled")).to_have_text("LV", timeout=TIMEOUT)
    expect(page.locator("#compare-name")).to_have_text("second")
    expect(page.locator("#compare-letters .letter-time")).to_have_count(2)
    compared = page.locator("#compare-timeline .seg[data-letter]")
    assert {compared.nth(i).get_attribute("data-letter") for i in range(compared.count())} == {"L", "V"}
    chips = page.locator("#letters .letter-time")
    expect(chips).to_have_count(2)
    letters = [chips.nth(i).get_attribute("data-letter") for i in range(2)]
    times = [float(chips.nth(i).get_attribute("data-time")) for i in range(2)]
    assert letters == ["L", "V"] and 0 <= times[0] < 1.0 <= times[1] < 1.4
    segments = page.locator("#timeline .seg[data-letter]")
    assert {segments.nth(i).get_attribute("data-letter") for i in range(segments.count())} == {"L", "V"}
    expect(page.locator("#video-summary")).to_contain_text(re.compile(r"60 of 60 frames"))
    page.screenshot(path=str(screenshots / "inspect-video.png"), full_page=True)


def test_check_report_and_export_from_the_page(live_server, page, inspect_home):
    page.goto(live_server.url + "/datasets?name=mini")
    page.click("#run-check")
    expect(page.locator("#check-status")).to_contain_text("no blocking problems", timeout=TIMEOUT)
    expect(page.locator('#check-result .count[data-kind="missing"] b')).to_have_text("0")
    page.click("#run-export")
    expect(page.locator("#export-result")).to_contain_text("wrote 18 images to " + str(inspect_home / "exports"),
                                                          timeout=TIMEOUT)
    page.select_option("#export-format", "yolo")
    page.click("#run-export")
    expect(page.locator("#export-error")).to_contain_text("has no boxes")
