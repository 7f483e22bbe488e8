// The details panel (a parameter's paths, a neuron's formulas), the stepper and the checker's verdict.
import { rows, tex, text } from "./math.js";

// One button per parameter (its label typeset), each calling onSelect(name).
export function paramButtons(container, params, onSelect) {
  for (const name of Object.keys(params)) {
    const b = document.createElement("button");
    b.type = "button"; b.className = "param"; b.dataset.param = name;
    b.append(tex(params[name].label));
    b.addEventListener("click", () => onSelect(name));
    container.append(b);
  }
}

export function paramPanel(p, loss) {
  const box = document.createElement("div");
  box.className = "param-panel";
  box.id = "param-panel";
  const head = document.createElement("h3");
  head.append(tex(`${p.lhs}`), text("span", `  ${p.count} path${p.count === 1 ? "" : "s"} to ${loss}`, "muted"));
  box.append(head);
  if (p.paths.length) {
    const list = document.createElement("ol");
    list.className = "paths";
    p.paths.forEach((path, i) => {
      const item = document.createElement("li");
      item.className = "path";
      item.dataset.index = String(i);
      item.append(tex(path.chain), document.createElement("br"), tex(`\\prod = ${path.product}`));
      if (path.value) item.append(text("span", ` = ${path.value}`, "path-value"));
      list.append(item);
    });
    box.append(text("h4", "Sum over paths"), list);
    if (p.more > 0) box.append(text("p", `… and ${p.more} more paths (the first ${p.paths.length} listed)`, "note"));
    if (p.value) {
      const sum = document.createElement("p");
      sum.className = "sum";
      sum.append(tex(`\\sum_{\\text{paths}} = `), text("span", p.value, "sum-value"));
      box.append(sum);
    }
  } else if (!p.listed) {
    box.append(text("p", `${p.count} paths: too many to list here; cached backprop gives the same sum.`, "note"));
  }
  box.append(text("h4", "Cached backprop: δ · input"), rows([p.cached]));
  if (p.value) {
    const value = document.createElement("p");
    value.className = "value";
    value.append(tex(`${p.lhs} = `), text("span", p.value, "gradient-value"));
    value.id = "param-value";
    box.append(value);
  }
  if (p.update) box.append(text("h4", "The update"), rows([p.update]));
  return box;
}

export function neuronPanel(n) {
  const box = document.createElement("div");
  box.id = "neuron-panel";
  if (!n.rows.length) box.append(text("p", "No δ for this neuron (it does not reach the loss).", "note"));
  box.append(rows(n.rows));
  return box;
}

export function stepView(step, index, total) {
  const phase = `${step.phase === "forward" ? "Forward" : "Backward"} pass · step ${index + 1} of ${total}`;
  return { phase, body: rows(step.rows) };
}

// The checker's report (check --format json): verdicts, slips, counterexamples, graded figures.
export function checkView(report) {
  const box = document.createElement("div");
  box.id = "check-report";
  for (const a of report.answers || []) {
    const item = document.createElement("div");
    item.className = `verdict ${a.verdict}`;
    item.append(text("strong", `${a.quantity}: ${a.verdict}`, "check-verdict"));
    if (a.diagnosis) item.append(text("p", `Slip: ${a.diagnosis}`, "check-diagnosis"));
    if (a.counterexample) {
      const c = a.counterexample;
      const where = c.at_spec_values ? "at the spec's values" : "at the point";
      const point = Object.entries(c.point || {}).map(([k, v]) => `${k} = ${+v.toPrecision(6)}`).join(", ");
      item.append(text("p", `Counterexample ${where}: ${point}`, "counterexample"),
                  text("p", `your answer ${fmt(c.answer)}, correct ${fmt(c.correct)}`, "counterexample"));
    }
    if (a.correct && a.verdict !== "correct") item.append(text("p", `Correct: ${a.correct}`, "muted"));
    box.append(item);
  }
  for (const s of report.solutions || []) {
    const item = document.createElement("div");
    item.className = "figures";
    for (const f of s.figures || []) {
      const status = String(f.status).replaceAll("_", " ");
      item.append(text("p", `${f.name} = ${f.written}: ${status} (exact ${fmt(f.correct_value)})`,
                        `figure ${f.status}`));
    }
    box.append(item);
  }
  for (const note of report.notes || []) box.append(text("p", note, "note"));
  return box;
}

function fmt(x) {
  return typeof x === "number" ? String(+x.toPrecision(6)) : String(x);
}
