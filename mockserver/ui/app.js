// The inspector: reads and steers the mock through its public admin API only, polling once
// a second. Opened as /__mock/ui?token=T, it sends X-Mock-Admin-Token: T on every call.
"use strict";

const ADMIN = "/__mock";
const POLL_MS = 1000;
const JOURNAL_SHOWN = 100;
const token = new URLSearchParams(location.search).get("token");
const expanded = new Set(); // request ids whose bodies are open
let catalogue = [];
let journalShown = [];

const $ = (selector) => document.querySelector(selector);

function escape(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function api(method, path, body) {
  const headers = {};
  if (token) headers["X-Mock-Admin-Token"] = token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(ADMIN + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `${method} ${path}: HTTP ${response.status}`);
  return data;
}

function say(message, isError = false) {
  const status = $("#status");
  status.textContent = message;
  status.className = isError ? "error" : "muted";
}

function statusClass(status) {
  return status === null ? "snone" : `s${String(status)[0]}`;
}

function pretty(text) {
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return text; }
}

// journal -------------------------------------------------------------------------------

function renderJournal(entries) {
  $("#journal-empty").hidden = entries.length > 0;
  const rows = entries.map((e) => {
    const time = new Date(e.at * 1000).toISOString().slice(11, 23);
    const open = expanded.has(e.request_id);
    const row = `<tr class="entry" data-request-id="${escape(e.request_id)}">
      <td>${time}</td><td class="${statusClass(e.status)}">${e.status ?? "none"}</td>
      <td>${escape(e.vendor)}</td><td>${escape(e.route)}</td><td>${escape(e.key ?? "-")}</td>
      <td>${e.duration_ms.toFixed(1)}</td><td>${escape(e.scenario ?? "")}</td>
      <td>${e.notes.length ? `<span class="tag" title="${escape(e.notes.join("\n"))}">${e.notes.length}</span>` : ""}</td>
      <td class="wrap">${escape(e.outcomes.join(", "))}</td></tr>`;
    if (!open) return row;
    const headers = Object.entries(e.headers).map(([k, v]) => `${k}: ${v}`).join("\n");
    return row + `<tr class="detail"><td colspan="9">
      <b>${escape(e.method)} ${escape(e.path)}${e.query ? "?" + escape(e.query) : ""}</b>
      <span class="muted">request id ${escape(e.request_id)}${e.scenario_source ? ", scenario from " + escape(e.scenario_source) : ""}, ${e.credits_charged} credit(s)</span>
      ${e.reason ? `<div>refused: ${escape(e.reason)}</div>` : ""}
      ${e.notes.map((n) => `<div>contract note: ${escape(n)}</div>`).join("")}
      <div>request headers</div><pre>${escape(headers)}</pre>
      <div>request body</div><pre class="request-body">${escape(pretty(e.body)) || "(empty)"}</pre>
      <div>response body</div><pre class="response-body">${escape(pretty(e.response_body)) || "(empty)"}</pre>
    </td></tr>`;
  });
  $("#journal tbody").innerHTML = rows.join("");
}

$("#journal tbody").addEventListener("click", (event) => {
  const row = event.target.closest("tr.entry");
  if (!row) return;
  const id = row.dataset.requestId;
  if (expanded.has(id)) expanded.delete(id); else expanded.add(id);
  renderJournal(journalShown);
});

// scenarios -----------------------------------------------------------------------------

function fillSelect(select, values, labels = values) {
  const kept = select.value;
  select.innerHTML = values.map((v, i) => `<option value="${escape(v)}">${escape(labels[i])}</option>`).join("");
  if (values.includes(kept)) select.value = kept;
}

function fillArmForm() {
  const vendors = [...new Set(catalogue.map((row) => row.vendor))];
  fillSelect($("#arm-vendor"), vendors);
  const vendor = $("#arm-vendor").value;
  const routes = [...new Set(catalogue.filter((r) => r.vendor === vendor).map((r) => r.route))];
  fillSelect($("#arm-route"), routes);
  const route = $("#arm-route").value;
  const rows = catalogue.filter((r) => r.vendor === vendor && r.route === route);
  fillSelect($("#arm-scenario"), rows.map((r) => r.name),
    rows.map((r) => `${r.name} (${r.status ?? r.kind})`));
}

$("#arm-vendor").addEventListener("change", fillArmForm);
$("#arm-route").addEventListener("change", fillArmForm);

$("#arm-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = {
    scenario: $("#arm-scenario").value, vendor: $("#arm-vendor").value,
    route: $("#arm-route").value, times: Number($("#arm-times").value) || 1,
  };
  const handle = $("#arm-handle").value.trim();
  if (handle) body.handle = handle;
  await act(() => api("POST", "/scenarios", body), `armed ${body.scenario}`);
});

function renderArmed(armed) {
  $("#armed tbody").innerHTML = armed.map((e) => {
    const what = e.scenario ?? `status ${e.status}` + (e.latency_ms ? ` +${e.latency_ms} ms` : "");
    const match = ["vendor", "route", "handle", "key"].filter((f) => e[f]).map((f) => e[f]).join(" ") || "every request";
    return `<tr data-armed-id="${escape(e.id)}"><td>${escape(what)}</td><td>${escape(match)}</td>
      <td>${e.remaining ?? "∞"}</td><td>${e.fired}</td>
      <td><button class="disarm" data-id="${escape(e.id)}">Disarm</button></td></tr>`;
  }).join("") || `<tr><td colspan="5" class="muted">nothing armed</td></tr>`;
}

