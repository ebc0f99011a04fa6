"""`vigil explain`: explanations and importances of registered models from the command line.

    vigil explain rows models:/churn@production rows.parquet [--format json|html|text] [-o OUT]
    vigil explain importance models:/churn/3 valid.parquet --label churned [--method permutation|shap]
        [--metric roc_auc] [--repeats 5] [--seed 0] [--log]
    vigil explain show (--run RUN_ID | --version models:/churn/3) [--method shap] [--json]

DATA is a Parquet or CSV file. The store comes from --store/--artifacts, else VIGIL_STORE_URL /
VIGIL_ARTIFACTS_URL; with --url/--token the model is loaded from that Vigil server's registry (and
--log records there). Bad input exits with code 2.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from vigil.cli.common import (
    Backend,
    FullHelpGroup,
    backend_options,
    fail,
    format_option,
    print_json,
    print_table,
)
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
def _store(backend: Backend) -> Iterator[Store | None]:
    """The opened store, or None with --url (the model is then loaded from the server's
    registry, and importances are logged there); a VigilError ends the command."""
    if backend.remote:
        try:
            yield None
        except VigilError as exc:
            fail(exc)
    else:
        with backend.store() as store:
            yield store


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
@format_option("html")
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
@backend_options
def rows_command(
    model: str,
    data: str,
    fmt: str,
    out: str | None,
    target: str | None,
    space: Any,
    max_rows: int,
    backend: Backend,
) -> None:
    """Each feature's SHAP contribution to each row's prediction of MODEL (a models:/ URI)."""
    from vigil.explain.local import explain

    frame = _read(data, max_rows)
    with _store(backend) as store:
        explanation = explain(
            model,
            frame,
            target=_target(target),
            output=space,
            store=store,
            url=backend.url,
            token=backend.token,
        )
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
@backend_options
@format_option()
def importance_command(
    model: str,
    data: str,
    label: str | None,
    method: str,
    metric: Any,
    repeats: int,
    seed: int,
    log_it: bool,
    backend: Backend,
    fmt: str,
) -> None:
    """Global feature importance of MODEL (a models:/ URI) on DATA."""
    from vigil.analysis.explain.permutation import permutation_importance
    from vigil.explain.api import log_importance, shap_importance
    from vigil.explain.local import resolve_model

    frame = _read(data)
    if method == "permutation" and (label is None or label not in frame.columns):
        fail(
            f"permutation importance needs --label, the label column of {data} "
            f"(its columns: {list(frame.columns)})"
        )
    with _store(backend) as store:
        estimator, _ = resolve_model(model, store=store, url=backend.url, token=backend.token)
        if method == "permutation":
            assert label is not None
            result = permutation_importance(
                estimator,
                frame.drop(columns=[label]),
                frame[label].to_numpy(),
                metric=metric,
                n_repeats=repeats,
                seed=seed,
            )
        else:
            result = shap_importance(estimator, frame, seed=seed)
        if log_it:
            log_importance(
                result, model_version=model, store=store, url=backend.url, token=backend.token
            )
    if fmt == "json":
        print_json(result.to_dict())
        return
    print_table(["feature", "importance"], [[n, result.values[n]] for n in result.ranking()])
    if log_it:
        click.echo(f"logged {method} importances to {model}")


@explain_group.command("show")
@click.option("--run", "run_id", default=None, help="A training run's id.")
@click.option("--version", "version", default=None, help="A model version: models:/NAME/N.")
@click.option("--method", default=None, help="Only this method's importances.")
@backend_options
@format_option()
def show_command(
    run_id: str | None, version: str | None, method: str | None, backend: Backend, fmt: str
) -> None:
    """The latest importances logged for a run or a model version."""
    from vigil.explain.api import get_importance

    if run_id is None and version is None:
        fail("give --run RUN_ID or --version models:/NAME/N")
    values: dict[str, float] | None
    if backend.remote:
        from vigil.client.registry.api import resolve

        params = {"method": method} if method else {}
        with backend.api() as api:
            if run_id is not None:
                answer = api.explain.run_importances(run_id, params)
            else:
                assert version is not None
                info = resolve(version, url=backend.url, token=backend.token)
                answer = api.explain.version_importances(info.name, info.version, params)
        values = answer.get("latest")
    else:
        with _store(backend) as store:
            values = get_importance(run=run_id, model_version=version, method=method, store=store)
    if values is None:
        fail(f"no importances logged for {run_id or version}" + (f" by {method}" if method else ""))
    if fmt == "json":
        print_json(values)
        return
    print_table(["feature", "importance"], sorted(values.items(), key=lambda kv: -kv[1]))
