#!/usr/bin/python3
"""The coefficients of kernels/recurrent.hpp's fast tanh: x P(x^2) / Q(x^2), P and Q cubic in
x^2, Q(0) = 1, fitted to tanh on [0, c] by iterated weighted linear least squares (Loeb's
linearisation, Lawson's reweighting towards the minimax fit); the clamp c is chosen for the
smallest worst error of the float evaluation (Estrin order, as the kernel evaluates it) over
[0, 12]. Prints c, the coefficients and that error.

    /usr/bin/python3 tools/fast_tanh_fit.py
"""
import numpy as np


def fit(c, iters=150):
    x = np.linspace(1e-4, c, 40000)
    u, t = x * x, np.tanh(x)
    w, q_u = np.ones_like(x), np.ones_like(x)
    for _ in range(iters):
        a = np.hstack([(x * u ** k)[:, None] for k in range(4)] + [(-t * u ** k)[:, None] for k in range(1, 4)])
        ww = w / q_u
        sol, *_ = np.linalg.lstsq(a * ww[:, None], t * ww, rcond=None)
        p, q = sol[:4], np.concatenate([[1], sol[4:]])
        q_u = np.polyval(q[::-1], u)
        err = x * np.polyval(p[::-1], u) / q_u - t
        w = w * (np.abs(err) / np.max(np.abs(err))) ** 0.2 + 1e-15
        w /= w.mean()
    return p, q


def float_error(c, p, q):
    p, q = p.astype(np.float32), q.astype(np.float32)
    xs = np.linspace(0, 12, 1200001).astype(np.float32)
    a = np.minimum(xs, np.float32(c))
    u = a * a
    u2 = u * u
    num = (p[0] + p[1] * u) + u2 * (p[2] + p[3] * u)
    den = (q[0] + q[1] * u) + u2 * (q[2] + q[3] * u)
    return np.max(np.abs((a * num / den).astype(np.float64) - np.tanh(xs.astype(np.float64))))


def main():
    best = None
    for c in np.arange(6.5, 7.6, 0.1):
        p, q = fit(c)
        e = float_error(c, p, q)
        if best is None or e < best[0]:
            best = (e, c, p, q)
    e, c, p, q = best
    print("clamp", round(c, 2), "worst float error", e)
    print("P", [float(np.float32(v)) for v in p])
    print("Q", [float(np.float32(v)) for v in q])


if __name__ == "__main__":
    main()
