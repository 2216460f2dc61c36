// The page builds the panels that panels.js registers and keeps every input in the URL. It requests
// each panel's figures from the API when one of its inputs changes, and computes no estimate.
"use strict";

const DEBOUNCE_MS = 150;
const MAX_CONFIG_BYTES = 64 * 1024;
const SHARED_DEFAULTS = { model: "llama-3-70b", params: "70B", gpu: "h100", config: "" };

const meta = { models: [], gpus: [], gpuByName: {} };
const state = {};
const defaults = { ...SHARED_DEFAULTS };
const pending = new Map(); // panel id -> AbortController of its request in flight

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

// --- URL state ------------------------------------------------------------------------------------

function encodeText(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function decodeText(encoded) {
  const binary = atob(encoded.replace(/-/g, "+").replace(/_/g, "/"));
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

function readUrl() {
  const query = new URLSearchParams(location.search);
  for (const key of Object.keys(defaults)) {
    if (!query.has(key)) continue;
    if (key === "config") {
      try {
        state.config = decodeText(query.get("config"));
      } catch {
        state.config = "";
      }
    } else {
      state[key] = query.get(key);
    }
  }
}

function writeUrl() {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(state)) {
    if (value === defaults[key]) continue;
    if (key === "config" && state.model !== "@upload") continue;
    query.set(key, key === "config" ? encodeText(value) : value);
  }
  const search = query.toString();
  history.replaceState(null, "", search ? `?${search}` : location.pathname);
}

// --- API ------------------------------------------------------------------------------------------

async function post(path, body, signal) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal,
  });
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || `request failed with status ${response.status}`);
  return data;
}

function lookup(data, path) {
  return path.split(".").reduce((value, key) => (value == null ? undefined : value[key]), data);
}

// --- controls -------------------------------------------------------------------------------------

function optionsFor(input) {
  if (input.options === "gpus") return meta.gpus.map((g) => [g.name, g.name]);
  if (input.options === "models") return meta.models.map((m) => [m.name, `${m.name} (${m.formatted.params_total})`]);
  return input.options;
}

function buildControl(input) {
  let control;
  if (input.type === "select") {
    control = el("select");
    for (const [value, label] of optionsFor(input)) control.append(el("option", { value, text: label }));
  } else if (input.type === "checkbox") {
    control = el("input", { type: "checkbox" });
  } else if (input.type === "range") {
    control = el("input", { type: "range", min: input.min, max: input.max, step: input.step });
  } else {
    control = el("input", { type: "text", size: input.size || 8, spellcheck: "false", autocomplete: "off" });
  }
  control.dataset.key = input.key;
  if (input.testid) control.dataset.testid = input.testid;
  const label = el("label", { class: `control control-${input.type || "text"}` }, el("span", { text: input.label }), control);
  if (input.unit) label.append(el("output", { class: "range-value", "data-for": input.key }));
  return label;
}

function buildPanel(panel) {
  const section = el("section", { class: panel.wide ? "panel wide" : "panel", id: `panel-${panel.id}`, "data-testid": `panel-${panel.id}`, "aria-labelledby": `title-${panel.id}` });
  section.append(el("h2", { id: `title-${panel.id}`, text: panel.title }));
  section.append(el("p", { class: "panel-title", "data-role": "title" }));
  const controls = el("div", { class: "controls" });
  for (const input of panel.inputs) controls.append(buildControl(input));
  if (panel.run) {
    const button = el("button", { type: "button", class: "run", "data-testid": panel.run.testid, text: panel.run.label });
    button.addEventListener("click", () => runPanel(panel));
    controls.append(button);
  }
  section.append(controls);
  if (panel.note) section.append(el("p", { class: "note", text: panel.note }));
  section.append(el("p", { class: "error", role: "alert", "data-role": "error", "data-testid": `error-${panel.id}` }));
  const outputs = el("dl", { class: "outputs" });
  for (const output of panel.outputs) {
    const kind = ["output", output.main ? "main" : "", output.wide ? "wide" : ""].filter(Boolean).join(" ");
    const row = el("div", { class: kind, "data-output": output.text });
    row.append(el("dt"), el("dd", { "data-testid": output.testid, "data-role": "value" }));
    outputs.append(row);
  }
  section.append(outputs);
  if (panel.table) section.append(el("div", { class: "table-wrap", "data-role": "table" }));
  section.append(el("div", { class: "charts", "data-role": "charts" }));
  // Hidden until a response brings steps; a button-run panel has none before its first run.
  const details = el("details", { class: "derivation", hidden: true }, el("summary", { text: "How each number was obtained" }));
  details.append(el("table", { "data-role": "derivation" }));
  section.append(details);
  return section;
}

