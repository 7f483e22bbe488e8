"""Independent figures for examples/we11-composite-chain.yaml (WE-11).

Stdlib only; does not use symbackprop.  S = L**2 + 2, P = sqrt(S), objective P.
    dP/dS = 1/(2 sqrt(S)),  dS/dL = 2L,  dP/dL = L / sqrt(L**2 + 2)   (lecture)
Cross-checked against a central finite difference (h = 1e-6).
"""
import json
import math

L = 1.5
S = L ** 2 + 2
P = math.sqrt(S)
dP_dS = 1 / (2 * math.sqrt(S))
dP_dL = dP_dS * 2 * L
assert abs(dP_dL - L / math.sqrt(L ** 2 + 2)) <= 1e-15
h = 1e-6
fd = (math.sqrt((L + h) ** 2 + 2) - math.sqrt((L - h) ** 2 + 2)) / (2 * h)
assert abs(fd - dP_dL) <= 1e-6

print(json.dumps({
    "forward.S.value": S,
    "forward.P.value": P,
    "loss.value": P,
    "deltas.S.value": dP_dS,
    "gradients.L.value": dP_dL,
}, indent=2))
