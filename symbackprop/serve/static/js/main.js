// The explorer page: pick or edit a spec, see the network, click, step, check, download.
import { get, post } from "./api.js";
import { tex, text } from "./math.js";
import { clearMarks, drawNetwork, pathMarks } from "./network.js";
import { checkView, neuronPanel, paramButtons, paramPanel, stepView } from "./panels.js";

const $ = (id) => document.getElementById(id);
const state = { result: null, drawing: null, step: -1, examples: [] };
const DOWNLOADS = [
  ["derivation.tex", "derivation LaTeX"], ["solution.tex", "solution LaTeX"], ["derivation.pdf", "derivation PDF"],
  ["solution.pdf", "solution PDF"], ["module.py", "NumPy module"], ["derivation.json", "JSON"],
];

function showError(where, error) {
  const box = $(where);
  if (!error) { box.hidden = true; box.textContent = ""; return; }
  box.hidden = false;
  box.textContent = error.key ? `${error.message}` : error.message;
  box.dataset.key = error.key || "";
}

async function derive() {
  const { ok, data } = await post("/api/explore", { spec: $("spec").value });
  document.body.classList.toggle("stale", !ok);   // the drawing below is the last spec that worked
  if (!ok) { showError("spec-error", data ? data.error : { message: "the server did not answer" }); return; }
  showError("spec-error", null);
  state.result = data;
  state.step = -1;
  $("title").replaceChildren(...titleParts(data.title));
  draw();
}

// A title as text with its $…$ parts typeset (KaTeX builds those; the rest is textContent).
function titleParts(title) {
  return String(title).split(/(\$[^$]*\$)/).filter(Boolean).map((part) =>
    part.length > 2 && part.startsWith("$") && part.endsWith("$") ? tex(part.slice(1, -1)) : text("span", part));
}

function draw() {
  const { explorer, derivation } = state.result;
  $("picture-note").hidden = explorer.drawn;
  $("details-body").replaceChildren(text("p", "Click a weight to see its paths to the loss, a neuron for its three formulas.", "note"));
  $("details-title").textContent = "Details";
  $("step-phase").textContent = explorer.drawn && explorer.steps.length
    ? "Press → to step through the forward pass, then the backward pass" : "";
  $("step-rows").replaceChildren();
  const params = $("params");
  params.replaceChildren();
  const wrt = $("check-wrt");
  wrt.replaceChildren(...Object.keys(derivation.gradients).map((w) => {
    const o = document.createElement("option"); o.value = w; o.textContent = w; return o;
  }));
  if (!explorer.drawn) {
    state.drawing = null;
    $("picture").replaceChildren();
    $("picture-note").textContent = `${explorer.count} entities: too many to draw. The gradients are in the JSON download.`;
    return;
  }
  state.drawing = drawNetwork($("picture"), explorer.picture, {
    onNode: (n) => { const name = n.entity.startsWith("neuron:") ? n.entity.slice(7) : null; if (name) selectNeuron(name); },
    onEdge: (e) => selectParam(e.params[0]),
  });
  params.append(text("span", "Parameters: ", "muted"));
  paramButtons(params, explorer.params, selectParam);
}

// Nothing highlighted, no parameter button pressed; then ``name``'s button (if any) pressed.
function unmark(name = null) {
  clearMarks(state.drawing, "hl", "current", "selected");
  document.querySelectorAll("button.param").forEach((b) => b.classList.toggle("active", b.dataset.param === name));
}

function selectParam(name) {
  const { explorer } = state.result;
  const p = explorer.params[name];
  if (!p) return;
  unmark(name);
  for (const path of p.paths) {
    const marks = pathMarks(state.drawing, explorer.at, path);
    marks.edges.forEach((g) => g.classList.add("hl"));
    marks.nodes.forEach((g) => g.classList.add("hl"));
  }
  $("details-title").textContent = `Parameter ${name}`;
  $("details-body").replaceChildren(paramPanel(p, state.result.derivation.loss.symbol));
  $("check-wrt").value = name;
}

