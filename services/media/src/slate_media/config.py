from __future__ import annotations

from slate_common.config import BaseServiceSettings, service_config


class MediaSettings(BaseServiceSettings):
    service_name = "media"
    model_config = service_config("media")
