"""The floor under `bench_ingest`'s profile uploads: a bare FastAPI app under uvicorn (the same
loop and HTTP parser Vigil's server gets) whose log route reads the body and answers a small JSON
object, with no authentication, validation or store. What one server process spends per request
here, Vigil's server cannot spend less than.

    uvicorn bench_ingest_floor:app   (bench_ingest starts it itself)
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/api/v1/models/{name}/log")
async def log(name: str, request: Request) -> dict[str, Any]:
    body = await request.body()
    return {"batch_id": name, "duplicate": False, "n_rows": len(body), "n_profiles": 1}
