import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: slower than about 5 s (run with -m slow; deselect with -m 'not slow')")


@pytest.fixture(autouse=True)
def _no_blas_oversubscription():
    yield
