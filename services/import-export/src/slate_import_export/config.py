from __future__ import annotations

from slate_common.config import BaseServiceSettings, service_config


class ImportExportSettings(BaseServiceSettings):
    service_name = "import-export"
    model_config = service_config("import-export")
