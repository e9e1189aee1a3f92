"""The report and `gankit serve` in a real headless browser (Debian's chromium and chromium-driver).

The report opens from disk with no console errors and shows its figures; in the playground a
latent slider changes the picture and picking class c, seed s and truncation psi shows exactly the
image ``gankit.load(run).sample(1, labels=c, seed=s, truncation=psi)`` gives (what the page is
for, whatever the CPU's arithmetic makes of a briefly trained model); on the toy page the sample
cloud moves toward the modes while the GAN trains; two picked samples interpolate. GANKIT_SCREENSHOTS=DIR saves what the
browser shows (docs/figures).
"""

import base64
import io
import os
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import gankit

from browser import console_errors, start_chrome
from gankit.data import TOY_DISTRIBUTIONS
from gankit.serve.toy import nearest_centre_distance
from gankit.report import write_report
from serve_support import Server, train_conditional, train_toy

pytestmark = [pytest.mark.slow, pytest.mark.browser]
COND_STEPS = 400  # the page is checked against the run's own sampling, not against the model's quality
SEEDS = (5, 8, 9)
WAIT_S = 240  # generous: the CI machine may be busy


@pytest.fixture(scope="module")
def driver():
    d = start_chrome(1280, 1000)
    yield d
    d.quit()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    return root, train_toy(root / "toy", steps=200), train_conditional(root / "cond", steps=COND_STEPS)


@pytest.fixture(scope="module")
def server(runs):
    s = Server(runs[0])
    yield s
    s.close()


