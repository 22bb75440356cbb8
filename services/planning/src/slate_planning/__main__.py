"""``python -m slate_planning serve|migrate|worker``."""

from __future__ import annotations

from pathlib import Path

from slate_common.service_cli import main_for

from .config import PlanningSettings


def main() -> None:
    main_for(
        settings_factory=PlanningSettings,
        app_path="slate_planning.main:create_app",
        migrations_dir=Path(__file__).parent / "migrations",
    )


if __name__ == "__main__":
    main()
