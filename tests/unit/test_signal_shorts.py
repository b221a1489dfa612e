"""Short-sale policy: refused shorts become equivalent long exposure, or flat."""

from __future__ import annotations

from tests.kit import strategy as k

from inavd.domain.intents import Intent
from inavd.domain.orders import TimeInForce
from inavd.risk.shorts import ShortPolicy
from inavd.settings import Settings
from inavd.signals.factory import ShortAware, build_signals

MIDS = {"SPY": 250.0, "SH": 25.0, "SDS": 40.0, "SSO": 80.0, "QQQ": 200.0, "PSQ": 20.0}


def test_equivalent_exposure() -> None:
    p = ShortPolicy(k.universe(), lambda s: False)
    # short 100 SH = +2,500 USD of SPY → buy 10 SPY
    alt = p.equivalent(Intent("x", "SH", -100, "r"), MIDS.__getitem__)
    assert alt is not None and (alt.symbol, alt.target_qty) == ("SPY", 10.0)
    # short 10 SPY = −2,500 USD → 100 SH (the −1x fund, not SDS)
    alt = p.equivalent(Intent("x", "SPY", -10, "r"), MIDS.__getitem__)
    assert alt is not None and (alt.symbol, alt.target_qty) == ("SH", 100.0)
    # short 50 SSO (+2x) = −8,000 USD → 320 SH
    alt = p.equivalent(Intent("x", "SSO", -50, "r"), MIDS.__getitem__)
    assert alt is not None and (alt.symbol, alt.target_qty) == ("SH", 320.0)


class Scripted:
    name = "scr"

    def __init__(self, script: list[list[Intent]]) -> None:
        self.script = script

    def on_inav(self, ev, ctx):  # type: ignore[no-untyped-def]
        return self.script.pop(0)


def test_wrapper_substitutes_and_unwinds() -> None:
    u = k.universe()
    t = k.at(15, 40)
    b = k.book(u, {s: (m - 0.01, m + 0.01) for s, m in MIDS.items()}, t)
    ctx = k.context(b, t)
    sell = Intent("scr", "SPY", -10, "flow")
    exit_ = Intent("scr", "SPY", 0.0, "exit", time_in_force=TimeInForce.CLS)
    w = ShortAware(Scripted([[sell], [exit_]]), ShortPolicy(u, lambda s: False), "equivalent")
    first = w.on_inav(k.event(u, t, {}), ctx)
    assert [(i.symbol, i.target_qty) for i in first] == [("SPY", 0.0), ("SH", 100.0)]
    second = w.on_inav(k.event(u, t, {}), ctx)
    assert [(i.symbol, i.target_qty, i.time_in_force) for i in second] == [
        ("SPY", 0.0, TimeInForce.CLS),
        ("SH", 0.0, TimeInForce.CLS),
    ]
    none = ShortAware(Scripted([[sell]]), ShortPolicy(u, lambda s: False), "none")
    assert [(i.symbol, i.target_qty) for i in none.on_inav(k.event(u, t, {}), ctx)] == [
        ("SPY", 0.0)
    ]
    allowed = ShortAware(Scripted([[sell]]), ShortPolicy(u, lambda s: True), "none")
    assert allowed.on_inav(k.event(u, t, {}), ctx) == [sell]


def test_factory_builds_the_enabled_signals() -> None:
    s = Settings(
        strategies={
            "moc_flow": {"enabled": True, "closing_volume_usd": {"SPY": 1e9}},
            "mean_reversion": {"enabled": True},
            "decay_monitor": {"enabled": True},
        }
    )
    names = [sig.name for sig in build_signals(s, k.universe())]
    assert names == ["premrev", "mocflow", "meanrev", "decay"]
