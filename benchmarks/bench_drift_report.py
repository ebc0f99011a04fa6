"""The comparison bench_drift.py prints and saves: times and memory per contender, the issue's
targets as ratios measured side by side, and which columns each tool flags against the planted
truth."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench_drift_data import PLANTED, all_names
from common import Machine, Measurement, markdown_table, mib, ratio

REQUIRED = ("vigil-cli", "vigil-profiles", "evidently")
"""The contenders the comparison needs; a run without one of them prints the raw figures."""
TARGET_SPEEDUP = 5.0
TARGET_MEMORY_SHARE = 0.5
TARGET_PROFILE_SECONDS = 1.0


@dataclass(frozen=True)
class Check:
    """One ratio of the issue's targets: `value` against `target` in direction `better`."""

    label: str
    value: float
    cpu_value: float
    target: float | None = None
    better: str = "higher"
    strict: bool = False
    """`value < target` rather than `<=` ("under a second" against "at most half")."""

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        if self.better == "higher":
            return self.value >= self.target
        return self.value < self.target if self.strict else self.value <= self.target

    def row(self) -> list[object]:
        sign = ">=" if self.better == "higher" else "<" if self.strict else "<="
        verdict = {None: "", True: "met", False: "**missed**"}[self.met]
        target = f"{sign} {self.target:g}" if self.target is not None else ""
        return [self.label, self.value, self.cpu_value, target, verdict]


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    return f"{float(value):.{digits}f}"


def flags_table(measured: Mapping[str, Measurement]) -> str:
    """Which columns each tool flags, beside the planted truth."""
    vigil_cols = measured["vigil-cli"].last("columns")
    tools: list[tuple[str, Mapping[str, Any]]] = [("Vigil", vigil_cols)]
    if "evidently" in measured:
        tools.append(("Evidently 0.7", measured["evidently"].last("columns")))
    if "nannyml" in measured:
        tools.append(("NannyML", measured["nannyml"].last("columns")))
    rows = []
    for name in all_names():
        row: list[object] = [name, PLANTED.get(name, "none")]
        v = vigil_cols.get(name, {})
        cell = "**drift**" if v.get("flagged") else "-"
        extras = []
        if v.get("effect") is not None:
            extras.append(f"effect {_fmt(v['effect'])}")
        if abs(v.get("missing_change") or 0.0) >= 0.01:
            extras.append(f"missing {v['missing_change']:+.3f}")
        if (v.get("new_share") or 0.0) > 0:
            extras.append(f"new categories {v['new_share']:.3f}")
        row.append(f"{cell} ({', '.join(extras)})" if extras else cell)
        for label, cols in tools[1:]:
            c = cols.get(name)
            if c is None:
                row.append("not compared")
                continue
            cell = "**drift**" if c["flagged"] else "-"
            if label == "NannyML":
                detail = (
                    f"max JS {_fmt(c['value'])} vs {_fmt(c['upper_threshold'])}, "
                    f"{c['chunks_alerting']}/{c['chunks']} chunks"
                )
            else:
                detail = f"{_fmt(c['value'])}"
            row.append(f"{cell} ({detail})")
        rows.append(row)
    header = ["column", "planted change", *(label for label, _ in tools)]
    summary: list[object] = ["**flagged / planted caught / false alarms**", ""]
    for _, cols in tools:
        flagged = {n for n, c in cols.items() if c.get("flagged")}
        caught = len(flagged & set(PLANTED))
        summary.append(
            f"{len(flagged)} / {caught} of {len(PLANTED)} / {len(flagged - set(PLANTED))}"
        )
    rows.append(summary)
    return markdown_table(header, rows)


