// Math through KaTeX (vendored, no CDN). Every string passed here is LaTeX the server wrote;
// KaTeX builds the DOM itself (trust: false), and plain text always goes through textContent.

export function tex(source, { display = false } = {}) {
  const span = document.createElement(display ? "div" : "span");
  span.className = "math";
  if (window.katex) {
    window.katex.render(source, span, { throwOnError: false, displayMode: display, trust: false, strict: "ignore" });
  } else {
    span.textContent = source;
  }
  return span;
}

// One row of the worked solution: lhs = line 1 = ... Each line is typeset inline (in display
// style), so a line too long for the panel breaks after an = or an operator instead of being cut.
export function rowMath(row) {
  const box = document.createElement("div");
  box.className = "math-row";
  row.lines.forEach((line, i) => {
    const part = document.createElement("div");
    part.className = i === 0 ? "math-line" : "math-line cont";
    part.append(tex(`\\displaystyle ${i === 0 ? row.lhs + " " : ""}${line.rel} ${line.tex}`));
    box.append(part);
  });
  return box;
}

export function rows(list) {
  const box = document.createElement("div");
  box.className = "rows";
  for (const row of list) box.append(rowMath(row));
  return box;
}

export function text(tag, content, className) {
  const el = document.createElement(tag);
  el.textContent = content;
  if (className) el.className = className;
  return el;
}
