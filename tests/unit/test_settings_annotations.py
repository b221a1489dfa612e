"""The config models' modules keep their annotations evaluated: pydantic then takes each field's
type as an object instead of compiling it from a string when the model class is made (≈ 4 ms of
every start over the ≈ 40 models, bench/RESULTS.md)."""

from __future__ import annotations

import importlib
import inspect

import pytest
from pydantic import BaseModel

MODULES = (
    "inavd.settings", "inavd.signals.config", "inavd.execution.config", "inavd.publish.settings",
    "inavd.live_config", "inavd.risk.config", "inavd.ops.settings", "inavd.brokers.paper_config",
    "inavd.costs", "inavd.sizing.config",
)  # fmt: skip


@pytest.mark.parametrize("name", MODULES)
def test_config_model_modules_evaluate_their_annotations(name: str) -> None:
    module = importlib.import_module(name)
    assert not hasattr(module, "annotations"), f"{name} has `from __future__ import annotations`"
    models = [m for _, m in inspect.getmembers(module, inspect.isclass)
              if issubclass(m, BaseModel) and m.__module__ == name]  # fmt: skip
    assert models
    for model in models:
        assert not any(isinstance(a, str) for a in model.__annotations__.values()), model


def test_every_module_defining_config_models_is_listed() -> None:
    import inavd.settings as s

    found = {
        type(v).__module__
        for v in s.Settings().__dict__.values()
        if isinstance(v, BaseModel)
    } | {"inavd.settings"}
    assert found <= set(MODULES)
