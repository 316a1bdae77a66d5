"""The one SQLAlchemy ``MetaData`` every alerting table is defined on.

ENGINE's tables (``alerts/schema.py``) and NOTIFY's (``alerts/notify/schema.py``)
both import it and neither imports the other's tables to get it; ``migrate``
creates whatever is defined here.
"""
from __future__ import annotations

from sqlalchemy import MetaData

metadata = MetaData()
