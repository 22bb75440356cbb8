"""The docs: the configuration reference is the code's, and links lead somewhere."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "deploy" / "k8s" / "README.md"]


def test_configuration_reference_is_up_to_date() -> None:
    res = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_config_reference.py"), "--check"],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr


def test_configuration_reference_lists_the_settings_of_every_service() -> None:
    text = (ROOT / "docs" / "operations.md").read_text()
    for name in ("SLATE_POSTGRES_URL", "SLATE_<SERVICE>_HTTP_PROCESSES", "SLATE_MEDIA_MAX_UPLOAD_BYTES",
                 "SLATE_PRODUCTION_LISTING_CACHE_MB", "SLATE_AUTH_OIDC_ISSUER", "SLATE_SMTP_HOST",
                 "SLATE_CORS_ORIGINS", "SLATE_ADMIN_EMAIL", "OTEL_EXPORTER_OTLP_ENDPOINT"):
        assert f"`{name}`" in text, name


def test_readme_links_the_architecture_and_operations() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "](docs/architecture.md)" in readme and "](docs/operations.md)" in readme
    assert "ARCHITECTURE.md" not in readme  # the page lives in docs/


def test_relative_links_resolve() -> None:
    for doc in DOCS:
        for target in re.findall(r"\]\(([^)#:\s]+)(?:#[^)]*)?\)", doc.read_text()):
            assert (doc.parent / target).exists(), f"{doc.relative_to(ROOT)} links {target}"
