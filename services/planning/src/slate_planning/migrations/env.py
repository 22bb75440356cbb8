from slate_common.migrations import run_env

from slate_planning.models import Base

run_env(Base.metadata)
