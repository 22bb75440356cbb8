"""The upstream the gateway benchmark proxies to: a small real FastAPI app."""

from fastapi import FastAPI

app = FastAPI(title="bench-upstream")

PROJECTS = [{"id": f"00000000-0000-0000-0000-00000000000{i}", "name": f"Project {i}",
             "type": "Project", "project_status_id": "11111111-1111-1111-1111-111111111111"}
            for i in range(3)]


@app.get("/healthz", include_in_schema=False)
def healthz() -> dict:
    return {"status": "ok"}


@app.get("/data/projects/open")
def open_projects() -> list[dict]:
    """A small JSON list, like Zou's open projects."""
    return PROJECTS
