"""bench/suite.py's bookkeeping (no benchmark is run): carrying an earlier run's rows for the
sizes a run did not measure (--carry), and the targets table judging the figures."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SUITE = Path(__file__).resolve().parents[2] / "bench" / "suite.py"


@pytest.fixture(scope="module")
def suite():
    spec = importlib.util.spec_from_file_location("bench_suite_under_test", SUITE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def row(group, measure, backend, size, median, unit="s", run="2026-12-04 01:00", **kw):
    return dict(
        group=group,
        measure=measure,
        backend=backend,
        size=size,
        samples=[median],
        median=median,
        unit=unit,
        rss=kw.pop("rss", None),
        cpu=kw.pop("cpu", None),
        run=run,
        **kw,
    )


POINTS = "points reconciliation (10000 holders; movements: the size, at least 20,000)"


def test_carry_takes_the_sizes_this_run_did_not_run_marked_with_their_run(suite, tmp_path):
    earlier = [
        row("import", "import-beancount", "sqlite", 2_000, 1.0, run="2026-12-01 03:00"),
        row("import", "import-beancount", "sqlite", 100_000, 30.0, run="2026-12-01 03:00"),
        row("domains", POINTS, "postgresql", 1_000_000, 150.0, "ms", run="2026-12-01 03:00"),
        row("domains", POINTS, "postgresql", 2_000, 99.0, "ms", run="2026-12-01 03:00"),
        # once-per-run steps are never carried
        row("API", "POST …/vouchers", "sqlite", 100, 7.0, "ms", run="2026-12-01 03:00"),
    ]
    path = tmp_path / "results.json"
    path.write_text(json.dumps(earlier))
    this_run = [
        row("import", "import-beancount", "sqlite", 2_000, 1.2),
        row("domains", POINTS, "postgresql", 2_000, 120.0, "ms"),
    ]
    carried = suite.carry(this_run, path)
    assert [(r["group"], r["size"]) for r in carried] == [
        ("import", 100_000),
        ("domains", 1_000_000),
    ]
    assert all(r["carried"] and r["run"] == "2026-12-01 03:00" for r in carried)
    note = "\n".join(suite.carried_note(this_run + carried, "2026-12-04 01:00"))
    assert "from the run of 2026-12-01 03:00" in note
    assert "import at 100,000" in note and "points reconciliation at 1,000,000" in note
    suite.R.rows = this_run + carried
    table = "\n".join(suite.growth_table("import", []))
    assert f"{suite.CARRIED_MARK} 30.0 s" in table and "| 1.20 s" in table


def test_a_file_without_run_dates_is_dated_by_its_modification_time(suite, tmp_path):
    old = row("verifier", "python -m transparency.verify", "file", 100_000, 3.0)
    del old["run"]
    path = tmp_path / "results.json"
    path.write_text(json.dumps([old]))
    (carried,) = suite.carry([], path)
    assert carried["carried"] and len(carried["run"]) == len("2026-12-04 01:00")


def test_the_targets_table_judges_and_names_carried_figures(suite):
    rows = [
        row("import", "bean-check --no-cache", "beancount", 2_000, 0.5),
        row("import", "import-beancount", "sqlite", 2_000, 0.9),
        row("import", "bean-check --no-cache", "beancount", 100_000, 10.0, rss=300.0),
        row(
            "import",
            "import-beancount",
            "sqlite",
            100_000,
            9.0,
            rss=400.0,
            run="2026-12-01 03:00",
            carried=True,
        ),
        row("domains", POINTS, "postgresql", 10_000, 250.0, "ms"),
        row("domains", suite.DIVIDEND_MEASURE, "sqlite", 1_000, 1.5, cpu=0.5),
        row("domains", suite.DIVIDEND_MEASURE, "postgresql", 1_000, 1.9, cpu=0.6),
    ]
    table = {line.split(" | ")[0].lstrip("| "): line for line in suite.targets(rows)}
    two = table["import wall / bean-check, ≤ 2× at 2,000"]
    assert "1.80× (2,000)" in two and two.endswith("| met |") and "nearest" not in two
    big = table["import wall / bean-check, ≤ 0.8× at 100k"]
    assert "0.90×" in big and "from the run of 2026-12-01 03:00" in big and "missed" in big
    rss = table["import peak RSS ≤ 1× bean-check at 100k"]
    assert "1.33×" in rss and "from the run of 2026-12-01 03:00" in rss
    points = table["points reconciliation, 10,000 holders < 200 ms"]
    assert "250.0 ms" in points and "missed" in points and "from the run" not in points
    dividend = table["dividend to 1,000 shareholders < 2 s (declare + pay, each backend)"]
    assert "sqlite 1.50 s" in dividend and "postgresql 1.90 s" in dividend
    assert dividend.endswith("| met |")
    rows[-1]["median"] = 2.1
    dividend = next(x for x in suite.targets(rows) if "dividend to 1,000" in x)
    assert "**missed**" in dividend


def test_without_2000_the_nearest_size_is_named(suite):
    rows = [
        row("import", "bean-check --no-cache", "beancount", 1_000, 0.5),
        row("import", "import-beancount", "sqlite", 1_000, 1.5),
    ]
    line = next(x for x in suite.targets(rows) if "at 2,000" in x)
    assert "nearest size here: 1,000" in line and "**missed**" in line


def test_a_file_without_run_dates_is_dated_by_the_results_md_beside_it(suite, tmp_path):
    old = row("merkle maths", "append", "memory", 1_000_000, 3.0, "µs")
    del old["run"]
    (tmp_path / "results.json").write_text(json.dumps([old]))
    (tmp_path / "RESULTS.md").write_text(
        "# Benchmark results\n\nWritten by `bench/run --quick` on 2026-12-03 22:18 in 40 min\n"
    )
    (carried,) = suite.carry([], tmp_path / "results.json")
    assert carried["run"] == "2026-12-03 22:18"
