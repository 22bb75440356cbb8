"""What planning replicates: production's projects (schedules and budgets hang on them)."""

from slate_common.replica import Replica

from .models import ProjectReplica

PROJECTS = Replica(ProjectReplica, "project", "production")

REPLICAS: list[Replica] = [PROJECTS]
