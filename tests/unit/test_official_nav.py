"""Official prior NAVs from an issuer file; without one the prior close is used and flagged."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from tests.kit.paths import DEFAULT_CONFIG, ROOT

from inavd.adapters import make_reference
from inavd.domain.instruments import Fund, Universe
from inavd.errors import DataError
from inavd.inav.engine import Reference
from inavd.official_nav import apply_official_navs, read_nav_file
from inavd.reference_report import reference_document
from inavd.settings import load_config

SSO_FILE = ROOT / "tests" / "fixtures" / "nav" / "SSO-historical_nav.csv"


def test_proshares_download_gives_prior_nav_and_aum() -> None:
    navs = read_nav_file(SSO_FILE)
    rec = navs.records[("SSO", date(2025, 4, 8))]
    assert (rec.nav, rec.shares_outstanding, rec.aum_usd) == (64.7129, 55_850_000, 3_614_215_465)
    # SSO's 15:59 bar of 2025-04-08 closed at 64.77 (online_trader SSO_RTH_NH.csv)
    raw = Reference({"SSO": 64.77}, {}, 0)
    ref = apply_official_navs(raw, navs, date(2025, 4, 9))  # prior session: 04-08
    assert ref.prior_nav["SSO"] == 64.7129 and ref.aum_usd["SSO"] == 3_614_215_465
    assert ref.official_nav == frozenset({"SSO"})
    # the market closed 17 bp under the NAV that day: the level a prior-close reference gets wrong
    assert pytest.approx(-17.4, abs=0.1) == (64.60 / 64.7129 - 1) * 1e4


def test_funds_without_an_official_nav_are_flagged() -> None:
    u = Universe(("SPY",), (Fund("SSO", "SPY", 2, 0.0089), Fund("SDS", "SPY", -2, 0.0089)))
    ref = apply_official_navs(Reference({}, {}, 0), read_nav_file(SSO_FILE), date(2025, 4, 9))
    doc = reference_document(ref, u, "bundled")
    assert doc["nav_source"] == {"SSO": "official", "SDS": "prior_close"}
    assert doc["flagged_prior_close_as_nav"] == ["SDS"]


def test_plain_layout_through_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nav = tmp_path / "navs.csv"
    nav.write_text("date,fund,nav,shares_outstanding,aum\n2019-12-19,SPXU,20.60,1,7.4e8\n")
    monkeypatch.setenv("INAVD_REFERENCE__NAV_FILE", str(nav))
    cfg = load_config(DEFAULT_CONFIG)
    ref = make_reference(cfg, date(2019, 12, 20), ("SPY", "SH", "SPXU"))
    assert ref.prior_nav["SPXU"] == 20.60  # not the 20.57 close
    assert ref.prior_close["SPY"] == pytest.approx(319.33)  # and SPY's dividend is applied
    assert ref.official_nav == frozenset({"SPXU"}) and ref.aum_usd == {"SPXU": 7.4e8}


def test_bad_nav_file_is_one_line(tmp_path: Path) -> None:
    nav = tmp_path / "navs.csv"
    nav.write_text("date,fund,nav\n2019-12-19,SPXU,20.6\n19/12/2019,SH,24.3\n")
    with pytest.raises(DataError, match=r"navs.csv: line 3: unreadable date '19/12/2019'"):
        read_nav_file(nav)
    nav.write_text("when,what\n")
    with pytest.raises(DataError, match="not a NAV file"):
        read_nav_file(nav)