function syncControls() {
  for (const control of document.querySelectorAll("[data-key]")) {
    const key = control.dataset.key;
    const value = state[key] ?? "";
    if (control.type === "checkbox") control.checked = value === "1";
    else if (control.type !== "file" && control.value !== value) control.value = value;
  }
  for (const output of document.querySelectorAll("output.range-value")) output.textContent = `${state[output.dataset.for]}%`;
  for (const panel of PANELS) {
    const section = document.getElementById(`panel-${panel.id}`);
    for (const input of panel.inputs) {
      const label = section.querySelector(`[data-key="${input.key}"]`).closest("label");
      label.hidden = input.when ? !input.when(state) : false;
      if (input.placeholder) label.querySelector("input").placeholder = String(input.placeholder(meta, state));
    }
    for (const output of panel.outputs) {
      const row = section.querySelector(`[data-output="${output.text}"]`);
      row.hidden = output.when ? !output.when(state) : false;
      row.querySelector("dt").textContent = typeof output.label === "function" ? output.label(state) : output.label;
    }
  }
  document.querySelector(".when-params").hidden = state.model !== "@params";
  const upload = document.querySelector('#model option[value="@upload"]');
  upload.hidden = !state.config;
}

function fillSetup() {
  const model = document.getElementById("model");
  for (const preset of meta.models) {
    model.append(el("option", { value: preset.name, text: `${preset.name} (${preset.formatted.params_total})` }));
  }
  model.append(el("option", { value: "@params", text: "bare parameter count" }));
  model.append(el("option", { value: "@upload", text: "uploaded config.json" }));
  const gpu = document.getElementById("gpu");
  for (const g of meta.gpus) gpu.append(el("option", { value: g.name, text: `${g.name} (${g.formatted.hbm}, ${g.formatted.bf16})` }));
}

// --- rendering ------------------------------------------------------------------------------------

function renderTable(container, spec, data) {
  const rows = lookup(data, spec.rows) || [];
  const headers = spec.headers ? spec.headers(data) : spec.columns.map(([header]) => header);
  const table = el("table", { class: "figures" });
  const head = el("tr");
  for (const header of headers) head.append(el("th", { text: header }));
  table.append(el("thead", {}, head));
  const body = el("tbody");
  for (const row of rows) {
    const tr = el("tr");
    for (const [, key] of spec.columns) tr.append(el("td", { text: String(row[key] ?? "") }));
    body.append(tr);
  }
  table.append(body);
  container.replaceChildren(table);
}

function renderDerivation(table, steps) {
  table.replaceChildren(
    ...steps.map((step) => {
      const numbers = [step.substituted, step.result].filter(Boolean).join(" = ");
      return el(
        "tr", {},
        el("th", { text: step.label }),
        el("td", {}, el("span", { class: "formula", text: step.formula }), numbers ? el("span", { class: "numbers", text: `= ${numbers}` }) : null),
      );
    }),
  );
}

function render(panel, section, data) {
  section.querySelector('[data-role="title"]').textContent = data.formatted.title || "";
  for (const output of panel.outputs) {
    const row = section.querySelector(`[data-output="${output.text}"]`);
    const value = row.querySelector("dd");
    const text = data.formatted[output.text];
    value.textContent = text ?? "—";
    const raw = output.value ? lookup(data, output.value) : undefined;
    if (raw === undefined || raw === null) value.removeAttribute("data-value");
    else value.dataset.value = String(raw);
    if (text === undefined && !output.when) row.hidden = true;
  }
  if (panel.table) renderTable(section.querySelector('[data-role="table"]'), panel.table, data);
  const chartsBox = section.querySelector('[data-role="charts"]');
  const specs = data.charts || [];
  while (chartsBox.children.length > specs.length) chartsBox.lastChild.remove();
  specs.forEach((spec, index) => {
    let figure = chartsBox.children[index];
    if (!figure) {
      figure = el("figure", { class: "chart", "data-testid": `chart-${panel.id}-${index}` });
      chartsBox.append(figure);
    }
    NapkinCharts.render(figure, spec);
  });
  const steps = data.derivation || [];
  renderDerivation(section.querySelector('[data-role="derivation"]'), steps);
  section.querySelector("details.derivation").hidden = steps.length === 0;
}

