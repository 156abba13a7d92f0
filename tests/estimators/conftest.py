"""The ``slow`` marker of the estimator tests: skipped unless ``WEDGENET_RUN_SLOW=1``.

scikit-learn's full ``check_estimator`` on the default instances (standardized, ``lam_ratio=0.1``,
time-limit sampling on the checks' 10-feature data) takes minutes on a shared 2-core machine, so
the default suite runs the checks on lean instances (500 sampled columns) and the defaults only
when asked: ``WEDGENET_RUN_SLOW=1 python -m pytest tests/estimators``.
"""

import os

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a test over ~5 s; run with WEDGENET_RUN_SLOW=1")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("WEDGENET_RUN_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow; set WEDGENET_RUN_SLOW=1 to run")
    for item in items:
        if "slow" in item.keywords and str(item.fspath).startswith(os.path.dirname(__file__)):
            item.add_marker(skip)
