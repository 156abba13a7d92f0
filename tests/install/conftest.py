def pytest_configure(config):
    config.addinivalue_line("markers", "slow: slower than about 5 s (still run by default)")
