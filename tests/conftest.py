"""Suite-wide pytest options (pytest reads ``pytest_addoption`` only from the rootdir's conftest)."""


def pytest_addoption(parser):
    parser.addoption("--fuzz-long", action="store_true", default=False,
                     help="run the differential fuzzer (tests/fuzz) long: many more random programs, "
                          "not derandomized")
