"""Every router, in one list each for the JSON API (/api/v1) and the HTML pages."""
from app.accounts import pages as account_pages
from app.core import pages as core_pages

api_routers = []
page_routers = [core_pages.router, account_pages.router]