def wait_for(driver, script: str, timeout: float = WAIT_S):
    """Poll a JavaScript expression until it is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script("return " + script)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {script}")


def screenshot(driver, name: str) -> None:
    folder = os.environ.get("GANKIT_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(folder) / name))


def open_page(driver, url: str) -> None:
    """Load ``url`` afresh: a URL that differs from the current one only by its #fragment would
    keep the page (and the settings an earlier test left in it)."""
    driver.get("about:blank")
    driver.get(url)


def shown_image(driver) -> np.ndarray:
    src = driver.find_element("id", "sample").get_attribute("src")
    return np.array(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))))


def settled(driver, version: int) -> int:
    """Wait until the page shows a newer picture than ``version`` and has nothing more in flight."""
    return int(wait_for(driver, "(function () { var img = document.getElementById('sample');"
                                f" var v = img ? Number(img.dataset.version || 0) : 0;"
                                f" return v > {version} && !gk.busy && !gk.again && v; }})()"))


def test_report_opens_from_disk(driver, runs, tmp_path):
    _, toy, cond = runs
    path = write_report([cond, toy], tmp_path / "report.html")
    driver.get(path.as_uri())
    wait_for(driver, "document.readyState === 'complete'")
    assert console_errors(driver) == []
    images = driver.execute_script("return Array.from(document.images).map(i => [i.alt, i.complete && i.naturalWidth])")
    assert len(images) >= 10
    assert all(width > 0 for _, width in images), images
    alts = {alt for alt, _ in images}
    assert {"training curves of all runs", "latent interpolation", "samples over the mode centres"} <= alts
    # the training slider shows the grid of the step it is moved to
    label = driver.find_element("css selector", "#frames-0 .step")
    assert label.text == f"step {COND_STEPS}"
    driver.execute_script("var s = document.querySelector('#frames-0 input'); s.value = 0;"
                          "s.dispatchEvent(new Event('input'));")
    assert label.text == f"step {COND_STEPS // 4}"
    visible = driver.execute_script("return Array.from(document.querySelectorAll('#frames-0 img.frame'))"
                                    ".filter(i => !i.hidden).map(i => i.dataset.step)")
    assert visible == [str(COND_STEPS // 4)]
    driver.execute_script("var s = document.querySelector('#frames-0 input'); s.value = s.max;"
                          "s.dispatchEvent(new Event('input'));")
    screenshot(driver, "report.png")


def test_playground_slider_changes_the_image_and_interpolates(driver, server):
    from selenium.webdriver.common.keys import Keys

    open_page(driver, server.url + "/#/run/cond")
    version = settled(driver, 0)
    before = shown_image(driver)
    slider = driver.find_element("id", "dir-0")
    slider.send_keys(*[Keys.ARROW_RIGHT] * 15)  # as a person moves it: +1.5 along the first direction
    assert float(slider.get_attribute("value")) == pytest.approx(1.5)
    version = settled(driver, version)
    assert not np.array_equal(before, shown_image(driver))
    # pick two samples and interpolate between them
    driver.find_element("id", "pick-a").click()
    seed_box = driver.find_element("id", "seed")
    seed_box.clear()
    seed_box.send_keys("7\n")
    settled(driver, version)
    driver.find_element("id", "pick-b").click()
    driver.find_element("id", "interpolate").click()
    width = wait_for(driver, "(function () { var s = document.getElementById('strip');"
                             " return !s.hidden && s.complete && s.naturalWidth; })()")
    assert width == 10 * (8 + 2) + 2  # ten 8x8 samples with 2-pixel gaps
    assert console_errors(driver) == []


def test_picking_class_c_shows_class_c(driver, server, runs):
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    run = gankit.load(runs[2])
    open_page(driver, server.url + "/#/run/cond")
    version = settled(driver, 0)
    picker = Select(driver.find_element("id", "control-y"))
    assert [o.get_attribute("value") for o in picker.options] == [str(c) for c in range(10)]
    truncation = driver.find_element("id", "truncation")
    truncation.send_keys(*[Keys.ARROW_LEFT] * 10)  # 1.0 -> 0.5: fidelity over diversity
    assert float(truncation.get_attribute("value")) == pytest.approx(0.5)
    version = settled(driver, version)
    order = [1, 2, 3, 4, 5, 6, 7, 8, 9, 0]  # every pick changes the class shown before
    for seed in SEEDS:
        seed_box = driver.find_element("id", "seed")
        seed_box.clear()
        seed_box.send_keys(str(seed) + "\n")
        version = settled(driver, version)
        assert driver.execute_script("return gk.setting.seed") == seed
        shown = {}
        for c in order:
            picker.select_by_value(str(c))
            version = settled(driver, version)
            assert driver.execute_script("return gk.setting.values.y") == c
            shown[c] = shown_image(driver)
            if seed == 5 and c == 3:
                screenshot(driver, "playground.png")
        # The page shows what the library samples for (class c, seed s, truncation 0.5), bit for bit.
        for c in order:
            expected = run.sample_array(1, seed=seed, labels=np.array([c]), truncation=0.5)[0, 0]
            np.testing.assert_array_equal(shown[c], expected, err_msg=f"class {c}, seed {seed}")
        # and the class matters: the ten classes of one seed give ten different images
        assert len({shown[c].tobytes() for c in order}) == 10
    assert console_errors(driver) == []


def test_toy_cloud_moves_toward_the_modes(driver, server):
    centres = TOY_DISTRIBUTIONS["ring8"].centers
    open_page(driver, server.url + "/#/toy")
    driver.find_element("id", "toy-start").click()
    early = wait_for(driver, "gk.toy && gk.toy.running && gk.toy.points.length && gk.toy")
    start_distance = nearest_centre_distance(np.asarray(early["points"]), centres)
    picture = driver.execute_script("return document.getElementById('toy').toDataURL()")
    late = wait_for(driver, "gk.toy && gk.toy.step >= 1000 && gk.toy", timeout=900)
    end_distance = nearest_centre_distance(np.asarray(late["points"]), centres)
    assert end_distance < 0.5 * start_distance, (early["step"], start_distance, late["step"], end_distance)
    assert driver.execute_script("return document.getElementById('toy').toDataURL()") != picture
    assert "training on ring8" in driver.find_element("id", "toy-status").text
    screenshot(driver, "toy.png")
    driver.find_element("id", "toy-stop").click()
    wait_for(driver, "gk.toy && gk.toy.running === false", timeout=60)
    assert console_errors(driver) == []
