"""Tracking rows as the values the API returns: experiments, run infos, and runs with their params,
tags and latest metrics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Float, String, any_, bindparam, cast, literal, null, select, union_all
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from vigil.api.tracking import ExperimentOut, RunData, RunInfo, RunStatus, none_to_nan
from vigil.store.tracking_tables import Experiment, LatestMetric, Run, RunParam, RunTag


def experiment_out(row: Experiment) -> ExperimentOut:
    return ExperimentOut(
        id=row.id,
        name=row.name,
        artifact_location=row.artifact_location,
        lifecycle_stage=row.lifecycle_stage,
        owner=row.owner,
        created_ms=row.created_ms,
        updated_ms=row.updated_ms,
    )


def run_info(row: Run) -> RunInfo:
    return RunInfo(
        id=row.id,
        experiment_id=row.experiment_id,
        name=row.name,
        status=RunStatus(row.status),
        start_ms=row.start_ms,
        end_ms=row.end_ms,
        owner=row.owner,
        parent_id=row.parent_id,
        artifact_location=row.artifact_location,
        lifecycle_stage=row.lifecycle_stage,
    )


def hydrate(session: Session, rows: Sequence[Run]) -> list[RunData]:
    """Runs with their params, tags and latest metrics (three queries for all of them)."""
    ids = [r.id for r in rows]
    params: dict[str, dict[str, str]] = {i: {} for i in ids}
    tags: dict[str, dict[str, str]] = {i: {} for i in ids}
    metrics: dict[str, dict[str, float]] = {i: {} for i in ids}
    if ids:
        # One round trip of column tuples, not three queries of ORM objects: a page of 100
        # runs has hundreds of these rows.
        # PostgreSQL: one array parameter (`= ANY(...)`), not 100 placeholders per IN: the
        # statement stays short enough for psycopg to cache its conversion (1 ms a search).
        def in_page(column: Any) -> Any:
            if session.get_bind().dialect.name == "postgresql":
                return column == any_(bindparam("ids", type_=postgresql.ARRAY(String)))
            return column.in_(bindparam("ids", expanding=True))

        no_text, no_number = cast(null(), String), cast(null(), Float)
        found = session.execute(
            union_all(
                select(
                    literal("p"), RunParam.run_id, RunParam.key, RunParam.value, no_number
                ).where(in_page(RunParam.run_id)),
                select(literal("t"), RunTag.run_id, RunTag.key, RunTag.value, no_number).where(
                    in_page(RunTag.run_id)
                ),
                select(
                    literal("m"),
                    LatestMetric.run_id,
                    LatestMetric.key,
                    no_text,
                    LatestMetric.value,
                ).where(in_page(LatestMetric.run_id)),
            ),
            {"ids": ids},
        )
        for kind, run_id, key, text_value, number in found:
            if kind == "p":
                params[run_id][key] = text_value
            elif kind == "t":
                tags[run_id][key] = text_value
            else:
                metrics[run_id][key] = none_to_nan(number)
    return [
        RunData(info=run_info(r), params=params[r.id], metrics=metrics[r.id], tags=tags[r.id])
        for r in rows
    ]
