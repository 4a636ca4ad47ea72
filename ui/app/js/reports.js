// Reports: chats per day, response times, missed chats and satisfaction for a range of days in
// the viewer's time zone, per bot and agent, with CSV downloads. Charts are Chart.js, served by
// Baton itself (from npm at build time).

import { ApiError, get } from "./api.js";
import { clear, h, toast } from "./dom.js";
import { app, navigate } from "./main.js";

let chartLib = null;
/// Chart.js, loaded once, from Baton.
function loadCharts() {
  chartLib ??= new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = "/app/vendor/chart.js";
    s.onload = () => resolve(window.Chart);
    s.onerror = () => { chartLib = null; reject(new Error("The charts could not be loaded.")); };
    document.head.append(s);
  });
  return chartLib;
}

const TZ = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

function isoDay(d) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function daysAgo(n) {
  const d = new Date();
  d.setDate(d.getDate() - n);
  return isoDay(d);
}

/// "45 s", "3 min 20 s", "2 h 5 min", or "—".
export function duration(s) {
  if (s == null) return "—";
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) { const m = Math.floor(s / 60); const r = Math.round(s % 60); return r ? `${m} min ${r} s` : `${m} min`; }
  const hrs = Math.floor(s / 3600); const m = Math.round((s % 3600) / 60);
  return m ? `${hrs} h ${m} min` : `${hrs} h`;
}

const pct = (v) => v == null ? "—" : `${v}%`;

