"""``python -m slate_media serve|migrate|worker``."""

from __future__ import annotations

from pathlib import Path

from slate_common.service_cli import main_for

from .config import MediaSettings


def main() -> None:
    main_for(
        settings_factory=MediaSettings,
        app_path="slate_media.main:create_app",
        runtime_path="slate_media.loops:runtime",  # the worker: the loops without the routes
        migrations_dir=Path(__file__).parent / "migrations",
    )


if __name__ == "__main__":
    main()
