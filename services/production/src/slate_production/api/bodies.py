"""What production's request body models share: field types bounded as the columns they
fill. (A route that reads its body itself, after a permission check as Zou does, documents
it with ``slate_common.params.documented_body``.)
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

#: An integer an ``Integer`` column takes (a larger one is refused with the 400 of a bad
#: field, not left to the database).
Int32 = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]
#: An entity's name: not blank, at most its column's 160 characters.
EntityName = Annotated[str, Field(min_length=1, max_length=160, pattern=r"\S")]
