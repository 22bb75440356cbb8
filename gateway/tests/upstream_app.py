"""A small real upstream service for the gateway's tests (run with uvicorn)."""

from __future__ import annotations

import os

from fastapi import FastAPI, Header, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

app = FastAPI(title=os.environ.get("UPSTREAM_NAME", "test-upstream"))

PROJECTS = [{"id": f"00000000-0000-0000-0000-00000000000{i}", "name": f"Project {i}",
             "type": "Project"} for i in range(3)]


@app.get("/healthz", include_in_schema=False)
def healthz() -> dict:
    return {"status": "ok"}


@app.get("/readyz", include_in_schema=False)
def readyz() -> dict:
    return {"status": "ready"}


@app.get("/data/projects/open")
def open_projects() -> list[dict]:
    """Open projects (a small JSON list)."""
    return PROJECTS


@app.get("/data/projects/{project_id}")
def get_project(project_id: str) -> dict:
    return {"id": project_id, "type": "Project"}


@app.post("/data/projects")
async def create_project(request: Request) -> dict:
    return {"created": await request.json()}


@app.get("/echo/headers")
def echo_headers(request: Request) -> dict:
    return {"headers": dict(request.headers), "path": request.url.path,
            "query": request.url.query}


@app.post("/upload")
async def upload(request: Request) -> dict:
    """Count the streamed body without keeping it."""
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
    return {"received": total}


@app.get("/download")
def download(size: int = 1024, chunk: int = 1 << 20) -> StreamingResponse:
    """Stream ``size`` bytes (chunked, no Content-Length)."""
    block = b"x" * chunk

    def gen():
        left = size
        while left > 0:
            n = min(left, chunk)
            yield block[:n]
            left -= n

    return StreamingResponse(gen(), media_type="application/octet-stream")


DATA = bytes(range(256)) * 16  # 4096 bytes


@app.get("/files/blob")
def blob(range_: str | None = Header(None, alias="range")) -> Response:
    """Serve a 4 KiB blob with single-range support."""
    if range_ and range_.startswith("bytes="):
        start_s, end_s = range_[6:].split("-")
        start = int(start_s)
        end = int(end_s) if end_s else len(DATA) - 1
        return Response(DATA[start:end + 1], status_code=206, media_type="application/octet-stream",
                        headers={"content-range": f"bytes {start}-{end}/{len(DATA)}",
                                 "accept-ranges": "bytes"})
    return Response(DATA, media_type="application/octet-stream",
                    headers={"accept-ranges": "bytes"})


@app.post("/auth/login")
def login(response: Response) -> dict:
    response.set_cookie("access_token_cookie", "abc", httponly=True)
    response.set_cookie("refresh_token_cookie", "def", httponly=True)
    return {"login": True}


@app.get("/auth/cookies")
def cookies(request: Request) -> dict:
    return {"cookies": dict(request.cookies)}


@app.get("/status/teapot")
def teapot() -> JSONResponse:
    return JSONResponse({"error": True, "message": "teapot"}, status_code=418,
                        headers={"access-control-allow-origin": "*"})


@app.get("/slow")
async def slow(seconds: float = 1.0) -> dict:
    """Answer after ``seconds`` (a request in flight during a shutdown)."""
    import asyncio

    await asyncio.sleep(seconds)
    return {"slept": seconds}


@app.get("/auth/authenticated")
def authenticated(authorization: str | None = Header(None)) -> JSONResponse:
    """A stand-in for auth: the bearer token is the role."""
    if not authorization:
        return JSONResponse({"msg": "Missing JWT"}, status_code=401)
    return JSONResponse({"authenticated": True, "user": {"role": authorization.split()[-1]}})


@app.get("/data/preview-files")
@app.get("/data/comments")
def counted(request: Request, page: int = 1, limit: int = 0, extension: str = "") -> dict:
    """A page envelope whose total tells what was asked (for /stats)."""
    totals = {"mp4": 3, "[png,jpg,jpeg]": 5, "[glb,gltf]": 7, "": 11}
    assert request.headers.get("authorization") == "Bearer admin"
    return {"data": [], "total": totals[extension], "page": page, "limit": limit}


@app.post("/data/early")
async def early() -> JSONResponse:
    """Answer at once without reading the body (as media's 408 for a stalled upload)."""
    return JSONResponse({"error": True, "message": "refused before the body"}, status_code=408)
