from slate_common.migrations import run_env

from slate_import_export.models import Base

run_env(Base.metadata)
