"""`vigil explain`: explanations and importances of registered models from the command line.

    vigil explain rows models:/churn@production rows.parquet [--format json|html|text] [-o OUT]
    vigil explain importance models:/churn/3 valid.parquet --label churned [--method permutation|shap]
        [--metric roc_auc] [--repeats 5] [--seed 0] [--log]
    vigil explain show (--run RUN_ID | --version models:/churn/3) [--method shap] [--json]

DATA is a Parquet or CSV file. The store comes from --store/--artifacts, else VIGIL_STORE_URL /
VIGIL_ARTIFACTS_URL. Bad input exits with code 2.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from vigil.cli.common import FullHelpGroup, artifacts_option, fail, store_option
from vigil.errors import InvalidInputError, VigilError

if TYPE_CHECKING:
    import pandas as pd

    from vigil.store.core import Store

_MAX_ROWS = click.option(
    "--max-rows",
    default=1000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Explain at most this many rows (the first ones).",
)


@contextmanager
def _store(store_url: str, artifacts_url: str) -> Iterator[Store]:
    from vigil.store.core import Store

    try:
        store = Store.open(store_url, artifacts_url)
    except VigilError as exc:
        fail(exc)
    try:
        yield store
    except VigilError as exc:
        fail(exc)
    finally:
        store.close()


def _read(path: str, max_rows: int | None = None) -> pd.DataFrame:
    import pyarrow as pa

    from vigil.io import open_source

    if not Path(path).exists():
        fail(InvalidInputError(f"data file {path!r} does not exist"))
    try:
        batches = []
        seen = 0
        for batch in open_source(path):
            batches.append(batch)
            seen += batch.num_rows
            if max_rows is not None and seen >= max_rows:
                break
        table = pa.Table.from_batches(batches)
    except VigilError as exc:
        fail(exc)
    if max_rows is not None:
        table = table.slice(0, max_rows)
    frame: pd.DataFrame = table.to_pandas()
    return frame


@click.group("explain", cls=FullHelpGroup)
def explain_group() -> None:
    """Explain predictions and feature importance of registered models."""


@explain_group.command("rows")
@click.argument("model")
@click.argument("data")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "html"]),
    default="text",
    show_default=True,
)
@click.option("-o", "--output-file", "out", default=None, help="Write here instead of stdout.")
@click.option("--target", default=None, help="The class explained (default: the positive one).")
@click.option(
    "--output",
    "space",
    type=click.Choice(["raw", "log_odds", "probability"]),
    default=None,
    help="The output space the contributions add up to (default: the explainer's own).",
)
@_MAX_ROWS
@store_option
@artifacts_option
def rows_command(
    model: str,
    data: str,
    fmt: str,
    out: str | None,
    target: str | None,
    space: Any,
    max_rows: int,
    store_url: str,
    artifacts_url: str,
) -> None:
    """Each feature's SHAP contribution to each row's prediction of MODEL (a models:/ URI)."""
    from vigil.explain.local import explain

    frame = _read(data, max_rows)
    with _store(store_url, artifacts_url) as store:
        explanation = explain(model, frame, target=_target(target), output=space, store=store)
    if fmt == "json":
        text = json.dumps(explanation.to_dict(), indent=2)
    elif fmt == "html":
        text = explanation.to_html(title=f"Explanation of {model}")
    else:
        text = _text(explanation)
    if out is not None:
        Path(out).write_text(text, encoding="utf-8")
        click.echo(f"wrote {explanation.n_rows} rows to {out}")
    else:
        click.echo(text)


def _target(value: str | None) -> Any:
    """A class label from the command line: an integer when it reads as one."""
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return value


def _text(explanation: Any) -> str:
    lines = [
        f"{explanation.algorithm} explainer, output {explanation.output_space}, base value "
        f"{explanation.base_value:.6g}"
    ]
    for i in range(explanation.n_rows):
        row = explanation.row(i)
        top = sorted(row["contributions"].items(), key=lambda kv: -abs(kv[1]))[:5]
        parts = ", ".join(f"{name} {value:+.4g}" for name, value in top)
        lines.append(f"row {i}: output {row['output']:.6g} <- {parts}")
    return "\n".join(lines)


@explain_group.command("importance")
@click.argument("model")
@click.argument("data")
@click.option("--label", default=None, help="The label column (permutation importance needs it).")
@click.option(
    "--method",
    type=click.Choice(["permutation", "shap"]),
    default="permutation",
    show_default=True,
)
@click.option("--metric", default=None, help="accuracy, roc_auc, log_loss, r2, mse or mae.")
@click.option("--repeats", default=5, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--log", "log_it", is_flag=True, help="Record them on the model version.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@store_option
@artifacts_option
def importance_command(
    model: str,
    data: str,
    label: str | None,
    method: str,
    metric: Any,
    repeats: int,
    seed: int,
    log_it: bool,
    as_json: bool,
    store_url: str,
    artifacts_url: str,
) -> None:
    """Global feature importance of MODEL (a models:/ URI) on DATA."""
    from vigil.analysis.explain.permutation import permutation_importance
    from vigil.explain.api import log_importance, shap_importance
    from vigil.explain.local import resolve_model

    frame = _read(data)
    with _store(store_url, artifacts_url) as store:
        if method == "permutation":
            if label is None or label not in frame.columns:
                fail(
                    f"permutation importance needs --label, the label column of {data} "
                    f"(its columns: {list(frame.columns)})"
                )
            estimator, _ = resolve_model(model, store=store)
            result = permutation_importance(
                estimator,
                frame.drop(columns=[label]),
                frame[label].to_numpy(),
                metric=metric,
                n_repeats=repeats,
                seed=seed,
            )
        else:
            result = shap_importance(model, frame, seed=seed, store=store)
        if log_it:
            log_importance(result, model_version=model, store=store)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    for name in result.ranking():
        click.echo(f"{name}\t{result.values[name]:.6g}")
    if log_it:
        click.echo(f"logged {method} importances to {model}")


@explain_group.command("show")
@click.option("--run", "run_id", default=None, help="A training run's id.")
@click.option("--version", "version", default=None, help="A model version: models:/NAME/N.")
@click.option("--method", default=None, help="Only this method's importances.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@store_option
@artifacts_option
def show_command(
    run_id: str | None,
    version: str | None,
    method: str | None,
    as_json: bool,
    store_url: str,
    artifacts_url: str,
) -> None:
    """The latest importances logged for a run or a model version."""
    from vigil.explain.api import get_importance

    if run_id is None and version is None:
        fail("give --run RUN_ID or --version models:/NAME/N")
    with _store(store_url, artifacts_url) as store:
        values = get_importance(run=run_id, model_version=version, method=method, store=store)
    if values is None:
        fail(f"no importances logged for {run_id or version}" + (f" by {method}" if method else ""))
    if as_json:
        click.echo(json.dumps(values, indent=2))
        return
    for name, value in sorted(values.items(), key=lambda kv: -kv[1]):
        click.echo(f"{name}\t{value:.6g}")
