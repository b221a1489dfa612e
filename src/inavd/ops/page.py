"""The self-contained status page served at `/`: no build step, no external assets.

It renders the /status document and refreshes itself every few seconds. When no token protects
/status the current document is embedded, so the first paint needs no request; with a token the
page reads it from the URL fragment (`/#token=...`, never sent to the server in the URL) and
sends it as a bearer header.
"""

from __future__ import annotations

import orjson

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>inavd status</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#222;background:#fafafa}
h1{font-size:1.3rem;margin:0 0 .5rem} h2{font-size:1.05rem;margin:1.2rem 0 .4rem}
table{border-collapse:collapse;background:#fff} td,th{padding:.25rem .6rem;border:1px solid #ddd}
th{background:#f0f0f0;text-align:left} td.num{text-align:right;font-variant-numeric:tabular-nums}
.state{display:inline-block;padding:.15rem .6rem;border-radius:.3rem;color:#fff;font-weight:600}
.active{background:#2e7d32}.reducing{background:#ef6c00}.halted{background:#c62828}
.prem{color:#1565c0}.disc{color:#c62828}.muted{color:#777}
</style></head>
<body>
<h1>inavd <span id="version" class="muted"></span></h1>
<p>Trading state: <span id="trading-state" class="state">unknown</span>
 <span id="state-reason" class="muted"></span></p>
<p id="summary" class="muted">loading…</p>
<p id="money">P&amp;L –</p>
<h2>Premium / discount to iNAV</h2>
<table id="funds"><thead><tr><th>Fund</th><th>iNAV</th><th>Mid</th><th>Premium (bp)</th>
<th>Benchmark move</th><th>Rebalance flow (USD)</th></tr></thead><tbody></tbody></table>
<h2>Positions</h2><table id="positions"><tbody></tbody></table>
<h2>Open orders</h2><table id="orders"><tbody></tbody></table>
<h2>Gate denials</h2><table id="denials"><tbody></tbody></table>
<script id="initial" type="application/json">__INITIAL__</script>
<script>
"use strict";
const token = new URLSearchParams(location.hash.slice(1)).get("token");
const fmt = (x, d) => x === null || x === undefined ? "–" : Number(x).toFixed(d);
function cell(tr, text, cls) {
  const td = document.createElement("td"); td.textContent = text;
  if (cls) td.className = cls; tr.appendChild(td);
}
function rows(id, items, render) {
  const body = document.querySelector("#" + id + " tbody"); body.replaceChildren();
  if (!items.length) { const tr = body.insertRow(); cell(tr, "none", "muted"); return; }
  for (const it of items) { const tr = body.insertRow(); render(tr, it); }
}
function render(s) {
  document.getElementById("version").textContent = s.version + " · run " + s.run_id;
  const st = document.getElementById("trading-state");
  st.textContent = s.trading_state.state.toUpperCase();
  st.className = "state " + s.trading_state.state;
  document.getElementById("state-reason").textContent = "(" + s.trading_state.reason + ")";
  document.getElementById("summary").textContent =
    "session " + s.session + " · data time " + (s.data_time_ny || "–") + " · now " +
    (s.wall_time_ny || "–") + " (New York) · quotes " +
    s.feed.quotes.toLocaleString("en-US") + " · orders " + s.orders + " · fills " + s.fills +
    " · " + (s.health.ready ? "ready" : "NOT READY") + (s.mqtt ? " · mqtt " + s.mqtt : "");
  rows("funds", s.inav.funds, (tr, f) => {
    cell(tr, f.symbol); cell(tr, fmt(f.inav, 4), "num"); cell(tr, fmt(f.mid, 4), "num");
    cell(tr, fmt(f.premium_bp, 2), "num " + (f.premium_bp >= 0 ? "prem" : "disc"));
    cell(tr, f.benchmark_move === null ? "–" : (100 * f.benchmark_move).toFixed(3) + " %", "num");
    cell(tr, fmt(f.flow_usd, 0), "num");
  });
  const m = s.money;
  document.getElementById("money").textContent =
    "P&L realized " + fmt(m.realized_pnl_usd, 2) + " · unrealized " +
    fmt(m.unrealized_pnl_usd, 2) + " · fees " + fmt(m.fees_usd, 2) + " USD · exposure gross " +
    fmt(m.gross_exposure_usd, 0) + " · net " + fmt(m.net_exposure_usd, 0) +
    " USD · daily-loss headroom " + fmt(m.daily_loss_headroom_usd, 0) + " of " +
    fmt(m.daily_loss_limit_usd, 0) + " USD";
  rows("positions", Object.entries(s.positions), (tr, [sym, q]) => {
    cell(tr, sym); cell(tr, fmt(q, 0), "num");
    cell(tr, fmt(m.positions_usd[sym], 0) + " USD", "num"); });
  rows("orders", s.open_orders, (tr, o) => {
    cell(tr, o.symbol); cell(tr, o.side); cell(tr, fmt(o.qty, 0), "num");
    cell(tr, o.status); cell(tr, o.client_order_id, "muted"); });
  rows("denials", Object.entries(s.denials.by_gate), (tr, [gate, n]) => {
    cell(tr, gate); cell(tr, String(n), "num"); });
}
async function refresh() {
  try {
    const headers = token ? {Authorization: "Bearer " + token} : {};
    const r = await fetch("status", {headers, cache: "no-store"});
    if (r.ok) render(await r.json());
    else document.getElementById("summary").textContent = "status: HTTP " + r.status;
  } catch (e) {
    document.getElementById("summary").textContent = "daemon unreachable: " + e;
  }
  setTimeout(refresh, 2000);
}
const initial = JSON.parse(document.getElementById("initial").textContent);
if (initial) render(initial);
refresh();
</script></body></html>
"""


def render_page(initial: object | None) -> str:
    # '</' cannot appear inside the JSON island, so no data can close the script element
    data = orjson.dumps(initial, option=orjson.OPT_SERIALIZE_NUMPY).decode().replace("</", "<\\/")
    return PAGE.replace("__INITIAL__", data)
