"""The JSON API (/api/v1) for other provincial systems: one module per resource."""
from app.api import (
    accounts,
    audit,
    completeness,
    data_values,
    exports,
    indicators,
    petitions,
    program_closing,
    programs,
    rollups,
    tasks,
    units,
)

ROUTERS = [accounts.router, units.router, programs.router, program_closing.router, indicators.router, tasks.router,
           data_values.router, exports.router, rollups.router, completeness.router, audit.router,
           petitions.router]