function selectNeuron(name) {
  const n = state.result.explorer.neurons[name];
  if (!n) return;
  unmark();
  if (n.id) state.drawing.nodes[n.id].classList.add("selected");
  $("details-title").textContent = `Neuron ${name}`;
  $("details-body").replaceChildren(neuronPanel(n));
}

function step(delta) {
  const steps = state.result?.explorer?.steps;
  if (!steps || !steps.length) return;
  state.step = Math.max(0, Math.min(steps.length - 1, state.step + delta));
  const s = steps[state.step];
  unmark();
  const id = state.result.explorer.at[s.node];
  if (id && state.drawing) state.drawing.nodes[id].classList.add("current");
  const view = stepView(s, state.step, steps.length);
  $("step-phase").textContent = view.phase;
  $("step-phase").dataset.phase = s.phase;
  $("step-rows").replaceChildren(view.body);
}

function solutionFigures(textValue) {
  const figures = {};
  for (const line of textValue.split("\n")) {
    const i = line.indexOf(":");
    if (i < 0) continue;
    const name = line.slice(0, i).trim();
    if (name) figures[name] = line.slice(i + 1).trim();
  }
  return Object.keys(figures).length ? figures : null;
}

async function check(event) {
  event.preventDefault();
  const body = { spec: $("spec").value };
  const answer = $("check-answer").value.trim();
  if (answer) body.answers = { [$("check-wrt").value]: answer };
  const figures = solutionFigures($("check-solution").value);
  if (figures) body.solution = figures;
  const out = $("check-result");
  if (!body.answers && !body.solution) { out.replaceChildren(text("p", "Type an answer or some figures first.", "note")); return; }
  out.replaceChildren(text("p", "checking…", "muted"));
  const { ok, data } = await post("/api/check", body);
  if (!ok) { out.replaceChildren(text("p", data ? data.error.message : "the server did not answer", "error")); return; }
  out.replaceChildren(checkView(data));
}

async function download(kind) {
  const { ok, status, response, data } = await post("/api/download", { spec: $("spec").value, kind });
  if (!ok) { showError("download-error", data ? data.error : { message: `failed (${status})` }); return; }
  showError("download-error", null);
  const blob = await response.blob();
  const name = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "")?.[1] || kind;
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob); a.download = name;
  document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

async function start() {
  const { ok, data } = await get("/api/examples");
  if (!ok) { showError("spec-error", data.error); return; }
  state.examples = data.examples;
  const select = $("examples");
  const entries = data.start && !data.examples.some((e) => e.name === data.start.name)
    ? [data.start, ...data.examples] : data.examples;
  state.examples = entries;
  select.replaceChildren(...entries.map((e, i) => {
    const o = document.createElement("option"); o.value = String(i); o.textContent = e.name; return o;
  }));
  const first = data.start ? entries.findIndex((e) => e.name === data.start.name) : 0;
  select.value = String(Math.max(first, 0));
  $("spec").value = entries[Math.max(first, 0)]?.spec || "";
  select.addEventListener("change", () => { $("spec").value = state.examples[+select.value].spec; $("spec").scrollTop = 0; derive(); });
  const tools = $("downloads");
  for (const [kind, title] of DOWNLOADS) {
    if (kind.endsWith(".pdf") && !data.tex) continue;
    const b = document.createElement("button");
    b.type = "button"; b.textContent = title; b.dataset.kind = kind;
    b.addEventListener("click", () => download(kind));
    tools.append(b);
  }
  await derive();
}

$("derive").addEventListener("click", derive);
$("spec").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) derive(); });
$("check-form").addEventListener("submit", check);
$("step-prev").addEventListener("click", () => step(-1));
$("step-next").addEventListener("click", () => step(1));
document.addEventListener("keydown", (e) => {
  if (["TEXTAREA", "INPUT", "SELECT"].includes(document.activeElement?.tagName)) return;
  if (e.key === "ArrowRight") { step(1); e.preventDefault(); }
  if (e.key === "ArrowLeft") { step(-1); e.preventDefault(); }
});
start().then(() => { document.body.dataset.ready = "1"; });
