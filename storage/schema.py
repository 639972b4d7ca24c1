"""Imports every table module so `Base.metadata` is complete (Alembic, tests)."""

from storage import delivery_models, models, resume, team_models, web_models  # noqa: F401
from storage.models import Base

metadata = Base.metadata
