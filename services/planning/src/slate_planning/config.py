from __future__ import annotations

from slate_common.config import BaseServiceSettings, service_config


class PlanningSettings(BaseServiceSettings):
    service_name = "planning"
    model_config = service_config("planning")
