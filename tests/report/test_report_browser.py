"""The HTML report rendered by a real headless Chromium (Debian's ``chromium`` + ``chromium-driver``,
driven by selenium): the screenshot is not blank, the figure loads, and the neuron table sorts.

``.ci/run`` installs chromium when it is missing; this test skips, saying why, only when no
chromium or chromedriver is on the machine or selenium is not installed.
"""

from __future__ import annotations

import io
import shutil

import numpy as np
import pytest

import wedgenet as wn
from wedgenet.datasets import make_spiral
from wedgenet.report import write_report

webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (the test extra)")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="needs Debian's chromium and chromium-driver (apt-get install -y chromium chromium-driver; .ci/run does)")

FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
         "--window-size=1200,1600"]


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for f in FLAGS:
        opts.add_argument(f)
    try:
        drv = webdriver.Chrome(options=opts, service=Service(executable_path=DRIVER))
    except Exception as exc:  # noqa: BLE001 - re-raised below unless the address space is capped
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:  # chromium reserves far more address space than it uses
            pytest.skip(f"chromium cannot start under an address-space limit (ulimit -v {soft // 1024}): {exc}")
        raise
    drv.set_page_load_timeout(60)
    yield drv
    drv.quit()


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    X, y = make_spiral(40, turns=1.0)
    net = wn.fit(X, y, lam=0.1, reg="l1", bias=True)
    path = write_report(net, tmp_path_factory.mktemp("report") / "report.html", X, y, feature_names=["u", "v"])
    return net, path


def _column(drv, k: int) -> list[float]:
    from selenium.webdriver.common.by import By

    rows = drv.find_elements(By.CSS_SELECTOR, "#neuron-table tbody tr")
    return [float(r.find_elements(By.TAG_NAME, "td")[k].get_attribute("data-v")) for r in rows]


def test_renders_and_sorts(browser, report):
    from PIL import Image
    from selenium.webdriver.common.by import By

    net, path = report
    browser.get(path.as_uri())
    assert "wedgenet report" in browser.title
    # the inline figure decoded
    assert browser.execute_script("var i = document.querySelector('figure img'); return i.complete && i.naturalWidth")
    shot = np.asarray(Image.open(io.BytesIO(browser.get_screenshot_as_png())).convert("RGB"), dtype=np.float64)
    assert shot.shape[0] > 500 and shot.shape[1] > 500
    nonwhite = np.mean(np.any(shot < 240, axis=2))
    colours = len(np.unique(shot.reshape(-1, 3)[::7], axis=0))
    assert nonwhite > 0.05 and colours > 50, f"blank-looking page: {nonwhite:.3f} non-white, {colours} colours"

    headers = browser.find_elements(By.CSS_SELECTOR, "#neuron-table thead th")
    names = [h.text.strip() for h in headers]
    k_abs, k_nrn = names.index("|a|"), names.index("neuron")
    start = _column(browser, k_abs)
    assert start == sorted(start, reverse=True)  # listed by |a|, largest first
    headers[k_abs].click()
    asc = _column(browser, k_abs)
    assert asc == sorted(start) and len(asc) == net.n_neurons
    headers[k_abs].click()
    assert _column(browser, k_abs) == sorted(start, reverse=True)
    headers[k_nrn].click()
    assert _column(browser, k_nrn) == list(range(net.n_neurons))
