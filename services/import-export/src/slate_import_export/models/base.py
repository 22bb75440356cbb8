from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from slate_common.db import NAMING


class Base(DeclarativeBase):
    """This service's tables, in a MetaData of their own."""

    metadata = MetaData(naming_convention=NAMING)
