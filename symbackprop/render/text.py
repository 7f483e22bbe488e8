"""A readable terminal report of a Derivation (the CLI's ``--format text``)."""
from __future__ import annotations

from typing import Any

from ..plaintext import indicator_text


def _num(value: Any, digits: int) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_num(v, digits) for v in value) + "]"
    return f"{value:.{digits}f}"


def _matrix(rows: list, digits: int | None = None) -> str:
    cells = [[_num(v, digits) if digits is not None else str(v) for v in row] for row in rows]
    return "[" + "; ".join(", ".join(row) for row in cells) + "]"


def _layer_view_lines(view: dict[str, Any], loss: str, digits: int) -> list[str]:
    """The matrix form: per layer W, δ and ∂E/∂W (rows separated by ';'), with numbers when given."""
    lines = [f"Matrix form (--notation matrix; W[j][i]: row j = target neuron, column i = source; "
             f"scale s = {view['scale']})"]
    if "note" in view:
        lines.append(f"  NOTE: {view['note']}")
    for number, layer in view["layers"].items():
        lines.append(f"  Layer {number} ({layer['activation']}): {', '.join(layer['sources'])} -> "
                     f"{', '.join(layer['units'])}")
        if "maps" in layer:  # element-wise maps after the activation: h = phi(f(a))
            lines.append("    then element-wise: " + "; ".join(f"{n} = {e}" for n, e in layer["maps"].items()))
        tied = f"{layer['tied']} = " if "tied" in layer else ""   # tie: {W2: W1^T}
        lines.append(f"    W{number} = {tied}{_matrix(layer['weights'])}")
        lines.append(f"    delta{number} = {_matrix([[v] for v in layer['delta']])}   (per example, no 1/N)")
        lines.append(f"    d{loss}/dW{number} = {_matrix(layer['gradient'])}")
        if layer["biases"] is not None:
            lines.append(f"    b{number} = {_matrix([[v] for v in layer['biases']])}   "
                         f"d{loss}/db{number} = {_matrix([[v] for v in layer['bias_gradient']])}")
        values = layer.get("values")
        if values:
            lines.append(f"    values: W{number} = {_matrix(values['weights'], digits)}   "
                         f"d{loss}/dW{number} = {_matrix(values['gradient'], digits)}")
            if "updated_weights" in values:
                lines.append(f"            W{number}+ = {_matrix(values['updated_weights'], digits)}")
            if "biases" in values:
                lines.append(f"            b{number} = {_matrix([[v] for v in values['biases']], digits)}   "
                             f"d{loss}/db{number} = {_matrix([[v] for v in values['bias_gradient']], digits)}")
                if "updated_biases" in values:
                    lines.append(f"            b{number}+ = {_matrix([[v] for v in values['updated_biases']], digits)}")
    lines.append(f"  every entry checked against the scalar gradients "
                 f"(largest relative difference {view['check_max_difference']:.1e})")
    return lines


def text_report(result: dict[str, Any], *, digits: int = 6, stats: dict | None = None) -> str:
    """Render the JSON result dict as aligned text (numbers rounded for display only)."""
    lines = [f"symbackprop derive: {result['name']}  (method: {result['method']})", ""]
    variant = result.get("variant")
    if variant:
        lines += ["NOTE: " + variant["note"], ""]
    loss = result["loss"]
    value = f" = {_num(loss['value'], digits)}" if "value" in loss else ""
    lines += [f"Loss  {loss['symbol']} = {loss['expression']}{value}", ""]
    if "forward" in result:
        lines.append("Forward pass")
        width = max(len(n) for n in result["forward"])
        for name, vals in result["forward"].items():
            parts = "  ".join(f"{k} = {_num(v, digits)}" for k, v in vals.items())
            lines.append(f"  {name:<{width}}  {parts}")
        lines.append("")
    if result["deltas"]:
        e = loss["symbol"]
        lines.append(f"Deltas (delta_j = d{e}/dnet_j; for a node, d{e}/dnode), computed once each")
        for key, d in result["deltas"].items():
            value = f" = {_num(d['value'], digits)}" if "value" in d else ""
            lines.append(f"  {d['symbol']} = {d['expression']}{value}")
            if "simplified" in d:
                lines.append(f"      = {d['simplified']}   (when {d['condition']})")
        lines.append("")
    lines.append(f"Gradients (d{loss['symbol']}/dw)")
    updated = result.get("updated_params", {})
    for name, gr in result["gradients"].items():
        value = f" = {_num(gr['value'], digits)}" if "value" in gr else ""
        new = f"   ->  {name}+ = {_num(updated[name], digits)}" if name in updated else ""
        paths = f"   [{gr['path_count']} path{'s' if gr['path_count'] != 1 else ''}]"
        lines.append(f"  d{loss['symbol']}/d{name} = {gr['expression']}{value}{new}{paths}")
    if "loss_after_update" in result:
        lines += ["", f"Loss after one step (learning rate {result['learning_rate']:g}): "
                      f"{_num(loss['value'], digits)} -> {_num(result['loss_after_update'], digits)}"]
    if variant and "true_gradient_values" in variant:
        through = "full backpropagation through time" if variant.get("kind") == "truncated" else "old weights"
        lines += ["", f"True gradient ({through}), for comparison:"]
        for name, v in variant["true_gradient_values"].items():
            lines.append(f"  d{loss['symbol']}/d{name} = {_num(v, digits)}")
        lines.append(f"  largest difference from the variant: "
                     f"{variant['max_abs_gradient_difference']:.3g}")
    exact = result.get("exact")
    if exact:
        lines += ["", "Exact values (--exact; null where the closed form is too large)"]
        lines.append(f"  {loss['symbol']} = {exact.get('loss')}")
        for name, value in exact.get("gradients", {}).items():
            new = exact.get("updated_params", {}).get(name)
            lines.append(f"  d{loss['symbol']}/d{name} = {value}" + (f"   ->  {name}+ = {new}" if new else ""))
        if "loss_after_update" in exact:
            lines.append(f"  {loss['symbol']} after one step = {exact['loss_after_update']}")
    if "layer_view" in result:
        lines += [""] + _layer_view_lines(result["layer_view"], loss["symbol"], digits)
    if stats:
        lines += ["", "Operations for the full gradient (forward pass not counted)"]
        for method, ops in stats["operations"].items():
            lines.append(f"  {method:<9} {ops['mul']:>10,} multiplications  {ops['add']:>10,} additions"
                         f"  {ops['other']:>8,} other")
        lines.append(f"  paths from the parameters to the loss: {stats['paths']:,}")
    for note in result.get("notes", [])[1 if variant else 0:]:
        lines += ["", "Note: " + note]
    if result.get("warnings"):  # nodes at a kink or tie
        lines += ["", "Warnings", *(f"  {w['message']}" for w in result["warnings"])]
    return indicator_text("\n".join(lines)) + "\n"
