"""Shared pytest wiring: fixtures (real etcd, network namespaces) and failure reports.

Markers (declared in setup.cfg): unit, integration, dataplane, e2e. Tests in
tests/unit are marked `unit` automatically, and likewise for the other folders.
"""
import pathlib

import pytest

pytest_plugins = ["tests.fixtures.etcd", "tests.fixtures.netns", "tests.fixtures.tls"]

_LAYERS = ("unit", "integration", "dataplane", "e2e")


def pytest_collection_modifyitems(config, items):
    for item in items:
        parts = pathlib.Path(str(item.fspath)).parts
        for layer in _LAYERS:
            if layer in parts:
                item.add_marker(getattr(pytest.mark, layer))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for server in getattr(item, "_etcd_servers", []):
            report.sections.append((f"etcd log ({server.name} {server.endpoint})", server.log_tail()))
