/**
 * The status page served at GET / : one self-contained document (no CDN, nothing fetched but this
 * node's own JSON endpoints), so it works offline on a mesh and from a phone over a VPN. It polls
 * /status, /status/history, /peers, /validators and /blocks and draws with inline SVG. Everything
 * shown is set as text, never as markup: peer-supplied strings cannot inject into the page.
 */
export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>MeshChain node</title>
<link rel="icon" href="data:,">
<style>
:root { --bg:#0f1419; --panel:#1a2129; --fg:#e6e6e6; --dim:#8b98a5; --ok:#3fb950; --warn:#d29922; --bad:#f85149; --head:#58a6ff; --fin:#3fb950; }
* { box-sizing: border-box; }
body { margin:0; font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background:var(--bg); color:var(--fg); }
header { padding:12px 16px; background:var(--panel); display:flex; flex-wrap:wrap; gap:8px 16px; align-items:baseline; }
header h1 { font-size:18px; margin:0; }
main { display:grid; gap:12px; padding:12px; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); }
section { background:var(--panel); border-radius:8px; padding:12px; overflow-x:auto; }
h2 { font-size:14px; text-transform:uppercase; letter-spacing:.05em; color:var(--dim); margin:0 0 8px; }
.big { font-size:28px; font-weight:600; }
.dim { color:var(--dim); }
.badge { padding:2px 8px; border-radius:10px; font-size:13px; font-weight:600; }
.ok { background:var(--ok); color:#000; } .warn { background:var(--warn); color:#000; } .bad { background:var(--bad); color:#000; }
table { border-collapse:collapse; width:100%; font-size:13px; }
th, td { text-align:left; padding:3px 6px; border-bottom:1px solid #2d3640; white-space:nowrap; }
th { color:var(--dim); font-weight:500; }
.mono { font-family: ui-monospace, Menlo, Consolas, monospace; }
ul.warnings { list-style:none; margin:0; padding:0; }
ul.warnings li { padding:6px 8px; margin-bottom:6px; border-left:4px solid var(--warn); background:#2a2410; }
ul.warnings li.info { border-color:var(--head); background:#102030; }
.weight { display:flex; align-items:center; gap:6px; }
.bar { height:10px; background:#2d3640; border-radius:5px; overflow:hidden; min-width:60px; }
.bar > div { height:100%; background:var(--head); }
svg { width:100%; height:160px; display:block; }
.kv { display:grid; grid-template-columns:auto 1fr; gap:2px 12px; }
#error { display:none; padding:8px 16px; background:var(--bad); color:#000; }
</style>
</head>
<body>
<div id="error"></div>
<header>
  <h1>MeshChain <span id="chain" class="mono"></span></h1>
  <span id="role" class="dim"></span>
  <span id="sync" class="badge"></span>
  <span class="dim">updated <span id="updated">never</span></span>
</header>
<main>
  <section>
    <h2>Chain</h2>
    <div class="kv">
      <span class="dim">head</span><span><span id="head-height" class="big">-</span> <span id="head-age" class="dim"></span></span>
      <span class="dim">finalized</span><span><span id="finalized-height" class="big">-</span> <span id="finalized-age" class="dim"></span></span>
      <span class="dim">slot</span><span id="slot"></span>
      <span class="dim">peers</span><span id="peers"></span>
      <span class="dim">mempool</span><span id="mempool"></span>
      <span class="dim">links</span><span id="links"></span>
      <span class="dim">uptime</span><span id="uptime"></span>
    </div>
  </section>
  <section>
    <h2>Warnings</h2>
    <ul id="warnings" class="warnings"></ul>
    <p id="no-warnings" class="dim">None.</p>
  </section>
  <section>
    <h2>Heights, last hour</h2>
    <svg id="heights" viewBox="0 0 300 160" preserveAspectRatio="none" role="img" aria-label="head and finalized height over time"></svg>
    <div class="dim"><span style="color:var(--head)">&#9632;</span> head <span style="color:var(--fin)">&#9632;</span> finalized <span id="heights-range"></span></div>
  </section>
  <section>
    <h2>Airtime</h2>
    <p id="airtime-summary" class="dim">No radio on this node.</p>
    <table id="airtime"><thead><tr><th>class</th><th>seconds (window)</th><th></th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Peers</h2>
    <table id="peer-table"><thead><tr><th>node</th><th>hops</th><th>SNR</th><th>finalized</th><th>score</th><th>seen</th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Validators</h2>
    <table id="validator-table"><thead><tr><th>address</th><th>weight</th><th>proximity</th><th>last vote</th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Recent blocks</h2>
    <table id="block-table"><thead><tr><th>height</th><th>age</th><th>txs</th><th>proposer</th><th></th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>Recent transactions</h2>
    <table id="tx-table"><thead><tr><th>hash</th><th>height</th></tr></thead><tbody></tbody></table>
  </section>
</main>
<script>
"use strict";
(function () {
  var params = new URLSearchParams(location.search);
  var intervalMs = Math.max(500, Number(params.get("interval")) || 2000);
  var $ = function (id) { return document.getElementById(id); };
  var text = function (id, value) { $(id).textContent = String(value); };
  function age(s) {
    if (s < 90) return Math.round(s) + "s";
    if (s < 5400) return Math.round(s / 60) + "m";
    if (s < 129600) return Math.round(s / 3600) + "h";
    return Math.round(s / 86400) + "d";
  }
  function short(s) { return s.length > 16 ? s.slice(0, 10) + "\\u2026" + s.slice(-4) : s; }
  function row(tbody, cells) {
    var tr = document.createElement("tr");
    cells.forEach(function (c) {
      var td = document.createElement("td");
      if (c instanceof Node) td.appendChild(c); else td.textContent = String(c);
      tr.appendChild(td);
    });
    tbody.appendChild(tr);
  }
  function bar(share) {
    var outer = document.createElement("div"); outer.className = "bar";
    var inner = document.createElement("div"); inner.style.width = Math.max(0, Math.min(100, share * 100)).toFixed(1) + "%";
    outer.appendChild(inner); return outer;
  }
  function body(id) { var t = $(id).querySelector("tbody"); t.textContent = ""; return t; }
  function getJson(path) {
    return fetch(path, { cache: "no-store" }).then(function (r) {
      if (!r.ok) throw new Error(path + " answered " + r.status);
      return r.json();
    });
  }
  var SVG = "http://www.w3.org/2000/svg";
  function polyline(svg, points, color) {
    var p = document.createElementNS(SVG, "polyline");
    p.setAttribute("points", points.join(" "));
    p.setAttribute("fill", "none"); p.setAttribute("stroke", color); p.setAttribute("stroke-width", "2");
    p.setAttribute("vector-effect", "non-scaling-stroke");
    svg.appendChild(p);
  }
  function drawHeights(samples) {
    var svg = $("heights"); svg.textContent = "";
    if (samples.length === 0) return;
    var t0 = samples[0].at, t1 = samples[samples.length - 1].at;
    var lo = Math.min.apply(null, samples.map(function (s) { return s.finalizedHeight; }));
    var hi = Math.max.apply(null, samples.map(function (s) { return s.height; }));
    var x = function (t) { return t1 === t0 ? 300 : ((t - t0) / (t1 - t0)) * 300; };
    var y = function (h) { return hi === lo ? 80 : 150 - ((h - lo) / (hi - lo)) * 140; };
    polyline(svg, samples.map(function (s) { return x(s.at).toFixed(1) + "," + y(s.finalizedHeight).toFixed(1); }), "var(--fin)");
    polyline(svg, samples.map(function (s) { return x(s.at).toFixed(1) + "," + y(s.height).toFixed(1); }), "var(--head)");
    text("heights-range", "(" + lo + " to " + hi + " over " + age((t1 - t0) / 1000) + ")");
  }
  function drawAirtime(status, samples) {
    var tbody = body("airtime");
    if (status.airtime === null) { text("airtime-summary", "No radio on this node."); return; }
    var a = status.airtime;
    var cap = a.dutyCycle * 3600;
    text("airtime-summary", a.lastHourSeconds.toFixed(1) + " s used this hour of a " + a.budgetSecondsPerHour + " s budget (the region's duty cycle allows " + cap.toFixed(0) + " s)");
    var withAir = samples.filter(function (s) { return s.airtimeSecondsByClass !== null; });
    if (withAir.length === 0) return;
    var first = withAir[0].airtimeSecondsByClass, last = withAir[withAir.length - 1].airtimeSecondsByClass;
    Object.keys(last).forEach(function (k) {
      var used = last[k] - (withAir.length > 1 ? first[k] : 0);
      row(tbody, [k, used.toFixed(1), bar(used / a.budgetSecondsPerHour)]);
    });
  }
  var localSamples = [];
  function refresh() {
    return Promise.all([getJson("/status"), getJson("/status/history"), getJson("/peers"), getJson("/validators"), getJson("/blocks?count=10")]).then(function (r) {
      var s = r[0], history = r[1].samples, peers = r[2].peers, validators = r[3].validators, blocks = r[4].blocks;
      text("chain", s.chainId); text("role", s.role + " " + s.address);
      var sync = $("sync");
      sync.textContent = s.sync.state === "syncing" ? "syncing " + s.sync.percent + "%" : s.sync.state;
      sync.className = "badge " + (s.sync.state === "synced" ? "ok" : s.sync.state === "syncing" ? "warn" : "bad");
      text("head-height", s.height); text("head-age", age(s.lastBlockAgeSeconds) + " ago");
      text("finalized-height", s.finalizedHeight); text("finalized-age", age(s.finality.ageSeconds) + " ago, " + s.finality.lagBlocks + " behind head");
      text("slot", s.slot); text("peers", s.peers); text("mempool", s.mempool.transactions + " txs, " + s.mempool.bytes + " bytes");
      text("links", "broker " + (s.links.ip === null ? "none" : s.links.ip) + ", radio " + (s.links.radio === null ? "none" : s.links.radio));
      text("uptime", age(s.uptimeSeconds));
      var ul = $("warnings"); ul.textContent = "";
      s.warnings.forEach(function (w) {
        var li = document.createElement("li"); li.className = w.severity;
        var b = document.createElement("b"); b.textContent = w.code + ": ";
        li.appendChild(b); li.appendChild(document.createTextNode(w.reason)); ul.appendChild(li);
      });
      $("no-warnings").style.display = s.warnings.length === 0 ? "" : "none";
      localSamples.push({ at: Date.now(), height: s.height, finalizedHeight: s.finalizedHeight, airtimeSecondsByClass: null });
      if (localSamples.length > 1800) localSamples.shift();
      // The node's own samples cover the hour before the page opened; the page's own polls fill in since.
      var since = history.length > 0 ? history[history.length - 1].at : 0;
      drawHeights(history.concat(localSamples.filter(function (p) { return p.at > since; })));
      drawAirtime(s, history);
      var pt = body("peer-table");
      peers.forEach(function (p) {
        row(pt, [p.node + (p.banned ? " (banned)" : ""), p.hopsAway === null ? "-" : p.hopsAway, p.snr === null ? "-" : p.snr + " dB", p.finalizedHeight, p.score, age(p.lastSeenSecondsAgo) + " ago"]);
      });
      var vt = body("validator-table");
      validators.forEach(function (v) {
        var weight = document.createElement("span"); weight.className = "weight";
        weight.appendChild(document.createTextNode((v.weightShare * 100).toFixed(1) + "% "));
        weight.appendChild(bar(v.weightShare));
        row(vt, [short(v.address) + (v.self ? " (this node)" : ""), weight, (v.proximityBps / 100).toFixed(1) + "%", v.lastVote === null ? "-" : "slot " + v.lastVote.slot + ", " + age(v.lastVote.secondsAgo) + " ago"]);
      });
      var bt = body("block-table"), tt = body("tx-table");
      var now = Date.now() / 1000;
      blocks.forEach(function (b) {
        row(bt, [b.height, age(Math.max(0, now - b.timestamp)), b.txs.length, short(b.proposer), b.final ? "final" : "not final"]);
        b.txs.forEach(function (h) { row(tt, [short(h), b.height]); });
      });
      if (tt.children.length === 0) row(tt, ["none in the last blocks", ""]);
      text("updated", new Date().toLocaleTimeString());
      $("error").style.display = "none";
    }).catch(function (e) {
      var box = $("error"); box.textContent = "Cannot reach the node: " + e.message; box.style.display = "block";
    });
  }
  function loop() { refresh().then(function () { setTimeout(loop, intervalMs); }); }
  loop();
})();
</script>
</body>
</html>
`;
