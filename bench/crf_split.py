"""A linear-chain CRF for the splitter's roles, trained with numpy/scipy (training only).

The logistic model (``bench.train_split --kind logreg``) fits each unit's role on its own and
counts the role transitions apart; the decode then adds the two. Here the unit weights, the
transition scores and the start scores are fitted together, by the likelihood of whole role
sequences, so a unit's weights are learnt where they decide the sequence (a cut), next to the
transitions they are added to in the decode. Inference is unchanged: the same linear unit
scores and ``model.decode`` (``streams.text.split.model.LinearScorer`` reads the same file).

Forward-backward runs over all items at once (items sorted by length and padded, in log space),
so one gradient costs a few numpy operations per position. L2-regularised like scikit-learn's
``LogisticRegression`` (``C`` times the loss plus half the squared weights; the bias and start
scores too, as a CRF's scores have flat directions that slow L-BFGS down otherwise).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.optimize import minimize
from scipy.special import logsumexp

K = 4  # roles T, L, S, B
Arr = NDArray[np.float64]


def objective(
    x: sparse.csr_matrix, y: Sequence[int], lengths: Sequence[int], *, c: float = 1.0
) -> tuple[Callable[[Arr], tuple[float, Arr]], int, Callable[[Arr], tuple[Arr, ...]]]:
    """The regularised negative log-likelihood of the gold role sequences and its gradient,
    the number of parameters, and a function that unpacks a parameter vector into unit
    weights (features x 4), bias (4), transitions (4 x 4) and start scores (4).

    ``x``: one row per unit, the units of an item consecutive (``lengths``); ``y``: gold role
    indices."""
    n, f = x.shape
    yv = np.asarray(y, dtype=np.int64)
    # Items sorted longest first: at position t only the first `alive[t]` items still run.
    order = np.argsort(-np.asarray(lengths), kind="stable")
    starts = np.concatenate([[0], np.cumsum(lengths)])[:-1]
    perm = np.concatenate([np.arange(starts[i], starts[i] + lengths[i]) for i in order])
    x = x[perm].tocsr()
    yv = yv[perm]
    lens = np.asarray(lengths)[order]
    b, tmax = len(lens), int(lens.max())
    mask = np.arange(tmax)[None, :] < lens[:, None]
    idx = np.zeros((b, tmax), dtype=np.int64)
    idx[mask] = np.arange(n)  # row-major order of the mask is the order of the units
    alive = mask.sum(axis=0)
    last = lens - 1
    gold = np.zeros((n, K))
    gold[np.arange(n), yv] = 1.0
    ygrid = yv[idx]
    xt = x.T.tocsr()
    sizes = (f * K, K, K * K, K)

    def unpack(th: Arr) -> tuple[Arr, ...]:
        w, bias, tr, st = np.split(th, np.cumsum(sizes)[:-1])
        return w.reshape(f, K), bias, tr.reshape(K, K), st

    # Gold counts (constant): unit features, bias, transitions, starts.
    g_w = xt @ gold
    g_b = gold.sum(axis=0)
    g_tr = np.zeros((K, K))
    for t in range(1, tmax):
        m = alive[t]
        np.add.at(g_tr, (ygrid[:m, t - 1], ygrid[:m, t]), 1.0)
    g_st = np.bincount(ygrid[:, 0], minlength=K).astype(float)

    def fun(th: Arr) -> tuple[float, Arr]:
        w, bias, tr, st = unpack(th)
        u = np.asarray(x @ w) + bias  # (n, K)
        ug = u[idx]  # (b, t, K)
        alpha = np.zeros((b, tmax, K))
        alpha[:, 0] = st + ug[:, 0]
        for t in range(1, tmax):
            m = alive[t]
            alpha[:m, t] = logsumexp(alpha[:m, t - 1, :, None] + tr, axis=1) + ug[:m, t]
        beta = np.zeros((b, tmax, K))
        for t in range(tmax - 2, -1, -1):
            m = alive[t + 1]
            nxt = ug[:m, t + 1] + beta[:m, t + 1]
            beta[:m, t] = logsumexp(tr + nxt[:, None, :], axis=2)
        logz = logsumexp(alpha[np.arange(b), last], axis=1)
        gold_score = u[np.arange(n), yv].sum() + st @ g_st + np.sum(tr * g_tr)
        nll = logz.sum() - gold_score
        post = np.exp(alpha + beta - logz[:, None, None]) * mask[..., None]
        e_unit = np.zeros((n, K))
        e_unit[idx[mask]] = post[mask]
        e_tr = np.zeros((K, K))
        for t in range(1, tmax):
            m = alive[t]
            xi = (
                alpha[:m, t - 1, :, None]
                + tr
                + (ug[:m, t] + beta[:m, t])[:, None, :]
                - logz[:m, None, None]
            )
            e_tr += np.exp(xi).sum(axis=0)
        e_st = post[:, 0].sum(axis=0)
        grad = np.concatenate(
            [
                (c * np.asarray(xt @ e_unit - g_w) + w).ravel(),
                c * (e_unit.sum(axis=0) - g_b) + bias,
                (c * (e_tr - g_tr) + tr).ravel(),
                c * (e_st - g_st) + st,
            ]
        )
        reg = np.sum(w * w) + np.sum(tr * tr) + bias @ bias + st @ st
        return float(c * nll + 0.5 * reg), grad

    return fun, sum(sizes), unpack


def fit_crf(
    x: sparse.csr_matrix,
    y: Sequence[int],
    lengths: Sequence[int],
    *,
    c: float = 1.0,
    max_iter: int = 1000,
) -> dict[str, Any]:
    """Fit the CRF by L-BFGS from zeros (deterministic); see ``objective`` for the arguments."""
    fun, size, unpack = objective(x, y, lengths, c=c)
    res = minimize(fun, np.zeros(size), jac=True, method="L-BFGS-B", options={"maxiter": max_iter})
    w, bias, tr, st = unpack(res.x)
    return {"w": w, "bias": bias, "trans": tr, "start": st, "iters": int(res.nit)}
