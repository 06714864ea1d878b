// The dashboard page: renders the status report the server pushes (server-sent events, polling as
// a fallback), sorts and filters the tenant table, and shows one tenant's detail with its history
// plots (uPlot). Text goes in with textContent only: tenant data never becomes markup.
"use strict";
(function () {
  const MiB = 1024 * 1024;
  const state = { report: null, desired: null, sortKey: "tenant", sortDir: 1, filter: "", flaggedOnly: false, selected: null, selectedServer: null, plots: {}, serverPlots: {} };
  const $ = (sel) => document.querySelector(sel);

  function el(tag, attrs, children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else e.setAttribute(k, v);
    }
    for (const c of children || []) e.append(c);
    return e;
  }
  function bytes(b) {
    if (b === null || b === undefined) return "-";
    if (b >= 1024 * MiB) return (b / 1024 / MiB).toFixed(2) + " GiB";
    return (b / MiB).toFixed(1) + " MiB";
  }
  function pct(v) { return v === null || v === undefined ? "-" : v.toFixed(1) + "%"; }
  function uptime(startedAt) {
    if (!startedAt) return "-";
    let s = Math.max(0, Math.floor((Date.now() - Date.parse(startedAt)) / 1000));
    const d = Math.floor(s / 86400); s -= d * 86400;
    const h = Math.floor(s / 3600); s -= h * 3600;
    const m = Math.floor(s / 60);
    return d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : `${m}m ${s % 60}s`;
  }
  function imageTag(image) {
    if (!image) return "-";
    const at = image.indexOf("@");
    if (at >= 0) return image.slice(at + 1, at + 20);
    const colon = image.lastIndexOf(":");
    return colon > image.lastIndexOf("/") ? image.slice(colon + 1) : "latest";
  }
  function bar(percent) {
    const outer = el("span", { class: "bar" });
    const inner = el("span");
    inner.style.width = Math.min(100, Math.max(0, percent || 0)).toFixed(1) + "%";
    outer.append(inner);
    return outer;
  }

  /** The highlight classes of a row: what needs the operator's eye. */
  function classesOf(t, report) {
    const c = [];
    if (t.flags.length > 0) c.push("flagged");
    if (t.state === "exited" || t.state === "dead" || t.state === "not found" || t.state === "created" || t.state === "unknown") c.push("down");
    if (t.desired === "active" && (t.state === "no container" || t.state === "not found")) c.push("missing");
    if (t.state === "restarting") c.push("restarting");
    if (t.health === "unhealthy") c.push("unhealthy");
    if (t.memoryPercent !== null && t.memoryPercent >= report.memoryThresholdPercent) c.push("hot-memory");
    if (t.diskPercent !== null && t.diskPercent >= report.diskThresholdPercent) c.push("hot-disk");
    return c;
  }

  function renderServers(report) {
    const box = $("#servers");
    for (const s of report.servers) {
      let card = box.querySelector(`[data-server="${CSS.escape(s.server)}"]`);
      if (!card) {
        card = el("div", { class: "server", "data-server": s.server }, [el("h2", { text: `Server ${s.server}` }), el("dl"), el("div", { class: "plot server-plot" })]);
        box.append(card);
        loadServerPlot(s.server, card.querySelector(".server-plot"));
      }
      const dl = card.querySelector("dl");
      dl.replaceChildren();
      const row = (k, v, cls) => { dl.append(el("dt", { text: k }), el("dd", { text: v, class: cls || "" })); };
      card.classList.toggle("unreachable", s.reachable === false);
      card.dataset.reachable = String(s.reachable !== false);
      card.querySelector("h2").textContent = `Server ${s.server}` + (s.reachable === false ? " (unreachable)" : "");
      row("Engine", s.engine);
      if (s.reachable === false) row("Unreachable", s.error || "no answer", "over reason");
      else if (s.elapsedMs !== null && s.elapsedMs !== undefined) row("Answered in", `${s.elapsedMs} ms`);
      row("Tenants", s.reachable === false
        ? `${s.tenants} in the roster, state unknown`
        : `${s.tenants} (${s.running} running, ${s.flagged} need attention)`, "tenants");
      if (s.memoryCapacityBytes !== null) {
        const allowed = s.memoryCapacityBytes * s.overcommit;
        row("Memory committed", `${bytes(s.memoryCommittedBytes)} of ${bytes(s.memoryCapacityBytes)} (${(s.commitRatio * 100).toFixed(0)}%; overcommit allowed ${s.overcommit}x = ${bytes(allowed)})`, s.memoryCommittedBytes > allowed ? "over" : "");
      } else {
        row("Memory committed", `${bytes(s.memoryCommittedBytes)} (server size unknown: give --stack with server.memoryMb)`);
      }
      if (s.reachable === false) {
        row("Memory in use", "unknown");
        row("CPU", "unknown");
      } else {
        row("Memory in use", s.memoryCapacityBytes !== null
          ? `${bytes(s.memoryUsedBytes)} of ${bytes(s.memoryCapacityBytes)} (${pct(s.memoryUsedBytes / s.memoryCapacityBytes * 100)})`
          : bytes(s.memoryUsedBytes), "memory");
        row("CPU", s.cpus !== null && s.cpus !== undefined
          ? `${s.cpuPercent.toFixed(1)}% of one core (${pct(s.cpuPercent / s.cpus)} of its ${s.cpus} CPUs)`
          : `${s.cpuPercent.toFixed(1)}% of one core`, "cpu");
      }
      row("Disk (volumes)", s.reachable === false ? "unknown" : bytes(s.diskUsedBytes));
      if (s.certificates) {
        const soonest = s.certificates.certificates.reduce((a, c) => (a === null || c.daysLeft < a.daysLeft ? c : a), null);
        const failed = s.certificates.renewal && !s.certificates.renewal.ok;
        row("Certificates", `${s.certificates.certificates.length} (${s.certificates.mode})` +
          (soonest ? `, soonest ${soonest.name} in ${soonest.daysLeft} days` : "") + (failed ? `; renewal FAILED ${s.certificates.renewal.at}` : ""),
        failed || (soonest && soonest.daysLeft < 14) ? "over certificates" : "certificates");
      }
      for (const f of s.flags || []) row("Needs attention", f, "over reason");
    }
  }

  function sortValue(t, key) {
    if (key === "image") return imageTag(t.image);
    if (key === "startedAt") return t.startedAt ? -Date.parse(t.startedAt) : null;
    return t[key];
  }

  function renderTable(report) {
    const q = state.filter.toLowerCase();
    let rows = report.tenants.filter((t) => {
      if (state.flaggedOnly && t.flags.length === 0) return false;
      if (q === "") return true;
      return [t.tenant, t.server, t.state, t.health, t.tier || "", t.url || "", t.flags.join(" ")].some((s) => s.toLowerCase().includes(q));
    });
    rows = rows.slice().sort((a, b) => {
      const x = sortValue(a, state.sortKey), y = sortValue(b, state.sortKey);
      if (x === y) return a.tenant < b.tenant ? -1 : 1;
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      return (x < y ? -1 : 1) * state.sortDir;
    });
    const body = $("#tenants tbody");
    body.replaceChildren(...rows.map((t) => {
      const mem = el("td", { class: "num memory" });
      mem.append(t.memoryUsedBytes === null ? "-" : `${bytes(t.memoryUsedBytes)} / ${bytes(t.memoryLimitBytes)} (${pct(t.memoryPercent)})`);
      if (t.memoryPercent !== null) mem.append(bar(t.memoryPercent));
      const disk = el("td", { class: "num disk" });
      disk.append(t.diskUsedBytes === null ? "-" : t.diskBudgetBytes === null ? bytes(t.diskUsedBytes) : `${bytes(t.diskUsedBytes)} / ${bytes(t.diskBudgetBytes)}`);
      if (t.diskPercent !== null) disk.append(bar(t.diskPercent));
      const url = el("td");
      if (t.url) url.append(el("a", { href: t.url, rel: "noreferrer noopener", target: "_blank", text: t.url }));
      else url.append("-");
      const tr = el("tr", {
        class: classesOf(t, report).join(" "), "data-tenant": t.tenant, "data-server": t.server, "data-state": t.state, "data-health": t.health,
        title: t.flags.length > 0 ? t.flags.join("; ") : t.notes.join("; "),
      }, [
        el("td", { text: t.tenant, class: "tenant" }),
        el("td", { text: t.server, class: "server-name" }),
        el("td", { text: t.state === "no container" ? "no container (data kept)" : t.state, class: "state" }),
        el("td", { text: t.health, class: "health" }),
        mem,
        el("td", { text: pct(t.cpuPercent), class: "num cpu" }),
        el("td", { text: t.restartCount === null ? "-" : String(t.restartCount), class: "num" }),
        el("td", { text: uptime(t.startedAt), class: "num" }),
        el("td", { text: imageTag(t.image), title: t.image || "" }),
        disk,
        url,
      ]);
      tr.addEventListener("click", () => openDetail(t.tenant, t.server));
      return tr;
    }));
    $("#counts").textContent = `${rows.length} of ${report.tenants.length} tenants shown; ${report.flagged.length} need attention`;
    for (const th of document.querySelectorAll("#tenants th[data-key]")) {
      th.classList.toggle("sorted-asc", th.dataset.key === state.sortKey && state.sortDir === 1);
      th.classList.toggle("sorted-desc", th.dataset.key === state.sortKey && state.sortDir === -1);
    }
  }

  function render() {
    const report = state.report;
    if (!report) return;
    const down = report.servers.filter((s) => s.reachable === false).length;
    $("#engine").textContent = report.servers.length > 1
      ? `${report.servers.length} servers` + (down > 0 ? `, ${down} unreachable` : ", all answering")
      : `engine ${report.engine}`;
    $("#updated").textContent = `updated ${new Date(report.checkedAt).toLocaleTimeString()} (${report.elapsedMs} ms)`;
    document.body.dataset.checkedAt = report.checkedAt;
    if (state.desired) $("#readonly").textContent = `Read-only. Tenants are added, changed and removed in ${state.desired.where}.`;
    renderServers(report);
    renderTable(report);
    if (state.selected) renderDetailFlags();
  }

  // ---- plots (uPlot) ------------------------------------------------------------------------
  function plot(target, title, label, values, t, fmt) {
    const width = Math.max(320, Math.min(560, target.clientWidth || 480));
    // At least the last ten minutes on the x axis, so a young history is not stretched over years.
    const now = Date.now() / 1000;
    const opts = {
      title, width, height: 180,
      scales: { x: { time: true, range: () => [Math.min(t.length > 0 ? t[0] : now, now - 600), now] } },
      series: [{}, { label, stroke: "#2e90fa", width: 1.5, spanGaps: false, value: (u, v) => (v === null ? "-" : fmt(v)) }],
      axes: [{}, { values: (u, vals) => vals.map(fmt), size: 84 }],
    };
    target.replaceChildren();
    return new uPlot(opts, [t, values], target);
  }
  async function fetchHistory(query) {
    const r = await fetch(`/api/history?${query}&hours=24`, { credentials: "same-origin" });
    return r.ok ? r.json() : { t: [], memoryBytes: [], cpuPercent: [] };
  }
  async function loadServerPlot(server, target) {
    const h = await fetchHistory(`server=${encodeURIComponent(server)}`);
    target.replaceChildren();
    const a = el("div"), b = el("div");
    target.append(a, b);
    plot(a, `${server}: memory in use (24 h)`, "memory", h.memoryBytes, h.t, bytes);
    plot(b, `${server}: CPU (24 h)`, "CPU", h.cpuPercent, h.t, (v) => v.toFixed(1) + "%");
  }
  async function loadTenantPlots(tenant) {
    const h = await fetchHistory(`tenant=${encodeURIComponent(tenant)}`);
    if (state.selected !== tenant) return;
    plot($("#plot-memory"), `${tenant}: memory (24 h)`, "memory", h.memoryBytes, h.t, bytes);
    plot($("#plot-cpu"), `${tenant}: CPU (24 h)`, "CPU", h.cpuPercent, h.t, (v) => v.toFixed(1) + "%");
  }

  // ---- detail -----------------------------------------------------------------------------
  function renderDetailFlags() {
    const t = state.report && state.report.tenants.find((x) => x.tenant === state.selected && (!state.selectedServer || x.server === state.selectedServer));
    $("#detail-flags").replaceChildren(...(t ? t.flags : ["no longer reported"]).map((f) => el("li", { text: f })));
  }
  async function openDetail(tenant, server) {
    state.selected = tenant;
    state.selectedServer = server || null;
    location.hash = `tenant=${encodeURIComponent(tenant)}`;
    const box = $("#detail");
    box.hidden = false;
    box.dataset.tenant = tenant;
    box.dataset.loaded = "false";
    $("#detail-name").textContent = server ? `${tenant} on ${server}` : tenant;
    renderDetailFlags();
    loadTenantPlots(tenant);
    const r = await fetch(`/api/tenants/${encodeURIComponent(tenant)}` + (server ? `?server=${encodeURIComponent(server)}` : ""), { credentials: "same-origin" });
    if (state.selected !== tenant) return;
    const d = r.ok ? await r.json() : { logs: [], healthLog: [], volumes: [], error: `HTTP ${r.status}` };
    $("#detail-volumes tbody").replaceChildren(...d.volumes.map((v) => el("tr", {}, [el("td", { text: v.name }), el("td", { class: "num", text: bytes(v.sizeBytes) })])));
    $("#detail-disk-note").textContent = d.diskMeasuredAt ? `volume sizes measured ${new Date(d.diskMeasuredAt).toLocaleTimeString()}` : "volume sizes not measured yet";
    $("#detail-health tbody").replaceChildren(...(d.healthLog.length === 0 ? [el("tr", {}, [el("td", { text: "no health-check runs recorded" })])] :
      d.healthLog.map((h) => el("tr", { class: h.ExitCode === 0 ? "" : "unhealthy" }, [
        el("td", { text: new Date(h.Start).toLocaleTimeString() }), el("td", { class: "num", text: String(h.ExitCode) }), el("td", { text: (h.Output || "").trim().slice(0, 200) }),
      ]))));
    $("#detail-logs").textContent = d.error ? `(${d.error})\n` + d.logs.join("\n") : d.logs.join("\n") || "(no log lines)";
    box.dataset.loaded = "true";
  }
  $("#detail-close").addEventListener("click", () => {
    state.selected = null;
    $("#detail").hidden = true;
    window.history.replaceState(null, "", location.pathname);
  });

  // ---- controls and live updates ----------------------------------------------------------------
  for (const th of document.querySelectorAll("#tenants th[data-key]")) {
    th.addEventListener("click", () => {
      if (state.sortKey === th.dataset.key) state.sortDir = -state.sortDir;
      else { state.sortKey = th.dataset.key; state.sortDir = 1; }
      render();
    });
  }
  $("#filter").addEventListener("input", (e) => { state.filter = e.target.value; render(); });
  $("#flagged-only").addEventListener("change", (e) => { state.flaggedOnly = e.target.checked; render(); });

  function accept(report) {
    state.report = report;
    render();
  }
  async function poll() {
    try {
      const r = await fetch("/api/status", { credentials: "same-origin" });
      if (r.ok) {
        const body = await r.json();
        state.desired = body.desired;
        accept(body.report);
      }
    } catch (e) { /* the next round tries again */ }
  }
  poll().then(() => {
    const m = /^#tenant=(.+)$/.exec(location.hash);
    if (m) openDetail(decodeURIComponent(m[1]));
  });
  if (window.EventSource) {
    const es = new EventSource("/api/events");
    es.addEventListener("status", (e) => accept(JSON.parse(e.data)));
    es.onerror = () => { if (es.readyState === EventSource.CLOSED) setInterval(poll, 10000); };
  } else {
    setInterval(poll, 10000);
  }
  // Plots follow the history's own cadence.
  setInterval(() => {
    for (const card of document.querySelectorAll(".server")) loadServerPlot(card.dataset.server, card.querySelector(".server-plot"));
    if (state.selected) loadTenantPlots(state.selected);
  }, 60000);
})();
