"""A server whose artifacts (prediction and label files) live in S3 (moto in server mode)."""

from __future__ import annotations

import os
from pathlib import Path

import boto3
import pytest

from tests.e2e.live import LiveServer, make_token
from tests.store.s3 import s3_bucket, s3_endpoint
from tests.test_client import traffic
from vigil.client import Client

__all__ = ["s3_bucket", "s3_endpoint"]

pytestmark = pytest.mark.slow


def test_predictions_and_labels_go_to_s3(s3_endpoint: str, s3_bucket: str, tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path / 'v.db'}"
    token = make_token(store_url)
    aws = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    server = LiveServer(
        store_url,
        f"s3://{s3_bucket}/vigil",
        tmp_path / "server.log",
        env={**aws, "VIGIL_S3_ENDPOINT_URL": s3_endpoint},
    ).start()
    try:
        with Client(server.url, token=token, spool_dir=None) as client:
            client.create_model(
                "churn",
                features=["age"],
                predictions=["label"],
                id_column="request_id",
                timestamp_column="ts",
            )
            frame = traffic(80, hours=1)
            client.log("churn", frame)
            client.log_labels("churn", frame["request_id"][:4].tolist(), [1, 1, 0, 0])
            joined = client.data.predictions("churn")
        assert joined.num_rows == 80
        assert sum(v is not None for v in joined["vigil_label"].to_pylist()) == 4
        listed = boto3.client("s3", endpoint_url=s3_endpoint).list_objects_v2(Bucket=s3_bucket)
        keys = sorted(o["Key"] for o in listed["Contents"])
        assert len(keys) == 2
        assert keys[0].startswith("vigil/labels/m1/")
        assert keys[1].startswith("vigil/predictions/m1/")
        assert not (tmp_path / "artifacts").exists()
    finally:
        server.stop()
