from __future__ import annotations

from slate_common.config import BaseServiceSettings, service_config


class ProductionSettings(BaseServiceSettings):
    service_name = "production"
    model_config = service_config("production")
