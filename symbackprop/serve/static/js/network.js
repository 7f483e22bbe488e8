// The network as SVG, laid out by the server (the TikZ pictures' layout, render/tikz.py).
import { tex } from "./math.js";

const SVG = "http://www.w3.org/2000/svg";
const PX_PER_CM = 44;
const RADIUS = { input: 15, neuron: 18, param: 13, node: 16, loss: 15 };

function el(name, attrs = {}) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

function label(x, y, source, className, width = 150, height = 30) {
  const fo = el("foreignObject", { x: x - width / 2, y: y - height / 2, width, height, class: className });
  const box = document.createElement("div");
  box.className = "svg-label";
  box.append(tex(source));
  fo.append(box);
  return fo;
}

// Draws `picture` into `container`; returns {svg, nodes: id -> g, edges: [{data, g}]}.
export function drawNetwork(container, picture, { onNode, onEdge } = {}) {
  const xu = parseFloat(picture.x_unit) * PX_PER_CM;
  const yu = parseFloat(picture.y_unit) * PX_PER_CM;
  const xs = picture.nodes.map((n) => parseFloat(n.x) * xu);
  const ys = picture.nodes.map((n) => -parseFloat(n.y) * yu);
  const pad = 60;
  const minX = Math.min(...xs) - pad, maxX = Math.max(...xs) + pad;
  const minY = Math.min(...ys) - pad, maxY = Math.max(...ys) + pad;
  const svg = el("svg", { viewBox: `${minX} ${minY} ${maxX - minX} ${maxY - minY}`, class: "net",
                          role: "img", "aria-label": "the network" });
  const defs = el("defs");
  const marker = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 9,
                                markerHeight: 9, markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" });
  marker.append(el("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrowhead" }));
  defs.append(marker);
  svg.append(defs);
  const at = {};
  picture.nodes.forEach((n, i) => { at[n.id] = { x: xs[i], y: ys[i], kind: n.kind }; });
  const edgeLayer = el("g", { class: "edges" });
  const labelLayer = el("g", { class: "edge-labels" });
  const nodeLayer = el("g", { class: "nodes" });
  const edges = [];
  for (const e of picture.edges) {
    const a = at[e.source], b = at[e.target];
    const dx = b.x - a.x, dy = b.y - a.y, len = Math.hypot(dx, dy) || 1;
    const ra = RADIUS[a.kind] + 2, rb = RADIUS[b.kind] + 4;
    const g = el("g", { class: "edge", "data-source": e.source, "data-target": e.target,
                        "data-params": e.params.join(" ") });
    g.append(el("line", { x1: a.x + dx / len * ra, y1: a.y + dy / len * ra,
                          x2: b.x - dx / len * rb, y2: b.y - dy / len * rb, "marker-end": "url(#arrow)" }));
    g.append(el("line", { x1: a.x, y1: a.y, x2: b.x, y2: b.y, class: "hit" }));
    edgeLayer.append(g);
    if (e.label) {
      const lx = parseFloat(e.x) * xu, ly = -parseFloat(e.y) * yu;
      const lab = label(lx, ly, e.label, "edge-label", 130, 26);
      lab.dataset.params = e.params.join(" ");
      labelLayer.append(lab);
      if (onEdge && e.params.length) lab.addEventListener("click", () => onEdge(e));
    }
    if (onEdge && e.params.length) g.addEventListener("click", () => onEdge(e));
    edges.push({ data: e, g });
  }
  const nodes = {};
  picture.nodes.forEach((n) => {
    const p = at[n.id];
    const g = el("g", { class: `node ${n.kind}`, "data-id": n.id, "data-entity": n.entity, tabindex: 0 });
    const r = RADIUS[n.kind];
    g.append(n.kind === "neuron" || n.kind === "input"
      ? el("circle", { cx: p.x, cy: p.y, r })
      : el("rect", { x: p.x - r * 1.4, y: p.y - r, width: r * 2.8, height: r * 2, rx: 4 }));
    g.append(label(p.x, p.y, n.label, "node-label", 80, 30));
    if (n.bias) {
      g.append(label(parseFloat(n.bias_x) * xu, -parseFloat(n.bias_y) * yu, n.bias, "bias-label", 110, 24));
    }
    if (onNode) {
      g.addEventListener("click", () => onNode(n));
      g.addEventListener("keydown", (event) => { if (event.key === "Enter") onNode(n); });
    }
    nodeLayer.append(g);
    nodes[n.id] = g;
  });
  svg.append(edgeLayer, nodeLayer, labelLayer);
  container.replaceChildren(svg);
  return { svg, nodes, edges };
}

export function clearMarks(drawing, ...classes) {
  if (!drawing) return;
  for (const c of classes) drawing.svg.querySelectorAll(`.${c}`).forEach((n) => n.classList.remove(c));
}

// The picture edges a path (graph node ids) runs along, and the picture nodes it visits.
export function pathMarks(drawing, at, path) {
  const ids = [];
  for (const node of path.nodes) {
    const id = at[node];
    if (id && ids[ids.length - 1] !== id) ids.push(id);
  }
  const marked = [];
  const first = path.nodes[0];
  if (!at[first] && path.nodes.length > 1) {  // a weight: the edge that carries it
    for (const e of drawing.edges) {
      if (e.data.params.includes(first) && e.data.target === at[path.nodes[1]]) marked.push(e.g);
    }
  }
  for (let i = 0; i + 1 < ids.length; i++) {
    for (const e of drawing.edges) {
      if (e.data.source === ids[i] && e.data.target === ids[i + 1]) marked.push(e.g);
    }
  }
  return { edges: marked, nodes: ids.map((id) => drawing.nodes[id]).filter(Boolean) };
}
