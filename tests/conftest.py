from __future__ import annotations

import pytest

from inavd.settings import Config, load_config
from inavd.universe import build_universe
from tests.kit.paths import DEFAULT_CONFIG, ROOT

__all__ = ["DEFAULT_CONFIG", "ROOT"]


@pytest.fixture
def default_config() -> Config:
    return load_config(DEFAULT_CONFIG)


@pytest.fixture
def universe(default_config: Config):  # type: ignore[no-untyped-def]
    return build_universe(default_config.universe)
