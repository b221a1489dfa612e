"""Who may change state over HTTP: token always, JSON only, own Host and Origin."""

from __future__ import annotations

import pytest

from inavd.ops.guard import NO_TOKEN, Refusal, control_denial, host_allowed, hostname, read_denial
from inavd.ops.settings import OpsSettings

TOKEN = "s3cret-token"
GOOD = {
    "Host": "127.0.0.1:8787",
    "Authorization": f"Bearer {TOKEN}",
    "Content-Type": "application/json",
}


def test_no_token_closes_control_but_not_reads() -> None:
    s = OpsSettings(host="127.0.0.1")  # loopback: no longer an excuse to accept changes
    assert control_denial(s, GOOD) == Refusal(403, NO_TOKEN)
    assert "INAVD_OPS__TOKEN" in NO_TOKEN and "\n" not in NO_TOKEN
    assert read_denial(s, {}) is None


def test_a_proper_request_passes() -> None:
    s = OpsSettings(token=TOKEN)
    assert control_denial(s, GOOD) is None
    assert control_denial(s, {**GOOD, "Origin": "http://127.0.0.1:8787"}) is None
    assert control_denial(s, {**GOOD, "Content-Type": "application/json; charset=utf-8"}) is None


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"Authorization": "Bearer wrong"}, 401),
        ({"Authorization": ""}, 401),
        ({"Content-Type": "text/plain"}, 415),  # what a cross-site <form> or fetch can send
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415),
        ({"Origin": "http://evil.example"}, 403),
        ({"Origin": "http://127.0.0.1:9999"}, 403),  # another port is another origin
        ({"Origin": "null"}, 403),
        ({"Host": "evil.example:8787"}, 403),  # DNS rebinding: the page's name, our address
        ({"Host": ""}, 403),
    ],
)
def test_each_missing_safeguard_is_refused(change: dict[str, str], status: int) -> None:
    denied = control_denial(OpsSettings(token=TOKEN), {**GOOD, **change})
    assert denied is not None and denied.status == status


def test_hosts() -> None:
    assert hostname("a.example:8787") == "a.example"
    assert hostname("[::1]:8787") == "[::1]"
    assert hostname("LOCALHOST") == "localhost"
    loop = OpsSettings(host="127.0.0.1")
    assert host_allowed(loop, "localhost:8787") and host_allowed(loop, "[::1]:1")
    assert not host_allowed(loop, "10.0.0.5:8787")
    named = OpsSettings(host="10.0.0.5", allowed_hosts=("inavd.internal",))
    assert host_allowed(named, "10.0.0.5:8787") and host_allowed(named, "inavd.internal")
    assert not host_allowed(named, "localhost:8787")  # not a loopback listener
    anywhere = OpsSettings(host="0.0.0.0")
    assert host_allowed(anywhere, "whatever:1")  # no list: the token decides
    listed = OpsSettings(host="0.0.0.0", allowed_hosts=("inavd.internal",))
    assert host_allowed(listed, "inavd.internal:8787") and host_allowed(listed, "localhost")
    assert not host_allowed(listed, "evil.example")


def test_reads_need_the_token_once_one_is_set() -> None:
    s = OpsSettings(token=TOKEN)
    assert read_denial(s, {}) == Refusal(401, "missing or wrong bearer token")
    assert read_denial(s, {"Authorization": f"Bearer {TOKEN}"}) is None
