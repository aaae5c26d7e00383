"""Data files shipped inside installed packages, found without importing the packages.

`importlib.resources.files("pkg")` imports `pkg`, and `vietnamadminunits`' `__init__` pulls its
parser and converter in (shapely, numpy, geopy). Serving reads only the packages' data files, so
they are located from the import system's spec instead: nothing of the package runs, and the
package can be installed without its dependencies (requirements-data.lock, `--no-deps`).
"""
from importlib.util import find_spec
from pathlib import Path


def package_data(package: str, *parts: str) -> Path:
    """The path of `parts` inside the installed top-level `package`, the package not imported."""
    spec = find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"package {package!r} is not installed", name=package)
    return Path(next(iter(spec.submodule_search_locations)), *parts)
