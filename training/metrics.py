"""The paper's evaluation metrics, in NumPy (no scikit-learn).

* ROC over every (simulation, 1-ms bin) pair, exact bin matching (no timing tolerance), area by
  the trapezoidal rule over the distinct score thresholds (ties handled as one step, like
  scikit-learn's ``roc_curve``/``auc``).
* TPR at a false-positive rate: the ROC point with the largest FPR not above the target (and its
  score threshold: predict a spike where score ≥ threshold).
* Somatic voltage: RMSE and MAE (mV) and explained variance, both of the raw prediction and after
  the paper's calibration (prediction z-scored and rescaled to the target's mean and std over the
  whole evaluated set, `rescale_to_target`). The paper's published RMSE includes that calibration.
"""

from __future__ import annotations

import numpy as np


def roc_curve(y_true: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fpr, tpr, thresholds) for binary labels and real scores, thresholds descending. Point i
    classifies ``score ≥ thresholds[i]`` as positive; a first point (0, 0) with threshold +inf is
    prepended. Raises if either class is absent."""
    y = np.asarray(y_true).ravel().astype(bool)
    s = np.asarray(score, dtype=np.float64).ravel()
    if y.shape != s.shape:
        raise ValueError("labels and scores differ in size")
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("ROC needs both positive and negative labels")
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    last_of_group = np.r_[np.nonzero(np.diff(s))[0], s.size - 1]  # last index of each distinct score
    tp = np.cumsum(y)[last_of_group]
    fp = (last_of_group + 1) - tp
    tpr = np.r_[0.0, tp / n_pos]
    fpr = np.r_[0.0, fp / n_neg]
    thr = np.r_[np.inf, s[last_of_group]]
    return fpr, tpr, thr


def auc(fpr: np.ndarray, tpr: np.ndarray) -> float:
    """Area under a ROC curve (trapezoidal rule, fpr ascending)."""
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def roc_auc(y_true: np.ndarray, score: np.ndarray) -> float:
    fpr, tpr, _ = roc_curve(y_true, score)
    return auc(fpr, tpr)


def tpr_at_fpr(fpr: np.ndarray, tpr: np.ndarray, thresholds: np.ndarray, target_fpr: float) -> tuple[float, float, float]:
    """(tpr, fpr, threshold) of the ROC point with the largest FPR ≤ target_fpr."""
    i = int(np.searchsorted(fpr, target_fpr, side="right") - 1)
    return float(tpr[i]), float(fpr[i]), float(thresholds[i])


def rescale_to_target(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The paper's calibration: z-score the prediction and give it the target's mean and std
    (global over all given samples)."""
    p = np.asarray(pred, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64)
    sd = p.std()
    z = (p - p.mean()) / sd if sd > 0 else np.zeros_like(p)
    return z * t.std() + t.mean()


def explained_variance(target: np.ndarray, pred: np.ndarray) -> float:
    """1 − Var(target − pred) / Var(target) (as scikit-learn's explained_variance_score)."""
    t = np.asarray(target, dtype=np.float64).ravel()
    p = np.asarray(pred, dtype=np.float64).ravel()
    vt = t.var()
    return float(1.0 - (t - p).var() / vt) if vt > 0 else float("nan")


def soma_metrics(target_mV: np.ndarray, pred_mV: np.ndarray) -> dict:
    """RMSE, MAE (mV) and explained variance, raw and after `rescale_to_target`."""
    t = np.asarray(target_mV, dtype=np.float64).ravel()
    p = np.asarray(pred_mV, dtype=np.float64).ravel()
    r = rescale_to_target(p, t)
    return {
        "rmse_mV": float(np.sqrt(np.mean((t - p) ** 2))),
        "mae_mV": float(np.mean(np.abs(t - p))),
        "explained_variance": explained_variance(t, p),
        "rmse_rescaled_mV": float(np.sqrt(np.mean((t - r) ** 2))),
        "mae_rescaled_mV": float(np.mean(np.abs(t - r))),
        "explained_variance_rescaled": explained_variance(t, r),
    }


#: The false-positive rates reported (fractions): 0.25 % and 1 % (and the paper figures' 0.2 %).
REPORT_FPRS = (0.002, 0.0025, 0.01)


def spike_metrics(y_true: np.ndarray, score: np.ndarray, fprs=REPORT_FPRS) -> dict:
    """AUC and, per target FPR, TPR, achieved FPR and score threshold. ``score`` may be a
    probability or a logit (thresholds are in its units)."""
    fpr, tpr, thr = roc_curve(y_true, score)
    out = {"auc": auc(fpr, tpr), "n_bins": int(np.size(y_true)), "n_spike_bins": int(np.sum(y_true)), "at_fpr": {}}
    for f in fprs:
        t, a, th = tpr_at_fpr(fpr, tpr, thr, f)
        out["at_fpr"][f"{f:g}"] = {"tpr": t, "fpr": a, "threshold": th}
    return out


def jsonable(obj):
    """Replace non-finite floats (a +inf ROC threshold, a NaN variance ratio) by None, so the
    JSON we write is strict (serde_json and most parsers reject NaN/Infinity)."""
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    return obj