async function refreshPanel(panel) {
  const section = document.getElementById(`panel-${panel.id}`);
  pending.get(panel.id)?.abort();
  const controller = new AbortController();
  pending.set(panel.id, controller);
  section.setAttribute("aria-busy", "true");
  const error = section.querySelector('[data-role="error"]');
  try {
    const data = await post(panel.endpoint, panel.body(state), controller.signal);
    render(panel, section, data);
    error.textContent = "";
    section.classList.remove("stale");
  } catch (failure) {
    if (failure.name === "AbortError") return;
    error.textContent = failure.message;
    section.classList.add("stale");
  } finally {
    if (pending.get(panel.id) === controller) {
      pending.delete(panel.id);
      section.removeAttribute("aria-busy");
    }
  }
}

async function refreshModelInfo() {
  const info = document.getElementById("model-info");
  try {
    const data = await post("/api/model", modelFields(state));
    const f = data.formatted;
    if (!f.params_total) info.textContent = f.title;
    else {
      const active = data.params_active !== data.params_total ? `, ${f.params_active} active` : "";
      info.textContent = `${f.title}; ${f.params_total} parameters${active}; KV cache ${f.kv_cache_bytes_per_token} per token`;
    }
    info.classList.remove("error");
  } catch (failure) {
    info.textContent = failure.message;
    info.classList.add("error");
  }
}

// body[data-busy] is "1" from an input until every panel shows its response, for tests and scripts.
let generation = 0;
async function refreshAll() {
  const mine = ++generation;
  document.body.dataset.busy = "1";
  writeUrl();
  const live = PANELS.filter((panel) => !panel.run || state[panel.run.key] === "1");
  await Promise.all([refreshModelInfo(), ...live.map(refreshPanel)]);
  if (mine === generation) document.body.dataset.busy = "0";
}

// Run a panel that has a button; its key in the URL reruns it when the link is opened.
async function runPanel(panel) {
  const mine = ++generation;
  document.body.dataset.busy = "1";
  state[panel.run.key] = "1";
  writeUrl();
  await refreshPanel(panel);
  if (mine === generation) document.body.dataset.busy = "0";
}

// An input changed: the figures of a button-run panel no longer match it until the next run.
function markRunPanelsStale() {
  for (const panel of PANELS) {
    if (!panel.run || state[panel.run.key] !== "1") continue;
    state[panel.run.key] = "";
    pending.get(panel.id)?.abort();
    document.getElementById(`panel-${panel.id}`).classList.add("stale");
  }
}

// Raise the flag as soon as an input changes, so a refresh still in flight does not clear it.
function markBusy() {
  generation += 1;
  document.body.dataset.busy = "1";
}

let timer = null;
function scheduleRefresh() {
  markBusy();
  clearTimeout(timer);
  timer = setTimeout(refreshAll, DEBOUNCE_MS);
}

function onInput(event) {
  const control = event.target;
  const key = control.dataset.key;
  if (!key) return;
  if (control.type === "checkbox") state[key] = control.checked ? "1" : "";
  else state[key] = control.value;
  markRunPanelsStale();
  syncControls();
  scheduleRefresh();
}

async function onUpload(event) {
  const file = event.target.files[0];
  if (!file) return;
  const info = document.getElementById("model-info");
  if (file.size > MAX_CONFIG_BYTES) {
    info.textContent = `${file.name} is ${file.size.toLocaleString("en-US")} bytes, larger than any model config (${MAX_CONFIG_BYTES.toLocaleString("en-US")} bytes at most); choose the model's config.json`;
    info.classList.add("error");
    return;
  }
  markBusy(); // reading the file is asynchronous
  markRunPanelsStale();
  state.config = await file.text();
  state.model = "@upload";
  syncControls();
  await refreshAll();
}

async function start() {
  const response = await fetch("/api/meta");
  Object.assign(meta, await response.json());
  for (const gpu of meta.gpus) meta.gpuByName[gpu.name] = gpu;
  for (const panel of PANELS) {
    for (const input of panel.inputs) defaults[input.key] = input.default;
    if (panel.run) defaults[panel.run.key] = "";
  }
  Object.assign(state, defaults);
  readUrl();
  fillSetup();
  const main = document.getElementById("panels");
  for (const panel of PANELS) main.append(buildPanel(panel));
  syncControls();
  document.body.addEventListener("input", onInput);
  document.body.addEventListener("change", onInput);
  document.getElementById("upload").addEventListener("change", onUpload);
  await refreshAll();
  document.body.dataset.ready = "1";
  document.body.dataset.readyMs = String(Math.round(performance.now()));
}

document.addEventListener("DOMContentLoaded", start);
