"""``python -m slate_import_export serve|migrate|worker``."""

from __future__ import annotations

from pathlib import Path

from slate_common.service_cli import main_for

from .config import ImportExportSettings


def main() -> None:
    main_for(
        settings_factory=ImportExportSettings,
        app_path="slate_import_export.main:create_app",
        migrations_dir=Path(__file__).parent / "migrations",
    )


if __name__ == "__main__":
    main()