export async function reportsView(content) {
  if (!(app.role === "owner" || app.role === "admin")) return navigate("/app/inbox", { replace: true });
  const team = app.teamId;
  const [bots, members] = await Promise.all([get(`/api/teams/${team}/bots`), get(`/api/teams/${team}/members`)]);
  const state = { from: daysAgo(29), to: daysAgo(0), bot: "", agent: "" };
  const fromInput = h("input", { class: "input", type: "date", name: "from", value: state.from, max: state.to });
  const toInput = h("input", { class: "input", type: "date", name: "to", value: state.to, max: state.to });
  const botSelect = h("select", { class: "input", name: "bot" }, h("option", { value: "" }, "All bots"), bots.map((b) => h("option", { value: b.id }, b.name)));
  const agentSelect = h("select", { class: "input", name: "agent" }, h("option", { value: "" }, "All agents"),
    members.filter((m) => m.role !== "member").map((m) => h("option", { value: m.user.id }, m.user.display_name)));
  const preset = (label, n) => h("button", { class: "btn small", type: "button", onclick: () => { fromInput.value = daysAgo(n - 1); toInput.value = daysAgo(0); load(); } }, label);
  const filters = h("form", { class: "report-filters", "aria-label": "Report filters" },
    h("label", { class: "field" }, h("span", {}, "From"), fromInput),
    h("label", { class: "field" }, h("span", {}, "To"), toInput),
    h("label", { class: "field" }, h("span", {}, "Bot"), botSelect),
    h("label", { class: "field" }, h("span", {}, "Agent"), agentSelect),
    h("div", { class: "presets" }, preset("7 days", 7), preset("30 days", 30), preset("90 days", 90)));
  const status = h("p", { class: "sub report-status", role: "status", "aria-live": "polite" });
  const tiles = h("div", { class: "kpis", "data-testid": "report-kpis" });
  const perDay = h("canvas", { "aria-label": "Chats per day", role: "img" });
  const times = h("canvas", { "aria-label": "Response times per day", role: "img" });
  const botTable = h("div", { class: "table-wrap" });
  const agentTable = h("div", { class: "table-wrap" });
  const downloads = h("div", { class: "downloads" },
    ["day", "bot", "agent", "conversation"].map((g) => h("button", { class: "btn small", type: "button", "data-csv": g, onclick: (e) => download(g, e.currentTarget) },
      { day: "By day", bot: "By bot", agent: "By agent", conversation: "Every conversation" }[g])));
  clear(content, h("div", { class: "page" }, h("div", { class: "page-inner wide" },
    h("section", { class: "card" }, h("h2", {}, "Reports"),
      h("p", { class: "sub" }, `Conversations handed to the team, day by day in your time zone (${TZ}).`), filters, status, tiles),
    h("div", { class: "chart-grid" },
      h("section", { class: "card" }, h("h2", {}, "Chats per day"), h("div", { class: "chart-box" }, perDay)),
      h("section", { class: "card" }, h("h2", {}, "Response times"), h("div", { class: "chart-box" }, times))),
    h("section", { class: "card" }, h("h2", {}, "By agent"), agentTable),
    h("section", { class: "card" }, h("h2", {}, "By bot"), botTable),
    h("section", { class: "card" }, h("h2", {}, "Download CSV"), h("p", { class: "sub" }, "The same range and filters, for a spreadsheet."), downloads))));

  const charts = [];
  const query = () => {
    const q = new URLSearchParams({ from: fromInput.value, to: toInput.value, tz: TZ });
    if (botSelect.value) q.set("bot_id", botSelect.value);
    if (agentSelect.value) q.set("agent_id", agentSelect.value);
    return q;
  };
  let generation = 0;
  async function load() {
    const mine = ++generation;
    status.textContent = "Loading the report…";
    content.querySelector(".page-inner").setAttribute("aria-busy", "true");
    try {
      const [r, Chart] = await Promise.all([get(`/api/teams/${team}/reports?${query()}`), loadCharts()]);
      if (mine !== generation) return;
      render(r, Chart);
      status.textContent = "";
    } catch (e) {
      if (mine === generation) status.textContent = e instanceof ApiError ? e.message : "The report could not be loaded. Try again.";
    } finally {
      if (mine === generation) content.querySelector(".page-inner")?.removeAttribute("aria-busy");
    }
  }

  function tile(label, value, hint, id) {
    return h("div", { class: "kpi", "data-kpi": id }, h("div", { class: "kpi-label" }, label), h("div", { class: "kpi-value" }, value), hint ? h("div", { class: "kpi-hint" }, hint) : null);
  }

  function render(r, Chart) {
    const t = r.totals;
    clear(tiles,
      tile("Conversations", String(t.conversations), `${r.bot_only} more with the bot alone`, "conversations"),
      tile("Time to claim", duration(t.avg_time_to_claim_seconds), "average", "claim"),
      tile("First response", duration(t.avg_first_response_seconds), "average", "response"),
      tile("Resolution", duration(t.avg_resolution_seconds), "average", "resolution"),
      tile("Missed", String(t.missed), `${t.abandoned} abandoned · ${t.unanswered} unanswered`, "missed"),
      tile("Satisfaction", pct(t.csat_percent), t.ratings ? `${t.ratings} ${t.ratings === 1 ? "rating" : "ratings"}${t.avg_stars != null ? ` · ${t.avg_stars} ★` : ""}` : "no ratings", "csat"));
    for (const c of charts.splice(0)) c.destroy();
    const labels = r.days.map((d) => new Date(`${d.date}T00:00:00`).toLocaleDateString(undefined, { day: "numeric", month: "short" }));
    const phone = matchMedia("(max-width: 720px)").matches;
    const common = { responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } }, scales: { x: { ticks: { maxTicksLimit: phone ? 6 : 12, autoSkip: true } } } };
    charts.push(new Chart(perDay, {
      type: "bar",
      data: { labels, datasets: [
        { label: "Answered", data: r.days.map((d) => d.answered), backgroundColor: "#4f46e5", stack: "s" },
        { label: "Not answered yet", data: r.days.map((d) => d.conversations - d.answered - d.missed), backgroundColor: "#a5b4fc", stack: "s" },
        { label: "Missed", data: r.days.map((d) => d.missed), backgroundColor: "#f59e0b", stack: "s" },
        { label: "Bot only", data: r.days.map((d) => d.bot_only), backgroundColor: "#cbd5e1", stack: "s" },
      ] },
      options: { ...common, scales: { ...common.scales, x: { ...common.scales.x, stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
    }));
    const minutes = (s) => s == null ? null : Math.round((s / 60) * 10) / 10;
    charts.push(new Chart(times, {
      type: "line",
      data: { labels, datasets: [
        { label: "First response (min)", data: r.days.map((d) => minutes(d.avg_first_response_seconds)), borderColor: "#4f46e5", backgroundColor: "#4f46e5", spanGaps: true, tension: 0.25 },
        { label: "Time to claim (min)", data: r.days.map((d) => minutes(d.avg_time_to_claim_seconds)), borderColor: "#10b981", backgroundColor: "#10b981", spanGaps: true, tension: 0.25 },
      ] },
      options: { ...common, scales: { ...common.scales, y: { beginAtZero: true } } },
    }));
    const table = (rows, nameOf, extra) => rows.length === 0 ? h("p", { class: "sub" }, "Nothing in this range.") : h("table", { class: "grid report" },
      h("thead", {}, h("tr", {}, ["", "Chats", ...(extra ? ["Bot only"] : []), "Time to claim", "First response", "Resolution", "Missed", "Satisfaction"].map((c) => h("th", {}, c)))),
      h("tbody", {}, rows.map((x) => h("tr", {},
        h("td", {}, nameOf(x)), h("td", {}, String(x.conversations)), extra ? h("td", {}, String(x.bot_only)) : null,
        h("td", {}, duration(x.avg_time_to_claim_seconds)), h("td", {}, duration(x.avg_first_response_seconds)), h("td", {}, duration(x.avg_resolution_seconds)),
        h("td", {}, String(x.missed)), h("td", {}, pct(x.csat_percent))))));
    clear(agentTable, table(r.agents, (a) => a.agent.name, false));
    clear(botTable, table(r.bots, (b) => b.bot.name, true));
  }

  async function download(group, button) {
    const label = button.textContent;
    button.disabled = true;
    button.textContent = "Preparing…";
    try {
      const q = query();
      q.set("group", group);
      const res = await fetch(`/api/teams/${team}/reports/csv?${q}`, { credentials: "same-origin" });
      if (!res.ok) {
        const err = await res.json().catch(() => null);
        throw new Error(err?.error?.message ?? "The download failed.");
      }
      const url = URL.createObjectURL(await res.blob());
      const a = h("a", { href: url, download: `baton-report-${group}-${fromInput.value}-${toInput.value}.csv`, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      toast(e.message);
    } finally {
      button.disabled = false;
      button.textContent = label;
    }
  }

  filters.addEventListener("change", () => {
    fromInput.max = toInput.value;
    load();
  });
  filters.addEventListener("submit", (e) => { e.preventDefault(); load(); });
  app.cleanup.push(() => { for (const c of charts.splice(0)) c.destroy(); });
  await load();
}
