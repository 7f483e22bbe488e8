// The notebook view (Derivation._repr_html_): the same drawing and parameter panel as the page,
// no server. The Python side inlines math.js, network.js and panels.js before this file, and
// the explorer's data as JSON in a <script type="application/json"> beside the root element.
function explorerInNotebook(root) {
  const data = JSON.parse(root.querySelector("script.explorer-data").textContent);
  const picture = root.querySelector(".sbp-picture");
  const details = root.querySelector(".sbp-details");
  const params = root.querySelector(".sbp-params");
  details.replaceChildren(text("p", "Click a weight to see its paths to the loss, a neuron for its three formulas.", "note"));
  const drawing = drawNetwork(picture, data.picture, {
    onEdge: (e) => select(e.params[0]),
    onNode: (n) => {
      const name = n.entity.startsWith("neuron:") ? n.entity.slice(7) : null;
      if (!name || !data.neurons[name]) return;
      clearMarks(drawing, "hl", "selected");
      if (data.neurons[name].id) drawing.nodes[data.neurons[name].id].classList.add("selected");
      details.replaceChildren(neuronPanel(data.neurons[name]));
    },
  });
  function select(name) {
    const p = data.params[name];
    if (!p) return;
    clearMarks(drawing, "hl", "selected");
    for (const path of p.paths) {
      const marks = pathMarks(drawing, data.at, path);
      marks.edges.forEach((g) => g.classList.add("hl"));
      marks.nodes.forEach((g) => g.classList.add("hl"));
    }
    details.replaceChildren(paramPanel(p, data.loss));
  }
  paramButtons(params, data.params, select);
}
for (const root of document.querySelectorAll(".sbp-explorer:not([data-sbp])")) {
  root.dataset.sbp = "1";
  explorerInNotebook(root);
}
