"""The suite's xdist units (tests/scheduling.py): shared set-ups stay on one worker."""

from __future__ import annotations

from tests.scheduling import FIRST, _rank, unit_of


def test_a_docs_page_is_one_unit() -> None:
    one = unit_of("tests/docs/test_docs.py::test_block_runs[docs/spark.md:38]")
    other = unit_of("tests/docs/test_docs.py::test_block_runs[docs/spark.md:86]")
    assert one == other == "docs:docs/spark.md"
    assert unit_of("tests/docs/test_docs.py::test_block_runs[README.md:36]") == "docs:README.md"


def test_shared_fixtures_make_units_and_plain_tests_stay_alone() -> None:
    # The dashboard's conftest.py seeds the demo once per session: its whole folder is a unit.
    assert unit_of("tests/server/dashboard/test_pages.py::test_x") == "tests/server/dashboard/"
    # A module-scoped Spark session, and a live server imported from tests.server.live_api.
    assert unit_of("tests/e2e/test_spark.py::test_y") == "tests/e2e/test_spark.py"
    assert unit_of("tests/server/test_schemathesis.py::t[a]") == "tests/server/test_schemathesis.py"
    plain = "tests/test_windows.py::test_day_windows_cover_the_span"
    assert unit_of(plain) == plain


def test_the_longest_units_start_first() -> None:
    units = {"tests/test_windows.py::t": 1, "tests/server/dashboard/": 149, FIRST[0]: 1}
    ranked = sorted(units, key=lambda u: _rank(u, units[u]))
    assert ranked == [FIRST[0], "tests/server/dashboard/", "tests/test_windows.py::t"]
