"""Every router, in one list each for the JSON API (/api/v1) and the HTML pages."""
from app import site
from app.accounts import admin_pages as account_admin_pages
from app.accounts import pages as account_pages
from app.api import ROUTERS as api_routers
from app.petitions import pages as petition_pages
from app.program import admin_pages as program_admin_pages
from app.program import closing_pages
from app.program import pages as program_pages
from app.reports import pages as report_pages
from app.rollup import pages as rollup_pages
from app.units import admin_pages as unit_admin_pages
from app.values import pages as values_pages
from app.values import village_pages

__all__ = ["api_routers", "page_routers"]

page_routers = [site.router, account_pages.router, account_admin_pages.router,
                village_pages.router,  # before values_pages: its /entry/{u}/{p}/{code} would take /villages, /submit
                values_pages.router,
                program_pages.router, report_pages.router, rollup_pages.router]
page_routers += [petition_pages.router, petition_pages.public_router]
page_routers += [program_admin_pages.router, unit_admin_pages.router, closing_pages.router]
