"""A resumable training campaign of the Branch-ELM twin of the Hay cell, in pieces.

A *piece* is one stretch of training (typically one session) on simulations never used before:

    python -m training campaign start-piece --data DATA [DATA …] --valid-data data/hay-val --until 03:40
    python -m training campaign finish-piece --test-data data/hay-test [--notes "…"]
    python -m training campaign status

State:
* ``training/checkpoints/hay-branch-elm.pt`` — model, best-validation model, Adam state, RNG
  states, counters and the piece in progress (< 1 MB). ``start-piece`` resumes from it (a piece
  interrupted before ``finish-piece`` is continued, a finished one is followed by a new piece);
  without it the model starts from the authors' initialisation.
* ``training/campaign.json`` — the ledger: one entry per finished piece (see `ledger_entry`).

Rules: the validation set (seed 4002) and the test set (seed 4003) are never trained on; a
training dataset whose base seed is already in the ledger is refused (``--new-sims-only`` takes
only its simulations that no earlier piece used); training stops at ``--until HH:MM`` (UTC) or on
SIGTERM/SIGINT, and the checkpoint is always saved.

Per piece the learning rate follows a cosine from ``--lr-max`` to ``--lr-min`` in the piece's
wall-clock progress (elapsed / (elapsed + time left to the deadline)), so it reaches ``lr-min``
at the deadline however many steps fit (a warm restart per piece). Loss: the authors' 0.5 · BCE
+ 0.5 · MSE (soma target (min(v, −55) + 67.7) / 10 mV), batch 32 × 500 ms windows, the first
150 ms of each window excluded (burn-in from zero state). Validation: whole 6-s traces of the
validation simulations, bins ≥ 500 ms (the paper's protocol), every ``--valid-every-min``.

Weight average: with ``--ema-decay d`` (default 0.999, 0 turns it off) the piece also keeps an
exponential moving average of the weights (ema ← d·ema + (1 − d)·weights after every step, a
horizon of about 1/(1 − d) steps); each validation scores it beside the trained weights, and the
best-validation model is whichever of the two scored higher (``best["source"]``). The average is
saved in the checkpoint, so a resumed piece continues it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import time
from dataclasses import asdict

import numpy as np
import torch

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
CHECKPOINT = os.path.join(REPO, "training", "checkpoints", "hay-branch-elm.pt")
LEDGER = os.path.join(REPO, "training", "campaign.json")
MODEL_NAME = "l5pc-hay-branch-elm"
VALID_SEED, TEST_SEED = 4002, 4003
FORMAT = "neurotwin-campaign"
#: BranchELM buffers fixed by the configuration (num_input), not learnt
ROUTING_BUFFERS = ("input_to_synapse_indices", "valid_indices_mask")


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _deadline(text: str, now: dt.datetime | None = None) -> dt.datetime:
    """The piece's deadline: ``+SECONDS`` from now, or ``HH:MM`` (UTC): its next occurrence when
    that is at most 12 hours away (so ``00:40`` given at 23:00 is 1 h 40 min later), an error
    otherwise (``22:55`` given at 23:00 has just passed; it is not taken as tomorrow's)."""
    now = now or _utc_now()
    text = text.strip()
    if text.startswith("+"):
        try:
            seconds = float(text[1:])
        except ValueError:
            raise SystemExit(f"--until {text}: not +SECONDS (e.g. +5400) or HH:MM (UTC)") from None
        if not np.isfinite(seconds) or seconds < 0:
            raise SystemExit(f"--until {text}: the seconds must be a number >= 0 (+0: validate and save at once)")
        return now + dt.timedelta(seconds=seconds)
    try:
        h, m = (int(v) for v in text.split(":"))
        t = now.replace(hour=h, minute=m, second=0, microsecond=0)
    except ValueError:
        raise SystemExit(f"--until {text}: not HH:MM (UTC, 00:00-23:59) or +SECONDS") from None
    if t <= now:
        t += dt.timedelta(days=1)
    if t - now > dt.timedelta(hours=12):
        raise SystemExit(f"--until {text} UTC has already passed (now {now:%H:%M} UTC; a time after midnight is taken "
                         "as tomorrow's only when it is at most 12 hours away; +SECONDS for longer)")
    return t


def git_commit() -> str:
    try:
        rev = subprocess.run(["git", "-C", REPO, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def load_ledger(path: str = LEDGER) -> dict:
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return {"format": "neurotwin-campaign-ledger", "format_version": 1, "model": MODEL_NAME,
            "fixed_sets": {"valid": {"base_seed": VALID_SEED, "sims": 96}, "test": {"base_seed": TEST_SEED, "sims": 96}},
            "pieces": []}


def save_ledger(ledger: dict, path: str = LEDGER) -> None:
    from .metrics import jsonable

    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(jsonable(ledger), f, indent=2, allow_nan=False)
        f.write("\n")
    os.replace(tmp, path)


def used_seeds(ledger: dict) -> dict[int, set[int]]:
    """base seed → simulation indices trained on, over all finished pieces."""
    out: dict[int, set[int]] = {}
    for p in ledger["pieces"]:
        for d in p["seeds"]:
            if d["purpose"] == "train":
                out.setdefault(int(d["base_seed"]), set()).update(_expand(d["sim_ranges"]))
    return out


def _ranges(ids) -> list[list[int]]:
    """Sorted ints as inclusive [first, last] runs."""
    out: list[list[int]] = []
    for k in sorted(ids):
        if out and k == out[-1][1] + 1:
            out[-1][1] = k
        else:
            out.append([k, k])
    return out


def _expand(ranges) -> list[int]:
    return [k for a, b in ranges for k in range(a, b + 1)]


def variant_of(ds) -> str:
    """The input protocol's variant of a dataset (``nmda`` or ``ampa``)."""
    return str(ds.definition["protocol"].get("variant", "nmda"))


def _base_seed(ds) -> int:
    return int(ds.definition["base_seed"])


def campaign_train_config(data: list[str], valid_data: str, n_rows: int):
    """The TrainConfig that describes the campaign's training (for the shared loss, validation and
    export code)."""
    from .branch_elm import PUBLISHED_CONFIG, BranchELMConfig
    from .train import TrainConfig

    elm = dict(PUBLISHED_CONFIG, num_input=n_rows)
    cfg = TrainConfig(data=",".join(data), model=BranchELMConfig(elm).to_json(), epochs=1, steps_per_epoch=1, batch_size=32,
                      window_ms=500, ignore_ms=500, seed=0, threads=1, valid_data=valid_data, grow=True, burn_in_ms=150,
                      optimizer="adam", schedule="cosine", lr_min=1e-5, stages=[[0.0, 5e-4, 0.5, 0.5]],
                      soma_transform={"clip_mV": -55.0, "offset_mV": -67.7, "scale_mV": 10.0})
    return cfg


def _save(state: dict, path: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)


def validate_whole(model, src, ids, transform, ignore_ms: int = 500, sims_per_pass: int = 32) -> dict:
    """The paper's protocol on whole traces: spike AUC and TPRs, soma RMSE / EV (bins ≥ 500 ms)."""
    from .evaluate import paper_metrics, predict_sims

    logits, soma = predict_sims(model, src, ids, sims_per_pass=sims_per_pass)
    return paper_metrics(src.sims, ids, logits, soma, transform, ignore_ms)


def _short(m: dict) -> dict:
    """AUC, TPR at 0.25 % / 1 % FPR, soma RMSE and EV of a `paper_metrics` result's ``all``."""
    a = m["all"]
    sp = a.get("spikes") or {}
    at = sp.get("at_fpr", {})
    return {"auc": sp.get("auc"), "tpr_at_0.25%_fpr": (at.get("0.0025") or {}).get("tpr"),
            "tpr_at_1%_fpr": (at.get("0.01") or {}).get("tpr"), "soma_rmse_mV": a["soma"]["rmse_mV"],
            "soma_rmse_rescaled_mV": a["soma"]["rmse_rescaled_mV"], "explained_variance": a["soma"]["explained_variance"],
            "n_sims": a["n_sims"], "n_output_spikes": a["n_output_spikes"]}


def ema_update(ema: dict, state: dict, decay: float) -> None:
    """One step of the weight average: ema ← decay·ema + (1 − decay)·state for floating-point
    tensors (integer buffers are copied)."""
    with torch.no_grad():
        for k, e in ema.items():
            x = state[k]
            if e.is_floating_point():
                e.lerp_(x.to(e.dtype), 1.0 - decay)
            else:
                e.copy_(x)


def _f(v, digits: int = 4) -> str:
    return "n/a" if v is None else f"{v:.{digits}f}"


class _Stop:
    def __init__(self):
        self.signal = None
        for s in (signal.SIGTERM, signal.SIGINT):
            signal.signal(s, self._handler)

    def _handler(self, signum, _frame):
        self.signal = signal.Signals(signum).name


def start_piece(data: list[str], valid_data: str, until: str, valid_sims: int = 96, lr_max: float = 5e-4,
                lr_min: float = 1e-5, valid_every_min: float = 10.0, save_every_min: float = 5.0, grow_every_min: float = 2.0,
                new_sims_only: bool = False, notes: str = "", checkpoint: str = CHECKPOINT, ledger_path: str = LEDGER,
                seed: int = 0, reserve_s: float = 30.0, replay: list[str] | None = None, start_from: str = "last",
                online: dict | None = None, init_from: str | None = None, ema_decay: float = 0.999, log=print) -> dict:
    """One piece of the campaign (see the module's docstring). ``init_from``: a new campaign (no
    checkpoint yet) starts from the best-validation model of this other campaign's checkpoint
    (same architecture), e.g. the AMPA twin from the NMDA one, or the built-in cell's twin from
    the Hay cell's (other input rows, same shapes: the learnt weights carry over, the routing is
    this cell's); recorded in the piece. ``online``: simulate the new
    training simulations live with the Python bindings instead of reading ``data`` folders —
    {"morphology": path or "builtin", "base_seed": S, "threads": 1, "steps_per_sim": 20,
    "buffer_sims": 2048, "ahead": 8} (see `training.online`). ``ema_decay``: the weight average
    (see the module's docstring; 0: none)."""
    from .branch_elm import BranchELM
    from .data import Dataset, WindowSource
    from .train import hardware_description, losses

    torch.set_num_threads(1)
    if not (0.0 <= float(ema_decay) < 1.0):
        raise SystemExit(f"--ema-decay {ema_decay}: must be at least 0 and below 1 (0: no weight average)")
    deadline = _deadline(until) if isinstance(until, str) else until
    stop = _Stop()
    t_wall0, t_cpu0 = time.time(), time.process_time()
    ledger = load_ledger(ledger_path)
    data = [os.path.abspath(d) for d in data]
    replay = [os.path.abspath(d) for d in (replay or [])]
    if set(replay) & set(data):
        raise SystemExit("a folder cannot be both --data and --replay")
    valid_data = os.path.abspath(valid_data)

    vds = Dataset(valid_data)
    if _base_seed(vds) != VALID_SEED:
        log(f"note: the validation dataset's base seed is {_base_seed(vds)}, not the campaign's fixed {VALID_SEED}")
    dss = [Dataset(d) for d in data]
    for d, ds in [(d, Dataset(d)) for d in replay] + list(zip(data, dss)):
        if variant_of(ds) != variant_of(vds):
            raise SystemExit(f"{d}: the {variant_of(ds)} protocol, the validation data {valid_data} the {variant_of(vds)} one")
        if ds.fingerprint != vds.fingerprint or ds.n_rows != vds.n_rows:
            raise SystemExit(f"{d}: another morphology than the validation data")
        if _base_seed(ds) in (VALID_SEED, TEST_SEED, _base_seed(vds)):
            raise SystemExit(f"{d}: base seed {_base_seed(ds)} is a fixed validation/test seed; never train on it")

    ck = torch.load(checkpoint, map_location="cpu", weights_only=False) if os.path.exists(checkpoint) else None
    if init_from is not None and ck is not None:
        raise SystemExit(f"--init-from starts a new campaign, but {checkpoint} exists: this campaign already has a model")
    resuming_piece = ck is not None and ck["piece"]["status"] == "running"
    used = used_seeds(ledger)
    skip: dict[str, set[int]] = {}
    if online is not None:
        if int(online["base_seed"]) in (VALID_SEED, TEST_SEED, _base_seed(vds)):
            raise SystemExit(f"--online {online['base_seed']} is a fixed validation/test seed; never train on it")
        if int(online["base_seed"]) in used and not new_sims_only:
            raise SystemExit(f"--online: base seed {online['base_seed']} is already in the ledger; use a new seed, or "
                             "--new-sims-only to take only the simulations no piece used")
    for d, ds in zip(data, dss):
        s = _base_seed(ds)
        if s in used:
            if not new_sims_only:
                raise SystemExit(f"{d}: base seed {s} is already in the ledger (pieces trained on {len(used[s])} of its "
                                 "simulations); use new seeds, or --new-sims-only to take only the simulations no piece used")
            skip[d] = used[s]
    if resuming_piece:
        piece = ck["piece"]
        if (not set(piece["data"]) <= set(data) or sorted(piece.get("replay", [])) != sorted(replay)
                or (piece.get("online") or {}).get("base_seed") != (online or {}).get("base_seed")):
            raise SystemExit(f"the checkpoint holds an unfinished piece {piece['number']} on {piece['data']}; "
                             "finish it (campaign finish-piece) or resume it with the same --data (new seeds' "
                             "folders may be added) and the same --replay")
        added = [d for d in data if d not in piece["data"]]
        if added:
            # a new seed's folder joins the running piece (e.g. the next seed, started when the
            # piece's first one finished): its seed must be new to the piece as well as to the ledger
            seed_of = {d: _base_seed(ds) for d, ds in zip(data, dss)}
            seeds_in_piece = {seed_of[d] for d in piece["data"]}
            for d in added:
                if seed_of[d] in seeds_in_piece:
                    raise SystemExit(f"{d}: base seed {seed_of[d]} is already one of piece {piece['number']}'s training folders")
                seeds_in_piece.add(seed_of[d])
            piece["data"] = piece["data"] + added
            piece.setdefault("skip_sims", {}).update({d: _ranges(skip[d]) for d in added if d in skip})
            piece.setdefault("data_added", []).extend({"dataset": _name(d), "at_piece_step": piece["steps"]} for d in added)
            log(f"piece {piece['number']}: + training folder(s) {', '.join(_name(d) for d in added)}")
        log(f"resuming piece {piece['number']} ({piece['steps']} steps so far)")
    else:
        number = len(ledger["pieces"]) + 1
        if ck is not None and ck["piece"]["number"] != number - 1:
            raise SystemExit(f"checkpoint's last piece is {ck['piece']['number']}, the ledger has {len(ledger['pieces'])}")
        piece = {"number": number, "status": "running", "started_utc": _iso(_utc_now()), "data": data,
                 "valid_data": valid_data, "steps": 0, "windows": 0, "wall_s": 0.0, "cpu_s": 0.0, "lr_max": lr_max,
                 "lr_min": lr_min, "valid_history": [], "sims_trained": {}, "notes": notes, "commit_at_start": git_commit(),
                 "skip_sims": {d: _ranges(v) for d, v in skip.items()}, "replay": replay, "start_from": start_from,
                 "online": None if online is None else {**online, "sims": []},
                 "init_from": None if init_from is None else os.path.basename(init_from)}

    cfg = campaign_train_config(data, valid_data, vds.n_rows)
    transform = cfg.transform()
    model = BranchELM(cfg.model)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr_max, foreach=True)
    rng = np.random.default_rng(seed + 1000 * piece["number"])
    totals = {"steps": 0, "windows": 0, "wall_s": 0.0, "cpu_s": 0.0}
    best = {"auc": None, "model": None, "step": None, "piece": None}
    history: list = []
    if ck is not None:
        if not resuming_piece and start_from == "best" and ck["best"]["model"] is not None:
            model.load_state_dict(ck["best"]["model"])
            log(f"starting the piece from the best-validation model (AUC {_f(ck['best']['auc'])}, step {ck['best']['step']})")
        else:
            model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        totals, best, history = ck["totals"], ck["best"], ck["history"]
        if resuming_piece:
            rng.bit_generator.state = ck["numpy_rng"]
            torch.set_rng_state(ck["torch_rng"])
        log(f"from {checkpoint}: {totals['steps']} steps so far in the campaign")
    else:
        torch.manual_seed(seed)
        model = BranchELM(cfg.model)  # the authors' initialisation, seeded
        if init_from is not None:
            other = torch.load(init_from, map_location="cpu", weights_only=False)
            weights = other["best"]["model"] if other["best"]["model"] is not None else other["model"]
            # the routing buffers are this model's own (they follow from num_input): another
            # cell's twin (e.g. the Hay cell's, 1278 rows, for the built-in cell's 1282) gives
            # its learnt weights, which sit at the same (branch, synapse) positions
            own = model.state_dict()
            weights = {k: (own[k] if k in ROUTING_BUFFERS and k in own else v) for k, v in weights.items()}
            try:
                model.load_state_dict(weights)
            except RuntimeError as e:
                raise SystemExit(f"--init-from {init_from}: not this campaign's architecture: {e}")
            log(f"new campaign from {init_from}'s best-validation model (AUC {_f(other['best']['auc'])}, "
                f"{other['totals']['steps']} steps there)")
        opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr_max, foreach=True)
        log(f"new campaign: {model.n_parameters():,} parameters")
    model.train()
    # the weight average: continued from the checkpoint when resuming a piece that kept one,
    # otherwise started from the weights the piece starts from
    ema, ema_model = None, None
    if ema_decay > 0:
        saved = ck.get("ema") if (ck is not None and resuming_piece) else None
        sd = model.state_dict()
        ema = {k: (saved[k] if saved is not None and k in saved else v).detach().clone() for k, v in sd.items()}
        if piece.get("ema_decay") != ema_decay:
            piece["ema_decay"], piece["ema_since_piece_step"] = float(ema_decay), piece["steps"]
        ema_model = BranchELM(cfg.model)
    elif "ema_decay" in piece:
        piece["ema_stopped_at_piece_step"] = piece["steps"]
    skip_sets = {d: set(_expand(r)) for d, r in piece.get("skip_sims", {}).items()}

    # data: every finished simulation of the training folders (not skipped), re-read as they grow
    src = WindowSource({}, vds.n_rows, transform)

    def grow() -> int:
        added = 0
        for d in data + replay:
            ds = Dataset(d)
            have = {k for (dd, k) in src.ids if dd == d}
            new = [k for k in ds.sim_indices if k not in have and k not in skip_sets.get(d, set())]
            if new:
                src.add({(d, k): s for k, s in ds.load_sims(new).items()})
                added += len(new)
        return added

    grow()
    feed = None
    if online is not None:
        from .online import OnlineFeed, OnlineSimulations
        done_before = set(_expand(piece["online"].get("sims", [])))
        skip_online = used.get(int(online["base_seed"]), set()) | done_before
        sims_live = OnlineSimulations(online["morphology"], int(online["base_seed"]), duration_ms=vds.duration_ms,
                                      threads=int(online.get("threads", 1)), ahead=int(online.get("ahead", 8)), skip=skip_online)
        if sims_live.n_rows != vds.n_rows or sims_live.fingerprint != vds.fingerprint:
            sims_live.stop()
            raise SystemExit(f"--online-morphology {online['morphology']}: another cell than the validation data's")
        feed = OnlineFeed(sims_live, src, steps_per_sim=float(online.get("steps_per_sim", 20)),
                          buffer_sims=int(online.get("buffer_sims", 2048)))
        feed.received.extend(sorted(done_before))
        log(f"online: simulating seed base {online['base_seed']} live with the Python bindings "
            f"({online.get('threads', 1)} thread(s); {len(done_before)} simulations of it done before)")
        if not src.ids:
            feed.before_step()
            feed.steps = 0
    if not src.ids:
        raise SystemExit(f"no finished training simulations in {data} yet")
    valid_ids = vds.sim_indices[:valid_sims]
    vsrc = WindowSource(vds.load_sims(valid_ids), vds.n_rows, transform)
    piece["valid_sims"] = len(valid_ids)
    log(f"piece {piece['number']}: {len(src.ids)} training simulations, {len(valid_ids)} validation simulations; "
        f"until {_iso(deadline)}")

    def lr_at(elapsed: float) -> float:
        left = max(0.0, (deadline - _utc_now()).total_seconds())
        frac = elapsed / max(1e-9, elapsed + left)
        return lr_min + (lr_max - lr_min) * 0.5 * (1 + np.cos(np.pi * min(1.0, frac)))

    def validate(tag: str) -> dict:
        t0 = time.time()
        m = validate_whole(model, vsrc, valid_ids, transform)
        model.train()
        e = {"piece": piece["number"], "step": totals["steps"], "piece_step": piece["steps"], "utc": _iso(_utc_now()),
             "train_sims": len(src.ids), "lr": opt.param_groups[0]["lr"], "tag": tag, "valid_s": round(time.time() - t0, 1)}
        e.update(_short(m))
        candidates = [("weights", e["auc"], model.state_dict())]
        if ema is not None:
            ema_model.load_state_dict(ema)
            e["ema"] = _short(validate_whole(ema_model, vsrc, valid_ids, transform))
            e["valid_s"] = round(time.time() - t0, 1)
            candidates.append(("ema", e["ema"]["auc"], ema))
        piece["valid_history"].append(e)
        history.append(e)
        for source, auc, weights in candidates:
            if auc is not None and (best["auc"] is None or auc > best["auc"]):
                best.update(auc=auc, model={k: v.detach().clone() for k, v in weights.items()}, step=totals["steps"],
                            piece=piece["number"], source=source)
        log(f"[{e['utc']}] valid ({len(valid_ids)} sims, whole traces): AUC {_f(e['auc'])}, TPR {_f(e['tpr_at_0.25%_fpr'], 3)} / "
            f"{_f(e['tpr_at_1%_fpr'], 3)} at 0.25 / 1 % FPR, soma RMSE {_f(e['soma_rmse_mV'], 3)} mV; step {totals['steps']}, "
            f"{len(src.ids)} train sims, lr {e['lr']:.2e} ({e['valid_s']} s)")
        if "ema" in e:
            x = e["ema"]
            log(f"  weight average (decay {ema_decay}): AUC {_f(x['auc'])}, TPR {_f(x['tpr_at_0.25%_fpr'], 3)} / "
                f"{_f(x['tpr_at_1%_fpr'], 3)}, soma RMSE {_f(x['soma_rmse_mV'], 3)} mV")
        return e

    seg_wall0, seg_cpu0 = time.time(), time.process_time()
    base_wall, base_cpu = piece["wall_s"], piece["cpu_s"]
    tot_wall, tot_cpu = totals["wall_s"], totals["cpu_s"]

    def save(reason: str) -> None:
        dw, dc = time.time() - seg_wall0, time.process_time() - seg_cpu0
        piece["wall_s"], piece["cpu_s"] = base_wall + dw, base_cpu + dc
        totals["wall_s"], totals["cpu_s"] = tot_wall + dw, tot_cpu + dc
        piece["sims_trained"] = {d: _ranges(k for (dd, k) in src.ids if dd == d) for d in data}
        piece["sims_replayed"] = {d: _ranges(k for (dd, k) in src.ids if dd == d) for d in replay}
        if feed is not None:
            piece["online"]["sims"] = _ranges(feed.received)
            piece["online"]["throughput"] = feed.summary()
        piece["last_saved_utc"], piece["last_save_reason"] = _iso(_utc_now()), reason
        _save({"format": FORMAT, "format_version": 1, "train_config": asdict(cfg), "model": model.state_dict(),
               "optimizer": opt.state_dict(), "numpy_rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state(),
               "totals": totals, "best": best, "history": history, "piece": piece, "ema": ema,
               "hardware": hardware_description("cpu")}, checkpoint)

    valid_every, save_every, grow_every = valid_every_min * 60, save_every_min * 60, grow_every_min * 60
    last_valid = last_save = last_grow = time.time()
    reserve = reserve_s  # seconds kept before the deadline for the final validation and save
    step_times: list[float] = []
    bce_acc = mse_acc = 0.0
    n_acc = 0
    stop_reason = "deadline"
    while True:
        if stop.signal:
            stop_reason = f"signal {stop.signal}"
            break
        if (deadline - _utc_now()).total_seconds() < reserve:
            break
        now = time.time()
        if now - last_grow >= grow_every:
            try:
                added = grow()
            except (OSError, ValueError) as e:  # a folder being written: try again next time
                log(f"  (could not re-read the training data: {e})")
                added = 0
            last_grow = now
            if added:
                log(f"  + {added} training simulations ({len(src.ids)} in all)")
        if now - last_valid >= valid_every:
            if n_acc:
                log(f"  train BCE {bce_acc / n_acc:.4f}, MSE {mse_acc / n_acc:.4f} over the last {n_acc} steps; "
                    f"{np.mean(step_times[-n_acc:]):.3f} s/step")
                bce_acc = mse_acc = 0.0
                n_acc = 0
            validate("periodic")
            if feed is not None:
                sm = feed.summary()
                log(f"  online: {sm['sims_received']} simulations received, {sm['sims_per_worker_cpu_min']} per worker "
                    f"CPU-minute; the optimiser waited {100 * sm['optimizer_wait_fraction']:.1f} % of its time")
            last_valid = time.time()
        if now - last_save >= save_every:
            save("periodic")
            last_save = time.time()
        t0 = time.time()
        lr = lr_at(base_wall + (t0 - seg_wall0))
        for g in opt.param_groups:
            g["lr"] = lr
        if feed is not None:
            feed.before_step()
        batch = src.random_batch(rng, cfg.batch_size, cfg.window_ms, cfg.ignore_ms)
        bce, mse, _, _ = losses(model, batch, cfg, torch.device("cpu"))
        loss = 0.5 * bce + 0.5 * mse
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if ema is not None:
            ema_update(ema, model.state_dict(), ema_decay)
        bce_acc += float(bce.detach())
        mse_acc += float(mse.detach())
        n_acc += 1
        piece["steps"] += 1
        piece["windows"] += cfg.batch_size
        totals["steps"] += 1
        totals["windows"] += cfg.batch_size
        step_times.append(time.time() - t0)
    piece["stop_reason"] = stop_reason
    piece["step_s_mean"] = float(np.mean(step_times)) if step_times else None
    log(f"stopping ({stop_reason}) after {piece['steps']} steps in this piece")
    if feed is not None:
        feed.sims.stop()
        sm = feed.summary()
        log(f"  online: {sm['sims_received']} simulations received, {sm['sims_per_worker_cpu_min']} per worker CPU-minute; "
            f"the optimiser waited {100 * sm['optimizer_wait_fraction']:.1f} % of its time")
    validate("end")
    save(stop_reason)
    log(f"saved {checkpoint} ({os.path.getsize(checkpoint) / 1e6:.2f} MB); piece wall {piece['wall_s']:.0f} s, "
        f"CPU {piece['cpu_s']:.0f} s; best validation AUC {_f(best['auc'])} (step {best['step']})")
    return piece


def finish_piece(test_data: str, valid_data: str | None = None, out: str | None = None, notes: str = "",
                 which: str = "best", checkpoint: str = CHECKPOINT, ledger_path: str = LEDGER, log=print) -> dict:
    """Export the piece's model as the candidate models/l5pc-hay-branch-elm, evaluate it on the
    fixed test set and append the ledger entry."""
    from .branch_elm import BranchELM
    from .data import Dataset, WindowSource
    from .export import export_branch_elm
    from .train import TrainConfig, hardware_description

    torch.set_num_threads(1)
    t_wall0, t_cpu0 = time.time(), time.process_time()
    ck = torch.load(checkpoint, map_location="cpu", weights_only=False)
    piece = ck["piece"]
    if piece["status"] != "running":
        raise SystemExit(f"piece {piece['number']} is already finished; start a new one")
    ledger = load_ledger(ledger_path)
    cfg = TrainConfig(**ck["train_config"])
    model = BranchELM(cfg.model)
    chosen = ck["best"]["model"] if which == "best" and ck["best"]["model"] is not None else ck["model"]
    model.load_state_dict(chosen)
    model.eval()
    tds = Dataset(os.path.abspath(test_data))
    if _base_seed(tds) != TEST_SEED:
        log(f"note: the test dataset's base seed is {_base_seed(tds)}, not the campaign's fixed {TEST_SEED}")
    vds = Dataset(os.path.abspath(valid_data or piece["valid_data"]))
    if tds.fingerprint != vds.fingerprint:
        raise SystemExit("test and validation data differ in morphology")
    transform = cfg.transform()
    test_ids = tds.sim_indices
    tsrc = WindowSource(tds.load_sims(test_ids), tds.n_rows, transform)
    t0 = time.time()
    from .evaluate import paper_metrics, predict_sims
    test_m = paper_metrics(tsrc.sims, test_ids, *predict_sims(model, tsrc, test_ids, sims_per_pass=32), transform, 500,
                           n_segments=tds.n_segments)
    log(f"test ({len(test_ids)} sims): {_short(test_m)} ({time.time() - t0:.0f} s)")

    sims_trained = piece["sims_trained"]
    train_seeds = []
    for d, ranges in sims_trained.items():
        ds = Dataset(d)
        train_seeds.append({"dataset": os.path.basename(os.path.normpath(d)), "base_seed": _base_seed(ds), "purpose": "train", "sims": len(_expand(ranges)),
                            "sim_ranges": ranges, "new_sims_only": d in piece.get("skip_sims", {})})
        joined = [a["at_piece_step"] for a in piece.get("data_added", []) if a["dataset"] == _name(d)]
        if joined:
            train_seeds[-1]["joined_at_piece_step"] = joined[0]
    if piece.get("online"):
        o = piece["online"]
        train_seeds.append({"dataset": "online (Python bindings, no dataset written)", "base_seed": int(o["base_seed"]),
                            "purpose": "train", "sims": len(_expand(o.get("sims", []))), "sim_ranges": o.get("sims", []),
                            "new_sims_only": False, "throughput": o.get("throughput")})
    used_before = used_seeds(ledger)
    for d, ranges in piece.get("sims_replayed", {}).items():
        ds = Dataset(d)
        # a replay folder may hold simulations no earlier piece trained on (written after that
        # piece stopped): those are new to the campaign and counted as such, not as replay
        seen = used_before.get(_base_seed(ds), set())
        ids = _expand(ranges)
        old, new = [k for k in ids if k in seen], [k for k in ids if k not in seen]
        if old:
            train_seeds.append({"dataset": _name(d), "base_seed": _base_seed(ds), "purpose": "replay",
                                "sims": len(old), "sim_ranges": _ranges(old),
                                "note": "simulations an earlier piece trained on, regenerated from their seed and mixed in"})
        if new:
            train_seeds.append({"dataset": _name(d), "base_seed": _base_seed(ds), "purpose": "train",
                                "sims": len(new), "sim_ranges": _ranges(new), "new_sims_only": True,
                                "note": "in a --replay folder, but no earlier piece had trained on these simulations"})
    prev_total = ledger["pieces"][-1]["total_sims_seen"] if ledger["pieces"] else 0
    added = sum(s["sims"] for s in train_seeds if s["purpose"] == "train")
    training = {"piece": piece["number"], "steps": ck["totals"]["steps"], "windows": ck["totals"]["windows"],
                "batch": "32 x 500 ms windows, loss from ms 150 on", "sims_seen": prev_total + added,
                "wall_s": ck["totals"]["wall_s"], "cpu_s": ck["totals"]["cpu_s"], "step_s_mean_last_piece": piece.get("step_s_mean"),
                "hardware": ck.get("hardware"), "checkpoint": which, "best_valid_step": ck["best"]["step"]}
    out = out or os.path.join(REPO, "models", MODEL_NAME)
    meta = export_branch_elm(model, cfg, out, vds, valid_ids=vds.sim_indices[:piece.get("valid_sims", 96)], training=training,
                             test_metrics=test_m, test_on=f"{os.path.basename(os.path.normpath(test_data))} ({len(test_ids)} simulations, seed {_base_seed(tds)})",
                             log=log)
    vh = piece["valid_history"]
    last_valid = vh[-1] if vh else {}
    entry = {
        "piece": piece["number"],
        "date_utc": piece["started_utc"][:10],
        "started_utc": piece["started_utc"],
        "finished_utc": _iso(_utc_now()),
        "git_commit": git_commit(),
        "git_commit_at_start": piece.get("commit_at_start"),
        "host_cpu": (ck.get("hardware") or hardware_description("cpu"))["cpu"],
        "cores_used": 1,
        "seeds": train_seeds + [
            {"dataset": os.path.basename(os.path.normpath(piece["valid_data"])), "base_seed": _base_seed(vds), "purpose": "valid", "sims": piece.get("valid_sims", 96)},
            {"dataset": os.path.basename(os.path.normpath(test_data)), "base_seed": _base_seed(tds), "purpose": "test", "sims": len(test_ids)}],
        "sims_added": added,
        "total_sims_seen": prev_total + added,
        "steps_piece": piece["steps"],
        "steps_total": ck["totals"]["steps"],
        "windows_piece": piece["windows"],
        "wall_s_piece": round(piece["wall_s"], 1),
        "cpu_s_piece": round(piece["cpu_s"], 1),
        "finish_wall_s": round(time.time() - t_wall0, 1),
        "finish_cpu_s": round(time.process_time() - t_cpu0, 1),
        "step_s_mean": piece.get("step_s_mean"),
        "lr": {"schedule": "cosine in the piece's wall-clock progress", "max": piece["lr_max"], "min": piece["lr_min"]},
        "started_from": piece.get("start_from", "last"),
        "stop_reason": piece.get("stop_reason"),
        "valid_auc_end": last_valid.get("auc"),
        "valid_end": last_valid,
        "valid_best": {"auc": ck["best"]["auc"], "step": ck["best"]["step"], "piece": ck["best"]["piece"],
                       "source": ck["best"].get("source", "weights")},
        "valid_protocol": f"whole 6-s traces of the first {piece.get('valid_sims', 96)} validation simulations, bins >= 500 ms",
        "exported_checkpoint": which,
        "exported_to": os.path.relpath(out, REPO) if out.startswith(REPO) else os.path.basename(out),
        "test": _short(test_m),
        "test_spikes_0_24": ((test_m.get("spikes_0_24") or {}).get("spikes") or {}).get("auc"),
        "spike_thresholds": meta.get("spike_thresholds"),
        "notes": " ".join(x for x in (piece.get("notes", ""), notes) if x),
    }
    if not ledger["pieces"]:
        # a new campaign's ledger names its own model and fixed sets (another cell's or
        # protocol's campaign has other seeds than the Hay NMDA campaign's defaults)
        ledger["model"] = os.path.basename(os.path.normpath(out))
        ledger["fixed_sets"] = {"valid": {"base_seed": _base_seed(vds), "sims": piece.get("valid_sims", 96)},
                                "test": {"base_seed": _base_seed(tds), "sims": len(test_ids)}}
    ledger["pieces"].append(entry)
    save_ledger(ledger, ledger_path)
    piece["status"] = "finished"
    ck["piece"] = _without_paths(piece)
    if "train_config" in ck:
        tc = dict(ck["train_config"])
        tc["data"] = ",".join(_name(d) for d in str(tc.get("data", "")).split(",") if d)
        tc["valid_data"] = _name(tc.get("valid_data", ""))
        ck["train_config"] = tc
    _save(ck, checkpoint)
    log(f"ledger: piece {piece['number']} appended to {ledger_path}")
    return entry


def _name(path: str) -> str:
    """A dataset folder's name without the machine's path to it."""
    return os.path.basename(os.path.normpath(path)) if path else path


def _without_paths(piece: dict) -> dict:
    """A finished piece as kept in the committed checkpoint: dataset folders by name only (a
    finished piece is never resumed, so the paths are not needed)."""
    p = dict(piece)
    for k in ("data", "replay"):
        if isinstance(p.get(k), list):
            p[k] = [_name(d) for d in p[k]]
    if p.get("valid_data"):
        p["valid_data"] = _name(p["valid_data"])
    for k in ("sims_trained", "sims_replayed", "skip_sims"):
        if isinstance(p.get(k), dict):
            p[k] = {_name(d): v for d, v in p[k].items()}
    if isinstance(p.get("online"), dict) and p["online"].get("morphology"):
        p["online"] = {**p["online"], "morphology": _name(p["online"]["morphology"])}
    return p


def status(checkpoint: str = CHECKPOINT, ledger_path: str = LEDGER, log=print) -> int:
    ledger = load_ledger(ledger_path)
    for p in ledger["pieces"]:
        log(f"piece {p['piece']} ({p['date_utc']}): +{p['sims_added']} sims ({p['total_sims_seen']} in all), "
            f"{p['steps_piece']} steps, valid AUC {p['valid_auc_end']}, test AUC {p['test']['auc']}")
    if os.path.exists(checkpoint):
        ck = torch.load(checkpoint, map_location="cpu", weights_only=False)
        p = ck["piece"]
        last = p["valid_history"][-1] if p["valid_history"] else {}
        log(f"checkpoint: piece {p['number']} {p['status']}, {p['steps']} steps in it ({ck['totals']['steps']} in all), "
            f"last validation AUC {last.get('auc')} at {last.get('utc')}, best {ck['best']['auc']}")
    return 0


def learning_curve(ledger: dict) -> list[dict]:
    """One point per finished piece, in order: the simulations trained on so far, the best
    validation AUC reached, and the exported model's figures on the fixed test set (and on the
    second fresh set where the piece recorded one)."""
    out = []
    for p in ledger.get("pieces", []):
        test = p.get("test") or {}
        second = p.get("test_second_fresh_set") or {}
        out.append({"piece": p["piece"], "sims_seen": int(p["total_sims_seen"]), "steps_total": p.get("steps_total"),
                    "valid_best_auc": (p.get("valid_best") or {}).get("auc"), "test_auc": test.get("auc"),
                    "test_tpr_1pct": test.get("tpr_at_1%_fpr"), "test_tpr_025pct": test.get("tpr_at_0.25%_fpr"),
                    "test_rmse_mV": test.get("soma_rmse_mV"), "second_auc": second.get("auc"),
                    "shipped": bool(p.get("shipped_as"))})
    return out


def plot_learning_curve(ledger: dict, png: str, title: str = "") -> None:
    """The campaign's learning curve: spike AUC and TPR at 1 % FPR on the fixed test set against
    the simulations trained on, with the ledger's ``references`` (other twins and the
    nothing-fitted baseline on the same test set) and ``targets`` as horizontal lines."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pts = learning_curve(ledger)
    if not pts:
        raise SystemExit("the ledger has no finished piece to plot")
    test_seed = ledger.get("fixed_sets", {}).get("test", {}).get("base_seed")
    x = [p["sims_seen"] for p in pts]
    fig, axes = plt.subplots(1, 2, figsize=(10.0, 3.9), dpi=110)
    panels = (("test_auc", "auc", "spike AUC"), ("test_tpr_1pct", "tpr_at_1%_fpr", "TPR at 1 % FPR"))
    for ax, (key, ref_key, ylabel) in zip(axes, panels):
        ax.plot(x, [p[key] for p in pts], "o-", color="#c2185b", label=f"ours, fixed test set (seed {test_seed})", zorder=3)
        for p in pts:
            ax.annotate(str(p["piece"]), (p["sims_seen"], p[key]), textcoords="offset points", xytext=(0, 6),
                        ha="center", fontsize=7, color="#c2185b")
        if key == "test_auc":
            sec = [(p["sims_seen"], p["second_auc"]) for p in pts if p["second_auc"] is not None]
            if sec:
                ax.plot(*zip(*sec), "s--", color="#f48fb1", ms=4, label="ours, second fresh set")
            val = [(p["sims_seen"], p["valid_best_auc"]) for p in pts if p["valid_best_auc"] is not None]
            ax.plot(*zip(*val), "^:", color="#7b1fa2", ms=4, label="ours, validation (best)")
        for i, ref in enumerate(ledger.get("references", [])):
            v = (ref.get("test") or {}).get(ref_key)
            if v is None:
                continue
            ax.axhline(v, color=("#00838f", "#607d8b", "#9e9e9e", "#795548")[i % 4], lw=1.2, ls="-",
                       label=f"{ref['name']}, test set")
        target = (ledger.get("targets") or {}).get(ref_key)
        if target is not None:
            ax.axhline(target, color="#2e7d32", lw=1.2, ls="--", label="target (issue 25)")
        ax.set_xscale("log")
        ticks = [t for t in (250, 500, 1000, 2000, 4000, 8000, 16000, 32000) if min(x) / 2 <= t <= max(x) * 2]
        ax.set_xticks(ticks, [f"{t:,}" for t in ticks])
        ax.minorticks_off()
        ax.set_xlabel("training simulations seen (6 s each)")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3, which="both")
    # the AUC panel is about the top of the range: keep the references that sit far below off it
    tops = [p["test_auc"] for p in pts] + [p["valid_best_auc"] or 0 for p in pts]
    target = (ledger.get("targets") or {}).get("auc")
    lo = min(p["test_auc"] for p in pts) - 0.002
    hi = max(tops + ([target] if target else [])) + 0.001
    axes[0].set_ylim(lo, hi)
    handles, labels = [], []
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=7, frameon=False)
    fig.suptitle(title or f"{ledger.get('model', 'campaign')}: learning curve by campaign piece", fontsize=9)
    fig.tight_layout(rect=(0, 0.14, 1, 1))
    fig.savefig(png)
    plt.close(fig)