$("#armed tbody").addEventListener("click", async (event) => {
  const button = event.target.closest("button.disarm");
  if (button) await act(() => api("DELETE", `/scenarios?id=${encodeURIComponent(button.dataset.id)}`), "disarmed");
});
$("#disarm-all").addEventListener("click", () => act(() => api("DELETE", "/scenarios"), "disarmed all"));

// keys, clock ---------------------------------------------------------------------------

function renderKeys(keys) {
  $("#keys tbody").innerHTML = keys.map((k) => `<tr><td>${escape(k.key)}</td>
    <td>${k.balance}</td><td>${escape(k.status)}</td><td>${k.rate_limit || "none"}</td></tr>`).join("")
    || `<tr><td colspan="4" class="muted">no key used yet</td></tr>`;
}

function renderClock(clock) {
  $("#clock-now").textContent = clock.now;
  $("#clock-state").textContent = clock.frozen ? "frozen" : "running";
}

$("#clock-freeze").addEventListener("click", () => act(() => api("POST", "/clock", { freeze: true }), "clock frozen"));
$("#clock-unfreeze").addEventListener("click", () => act(() => api("POST", "/clock", { freeze: false }), "clock running"));
$("#clock-advance").addEventListener("click", () => {
  const seconds = Number($("#clock-seconds").value) || 0;
  return act(() => api("POST", "/clock", { advance: seconds }), `clock advanced ${seconds} s`);
});
$("#reset").addEventListener("click", () => act(() => api("POST", "/reset"), "mock reset"));

// coverage ------------------------------------------------------------------------------

function renderCoverage(report) {
  $("#coverage-total").textContent = `${report.met} of ${report.total} documented outcomes met (${report.percent}%) since ${report.since}`;
  $("#coverage").innerHTML = Object.entries(report.vendors).map(([name, vendor]) => {
    const routes = Object.keys(vendor.routes);
    const labels = [];
    for (const route of routes) {
      for (const row of Object.values(vendor.routes[route].outcomes)) {
        if (!labels.includes(row.label)) labels.push(row.label);
      }
    }
    const cell = (route, label) => {
      const row = Object.values(vendor.routes[route].outcomes).find((r) => r.label === label);
      if (!row) return `<td class="na"></td>`;
      const how = row.scenario ? `scenario ${row.scenario}` : "natural";
      return row.met
        ? `<td class="met" title="first request ${escape(row.first_request_id)}">${row.met}</td>`
        : `<td class="unmet" title="${escape(how)}">0</td>`;
    };
    const notes = vendor.notes.map((n) => `<li>${escape(n.route)}: ${escape(n.note)} (${n.met}×)</li>`).join("");
    return `<h3>${escape(vendor.title)} <small class="muted">${vendor.met} of ${vendor.total} (${vendor.percent}%)</small></h3>
      <table class="matrix" data-vendor="${escape(name)}"><thead><tr><th>outcome</th>
      ${routes.map((r) => `<th class="route">${escape(r)} <small class="muted">${vendor.routes[r].met}/${vendor.routes[r].total}</small></th>`).join("")}</tr></thead>
      <tbody>${labels.map((l) => `<tr><td>${escape(l)}</td>${routes.map((r) => cell(r, l)).join("")}</tr>`).join("")}</tbody></table>
      ${notes ? `<p>Contract notes clients triggered:</p><ul>${notes}</ul>` : ""}`;
  }).join("");
}

// polling -------------------------------------------------------------------------------

async function act(call, done) {
  try {
    await call();
    say(done);
  } catch (error) {
    say(error.message, true);
  }
  await refresh();
}

const lastShown = {};
function changed(name, data) {
  const text = JSON.stringify(data);
  if (lastShown[name] === text) return false;
  lastShown[name] = text;
  return true;
}

let refreshing = false;
async function refresh() {
  if (refreshing) return;
  refreshing = true;
  try {
    const [journal, scenarios, keys, clock, coverage] = await Promise.all([
      api("GET", `/requests?limit=${JOURNAL_SHOWN}`), api("GET", "/scenarios"),
      api("GET", "/keys"), api("GET", "/clock"), api("GET", "/coverage"),
    ]);
    if (!catalogue.length) {
      catalogue = scenarios.catalogue;
      fillArmForm();
    }
    journalShown = journal.requests;
    // redraw only what changed, so an open row, a selection or a hover survives a poll
    if (changed("journal", journalShown)) renderJournal(journalShown);
    if (changed("armed", scenarios.armed)) renderArmed(scenarios.armed);
    if (changed("keys", keys.keys)) renderKeys(keys.keys);
    if (changed("clock", clock)) renderClock(clock);
    if (changed("coverage", coverage)) renderCoverage(coverage);
    $("#health").textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    say(`cannot reach the mock: ${error.message}`, true);
  } finally {
    refreshing = false;
  }
}

refresh();
setInterval(refresh, POLL_MS);