def summarise(
    rows: int,
    repeats: int,
    nannyml_rows: int,
    machine: Machine,
    measured: Mapping[str, Measurement],
    files: tuple[Path, Path],
    profile_seconds: float,
    revision: str,
) -> tuple[str, dict[str, Any]]:
    def e2e(m: Measurement, cpu: bool = False) -> float:
        if cpu:
            return m.metric("read_cpu_s") + m.metric("work_cpu_s")
        return m.metric("read_s") + m.metric("work_s")

    cli, profiles, evidently = (measured[k] for k in REQUIRED)
    nanny = measured.get("nannyml")
    times = markdown_table(
        [
            "contender",
            "read s",
            "drift s",
            "read + drift s",
            "read + drift CPU s",
            "process wall s",
            "process CPU s",
            "peak RSS MiB, median",
            "peak RSS MiB, max",
        ],
        [
            [
                m.label + (f" ({nannyml_rows:,} rows per side)" if m.name == "nannyml" else ""),
                "(in drift)" if m.name.startswith("vigil") else m.metric("read_s"),
                m.metric("work_s"),
                e2e(m),
                e2e(m, cpu=True),
                m.wall_s,
                m.cpu_s,
                mib(m.median_rss_bytes),
                mib(m.max_rss_bytes),
            ]
            for m in measured.values()
        ],
    )
    checks = [
        Check(
            "Evidently / vigil CLI time, whole process (interpreter start and imports on both sides)",
            ratio(evidently.wall_s, cli.wall_s),
            ratio(evidently.cpu_s, cli.cpu_s),
            TARGET_SPEEDUP,
        ),
        Check(
            "Evidently read + run / vigil CLI whole process (Vigil's imports counted, Evidently's not)",
            ratio(e2e(evidently), e2e(cli)),
            ratio(e2e(evidently, True), e2e(cli, True)),
        ),
        Check(
            "vigil CLI / Evidently peak RSS (medians)",
            ratio(cli.median_rss_bytes, evidently.median_rss_bytes),
            float("nan"),
            TARGET_MEMORY_SHARE,
            "lower",
        ),
        Check(
            "vigil CLI / Evidently peak RSS (highest of all runs)",
            ratio(cli.max_rss_bytes, evidently.max_rss_bytes),
            float("nan"),
        ),
        Check(
            "stored profiles: load both + compare, seconds",
            profiles.metric("work_s"),
            profiles.metric("work_cpu_s"),
            TARGET_PROFILE_SECONDS,
            "lower",
            strict=True,
        ),
        Check(
            "stored profiles: whole process (imports included), seconds",
            profiles.wall_s,
            profiles.cpu_s,
        ),
    ]
    if nanny is not None and nannyml_rows >= rows:
        checks.append(
            Check(
                "NannyML / vigil CLI time, whole process",
                ratio(nanny.wall_s, cli.wall_s),
                ratio(nanny.cpu_s, cli.cpu_s),
            )
        )
    ratios = markdown_table(["measure", "wall", "CPU", "target", ""], [c.row() for c in checks])
    loads = [r.load_before for m in measured.values() for r in m.runs]
    tools = "; ".join(
        f"{label}: " + ", ".join(f"{k} {v}" for k, v in m.last("versions").items())
        for label, m in (("Vigil venv", profiles), ("peers venv", evidently))
    )
    if nanny is not None:
        tools += f"; nannyml {nanny.last('versions')['nannyml']}"
    verdicts = ", ".join(
        f"{m.label}: {m.last('dataset_drift')}"
        for m in measured.values()
        if m.last("columns") and "dataset_drift" in m.runs[-1].report
    )
    markdown = (
        f"### Drift: {rows:,} rows x {len(all_names())} columns against {rows:,} "
        f"(median of {repeats} runs, round-robin)\n\n"
        f"Machine: {machine.markdown()}; 1-minute load average before each run "
        f"{min(loads):.1f} to {max(loads):.1f}. Vigil commit {revision}. {tools}. "
        f"Profiles made beforehand with `vigil profile` in {profile_seconds:.1f} s (both files; "
        f"{profiles.last('profile_bytes'):,} bytes together).\n\n"
        f"{times}\n\n{ratios}\n\n"
        f"#### Which columns each tool flags\n\n{flags_table(measured)}\n\n"
        f"Dataset-level verdict (share of drifted columns >= 0.5): {verdicts}.\n"
    )
    payload = {
        "bench": "drift",
        "rows": rows,
        "repeats": repeats,
        "nannyml_rows": nannyml_rows,
        "machine": asdict(machine),
        "data": [str(f) for f in files],
        "planted": PLANTED,
        "revision": revision,
        "profile_seconds": profile_seconds,
        "checks": [{**asdict(c), "met": c.met} for c in checks],
        "measurements": {k: m.to_dict() for k, m in measured.items()},
        "markdown": markdown,
    }
    return markdown, payload
