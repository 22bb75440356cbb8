from slate_common.migrations import run_env

from slate_media.models import Base

run_env(Base.metadata)
