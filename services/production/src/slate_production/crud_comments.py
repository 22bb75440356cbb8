"""The /data models of the comment flow: admin-only generic routes, as in Zou (people
use the /data/user/... and /actions/... routes for their own rows)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select

from slate_common.crud import CrudContext, CrudHooks, CrudSpec
from slate_common.errors import Forbidden

from .models import News, Notification, SearchFilter, SearchFilterGroup, Subscription


class AdminOnlyHooks(CrudHooks[Any]):
    """Only admins list, read and write these rows."""

    def scope(self, stmt: Select[Any], ctx: CrudContext) -> Select[Any]:
        if not ctx.principal.is_admin:
            raise Forbidden()
        return stmt

    def event_project_id(self, instance: Any) -> Any:
        return getattr(instance, "project_id", None)



COMMENT_SPECS: list[CrudSpec[Any]] = [
    CrudSpec(Notification, "notifications", hooks=AdminOnlyHooks()),
    CrudSpec(Subscription, "subscriptions", hooks=AdminOnlyHooks()),
    CrudSpec(SearchFilter, "search-filters", hooks=AdminOnlyHooks(), event_name="search-filter"),
    CrudSpec(SearchFilterGroup, "search-filter-groups", hooks=AdminOnlyHooks(), event_name="search-filter-group"),
    CrudSpec(News, "news", hooks=AdminOnlyHooks(), event_name="news"),
]
