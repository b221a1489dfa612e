from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from inavd.settings import Config, load_config
from inavd.universe import build_universe
from tests.kit.alpaca_server import AlpacaServer
from tests.kit.paths import DEFAULT_CONFIG, ROOT

__all__ = ["DEFAULT_CONFIG", "ROOT"]


@pytest.fixture
def default_config() -> Config:
    return load_config(DEFAULT_CONFIG)


@pytest.fixture
def universe(default_config: Config):  # type: ignore[no-untyped-def]
    return build_universe(default_config.universe)


@pytest.fixture
async def alpaca_server() -> AsyncIterator[AlpacaServer]:
    """The local Alpaca on 127.0.0.1:0, stopped after the test."""
    s = await AlpacaServer().start()
    yield s
    await s.stop()
