"""The JSON API (/api/v1) for other provincial systems: one module per resource."""
from app.api import audit, completeness, data_values, exports, indicators, programs, rollups, tasks, units

ROUTERS = [units.router, programs.router, indicators.router, tasks.router, data_values.router,
           exports.router, rollups.router, completeness.router, audit.router]
from app.api import petitions  # noqa: E402

ROUTERS += [petitions.router]
