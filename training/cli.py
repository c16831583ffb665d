"""Command line: ``python -m training {train,evaluate,export,campaign,synth,bench,baselines,merge,depth-sweep,depth-sweep-plot} …`` (run from the repo root)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict

PRESETS = {
    # the paper's best NMDA model (kernels assumed, see model.PAPER_BEST_KERNELS)
    "best": (7, 128, [39, 20]),
    # the paper repository's default model, 3x64x100 (CPU-friendly)
    "small": (3, 64, [54, 24, 24]),
    # the paper's small NMDA model: one hidden layer, 128 units, 43 ms
    "fcn": (1, 128, [43]),
}


def _kernels(text: str) -> list[int]:
    return [int(k) for k in text.replace(",", " ").split()]


def cmd_train(a) -> int:
    if a.online is not None:
        if a.data or a.out:
            raise SystemExit("train --online takes no --data/--out: the simulations are made live; --replay takes old datasets")
        a.data_online = []
        return cmd_train_online(a)
    if not a.data or not a.out:
        raise SystemExit("train needs --data and --out (or --online BASE_SEED)")
    from .data import Dataset
    from .model import ModelConfig
    from .train import TrainConfig, read_config, train

    depth, width, kernels = PRESETS[a.preset]
    if a.depth is not None or a.kernels is not None:
        depth = a.depth if a.depth is not None else depth
        kernels = a.kernels
    width = a.width if a.width is not None else width
    ds = Dataset(a.data)
    branch = a.arch == "branch-elm"
    # per-architecture defaults (TCN: the paper's; Branch-ELM: the authors' NeuronIO training)
    for name, tcn, elm in (("batch_size", 8, 32), ("window_ms", 400, 500), ("steps_per_epoch", 288, 500),
                           ("burn_in_ms", 0, 150)):
        if getattr(a, name) is None:
            setattr(a, name, elm if branch else tcn)
    if branch:
        from .branch_elm import PUBLISHED_CONFIG, BranchELMConfig
        elm_cfg = dict(PUBLISHED_CONFIG)
        if a.elm_config:
            with open(a.elm_config) as f:
                elm_cfg = json.load(f)
        elm_cfg["num_input"] = ds.n_rows
        mcfg = BranchELMConfig(elm_cfg)
    elif a.arch == "elm":
        from .elm import ELMConfig
        mcfg = ELMConfig(n_rows=ds.n_rows, branches=a.branches, memory=a.memory, hidden=a.hidden)
    else:
        mcfg = ModelConfig.build(ds.n_rows, depth, width, kernels)
        mcfg.n_dend = a.dend_pcs
        mcfg.first_rank = a.first_rank
    cfg = TrainConfig(data=os.path.abspath(a.data), model=mcfg.to_json(), epochs=a.epochs or 50, steps_per_epoch=a.steps_per_epoch,
                      batch_size=a.batch_size, window_ms=a.window_ms, ignore_ms=a.ignore_ms, seed=a.seed, device=a.device,
                      first_layer=a.first_layer, threads=a.threads, valid_fraction=a.valid_fraction, test_fraction=a.test_fraction,
                      valid_data=os.path.abspath(a.valid_data) if a.valid_data else "", grow=a.grow, max_train_sims=a.max_train_sims,
                      init_onnx=os.path.abspath(a.init_onnx) if a.init_onnx else "", burn_in_ms=a.burn_in_ms)
    if branch:  # the authors' recipe: Adam 5e-4, cosine over the run, 0.5 BCE + 0.5 MSE, soma scale 10 mV
        cfg.optimizer, cfg.schedule, cfg.lr_min = "adam", "cosine", a.lr_min
        cfg.stages = [[0.0, 5e-4, 0.5, 0.5]]
        cfg.soma_transform = {"clip_mV": -55.0, "offset_mV": -67.7, "scale_mV": 10.0}
    if a.resume and a.epochs is None:  # keep the run's own length (and so its schedule)
        cfg.epochs = read_config(a.out).epochs
    if a.lr is not None:  # rescale the whole schedule so that it starts at --lr
        cfg.scale_lr(a.lr)
    os.makedirs(a.out, exist_ok=True)
    train(cfg, a.out, resume=a.resume)
    return 0


def cmd_evaluate(a) -> int:
    from .data import Dataset, WindowSource
    from .evaluate import paper_metrics, predict_sims, summary_line
    from .metrics import jsonable
    from .train import load_model

    if a.threads:
        import torch
        torch.set_num_threads(a.threads)
    model, cfg, ck = load_model(a.run, a.which, a.device)
    ds = Dataset(a.data or cfg.data)
    if ds.fingerprint != cfg.split.get("morphology_fingerprint", ds.fingerprint):
        print("error: dataset morphology fingerprint differs from the run's", file=sys.stderr)
        return 2
    ids = cfg.split[a.split] if a.split != "all" else ds.sim_indices
    sims = ds.load_sims(ids)
    t0 = time.time()
    logits, soma = predict_sims(model, WindowSource(sims, ds.n_rows, cfg.transform()), ids, a.device,
                                sparse=not a.device.startswith("cuda"))
    m = paper_metrics(sims, ids, logits, soma, cfg.transform(), cfg.ignore_ms, n_segments=ds.n_segments)
    m.update({"split": a.split, "checkpoint": a.which, "checkpoint_epoch": ck["epoch"], "predict_s": time.time() - t0})
    with open(os.path.join(a.run, "evaluation.json"), "w") as f:
        json.dump(jsonable(m), f, indent=2, allow_nan=False)
    print(summary_line(m))
    print(f"wrote {os.path.join(a.run, 'evaluation.json')}")
    return 0


def cmd_export(a) -> int:
    from .export import export

    export(a.run, a.out, which=a.which, data=a.data, parity_ms=a.parity_ms)
    return 0


def _online_args(p) -> None:
    p.add_argument("--online", type=int, metavar="BASE_SEED",
                   help="simulate the training data live with neurotwin's Python bindings (pip install ./python) on this new "
                        "base seed: simulation k = `neurotwin dataset --seed BASE_SEED` simulation k; no dataset is written")
    p.add_argument("--online-morphology", default="morphologies/cell1.asc", help="the cell simulated online ('builtin': the built-in cell)")
    p.add_argument("--online-threads", type=int, default=1, help="simulation threads beside the optimiser (default 1)")
    p.add_argument("--steps-per-sim", type=float, default=20.0,
                   help="online: the optimiser waits when it has taken this many steps per simulation received (default 20)")
    p.add_argument("--buffer-sims", type=int, default=2048, help="online: simulations kept in memory, oldest out first (default 2048)")


def _online_spec(a) -> dict | None:
    if getattr(a, "online", None) is None:
        return None
    return {"morphology": a.online_morphology, "base_seed": a.online, "threads": a.online_threads,
            "steps_per_sim": a.steps_per_sim, "buffer_sims": a.buffer_sims, "ahead": 8}


def cmd_train_online(a) -> int:
    """``train --online``: a piece of the Branch-ELM campaign fed live (see `training.campaign`)."""
    from . import campaign as c

    missing = [n for n in ("valid_data", "until") if not getattr(a, n, None)]
    if missing:
        raise SystemExit("train --online needs " + " and ".join("--" + n.replace("_", "-") for n in missing))
    paths = {k: v for k, v in (("checkpoint", a.checkpoint), ("ledger_path", a.ledger)) if v}
    c.start_piece(a.data_online, a.valid_data, a.until, valid_sims=a.valid_sims, lr_max=a.lr_max_online, lr_min=a.lr_min,
                  valid_every_min=a.valid_every_min, notes=a.notes, replay=a.replay, start_from=a.start_from,
                  online=_online_spec(a), **paths)
    return 0


def cmd_campaign(a) -> int:
    from . import campaign as c

    paths = {"checkpoint": a.checkpoint or c.CHECKPOINT, "ledger_path": a.ledger or c.LEDGER}
    if a.campaign_cmd == "start-piece":
        c.start_piece(a.data, a.valid_data, a.until, valid_sims=a.valid_sims, lr_max=a.lr_max, lr_min=a.lr_min,
                      valid_every_min=a.valid_every_min, save_every_min=a.save_every_min, new_sims_only=a.new_sims_only,
                      notes=a.notes, replay=a.replay, start_from=a.start_from, online=_online_spec(a),
                      init_from=a.init_from, ema_decay=a.ema_decay, **paths)
    elif a.campaign_cmd == "finish-piece":
        c.finish_piece(a.test_data, a.valid_data, a.out, notes=a.notes, which=a.which, **paths)
    elif a.campaign_cmd == "plot":
        c.plot_learning_curve(c.load_ledger(paths["ledger_path"]), a.out, title=a.title)
        print(f"wrote {a.out}")
    else:
        c.status(**paths)
    return 0


def cmd_synth(a) -> int:
    from .synthetic import write_synthetic_dataset

    write_synthetic_dataset(a.out, n_sims=a.sims, n_segments=a.segments, duration_ms=a.duration_ms, seed=a.seed)
    print(f"wrote a synthetic dataset to {a.out}")
    return 0


def cmd_bench(a) -> int:
    from .bench import bench

    depth, width, kernels = PRESETS[a.preset]
    if a.depth is not None or a.kernels is not None:
        depth = a.depth if a.depth is not None else depth
        kernels = a.kernels
    width = a.width if a.width is not None else width
    print(json.dumps(bench(a.rows, depth, width, kernels, a.batch_size, a.window_ms, a.density, a.steps, a.threads, a.device), indent=2))
    return 0


def cmd_baselines(a) -> int:
    from .baselines import run_baselines
    from .data import Dataset
    from .metrics import jsonable

    out = run_baselines(Dataset(a.data), Dataset(a.train_data) if a.train_data else None, a.ignore_ms, a.max_train_sims, a.tau_ms)
    if a.out:
        with open(a.out, "w") as f:
            json.dump(jsonable(out), f, indent=2, allow_nan=False)
        print(f"wrote {a.out}")
    return 0


def cmd_depth_sweep(a) -> int:
    from .depth_sweep import sweep

    depths = [int(d) for d in a.depths.replace(",", " ").split()]
    sweep(a.protocol, depths, data=a.data, valid_data=a.valid_data, test_data=a.test_data, out=a.out, width=a.width,
          receptive=a.receptive_ms, first_kernel_ms=a.first_kernel_ms, first_rank=a.first_rank, max_train_sims=a.max_train_sims, epochs=a.epochs,
          steps_per_epoch=a.steps_per_epoch, lr=a.lr, seed=a.seed, threads=a.threads)
    return 0


def cmd_depth_sweep_plot(a) -> int:
    from .depth_sweep import collect, plot

    results = collect(a.runs)
    if not results:
        raise SystemExit(f"{a.runs}: no finished depth-sweep runs (result.json)")
    plot(results, a.out, a.title)
    print(f"wrote {a.out} ({len(results)} runs)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=2, allow_nan=False)
            f.write("\n")
        print(f"wrote {a.json}")
    return 0


def _arch_args(p):
    p.add_argument("--preset", choices=sorted(PRESETS), default="best", help="architecture preset (default best = 7x128x153)")
    p.add_argument("--depth", type=int, help="number of hidden layers (overrides the preset)")
    p.add_argument("--width", type=int, help="channels per hidden layer")
    p.add_argument("--kernels", type=_kernels, help="kernel sizes (ms): one per layer, or 'FIRST,REST'")


def _merge(a) -> int:
    from .merge import merge_datasets

    m = merge_datasets(a.sources, a.out)
    print(f"{a.out}: {m['definition']['count']} simulations in {len(m['shards'])} shards from {len(a.sources)} datasets")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training", description="Train, evaluate and export the DNN twin of the L5PC (Beniaguev et al. 2021).")
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("train", help="train a model on a neurotwin dataset folder (resumable), or --online: the campaign's "
                                     "Branch-ELM on simulations made live by the Python bindings")
    p.add_argument("--data", help="dataset folder (manifest.json + shard_*/); not with --online")
    p.add_argument("--out", help="run folder (config, checkpoints, history); not with --online")
    g = p.add_argument_group("online (a campaign piece fed live; training/online.py)")
    _online_args(g)
    g.add_argument("--until", help="online: deadline HH:MM (UTC) or +SECONDS")
    g.add_argument("--valid-sims", type=int, default=96)
    g.add_argument("--valid-every-min", type=float, default=10.0)
    g.add_argument("--lr-max", dest="lr_max_online", type=float, default=3e-4)
    g.add_argument("--replay", nargs="+", default=[], help="online: dataset folders earlier pieces trained on, mixed in")
    g.add_argument("--start-from", choices=["last", "best"], default="last")
    g.add_argument("--notes", default="")
    g.add_argument("--checkpoint", default=None, help="online: default training/checkpoints/hay-branch-elm.pt")
    g.add_argument("--ledger", default=None, help="online: default training/campaign.json")
    _arch_args(p)
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    p.add_argument("--dend-pcs", type=int, default=0,
                   help="add the dendritic head: predict this many PCA components of the dendritic voltages (paper: 20; needs dend_v.npy)")
    p.add_argument("--first-rank", type=int, default=0,
                   help="factorise the first layer through this many spatial channels (0: full; exported as the equivalent dense Conv)")
    p.add_argument("--first-layer", choices=["auto", "sparse", "dense"], default="auto",
                   help="first-layer implementation for training (auto: sparse on CPU, dense on CUDA; same maths)")
    p.add_argument("--epochs", type=int, help="epochs in the whole run (default 50; with --resume: the run's own)")
    p.add_argument("--lr", type=float, help="initial learning rate (default 1e-4; the 5-stage schedule is scaled with it)")
    p.add_argument("--steps-per-epoch", type=int, help="default 288 (tcn, elm), 500 (branch-elm)")
    p.add_argument("--batch-size", type=int, help="default 8 (tcn, elm), 32 (branch-elm)")
    p.add_argument("--window-ms", type=int, help="default 400 (tcn, elm), 500 (branch-elm)")
    p.add_argument("--burn-in-ms", type=int, help="the losses ignore this many first ms of every window (default 0; branch-elm 150)")
    p.add_argument("--ignore-ms", type=int, default=500, help="training windows end at/after this; evaluation skips these ms")
    p.add_argument("--arch", choices=["tcn", "elm", "branch-elm"], default="tcn",
                   help="tcn: the paper's causal TCN (--preset/--depth/--width/--kernels/--first-rank); elm: the recurrent leaky-memory twin; "
                        "branch-elm: the published Branch-ELM (Spieler et al. 2024), Adam 5e-4 with a cosine decay")
    p.add_argument("--elm-config", help="branch-elm: a model_config.json (default: the published NeuronIO Branch-ELM's)")
    p.add_argument("--lr-min", type=float, default=1e-5, help="branch-elm: the cosine schedule's final lr")
    p.add_argument("--branches", type=int, default=32, help="elm: channels the synapses are projected onto")
    p.add_argument("--memory", type=int, default=64, help="elm: memory units (learned time constants)")
    p.add_argument("--hidden", type=int, default=128, help="elm: units per MLP layer")
    p.add_argument("--init-onnx", help="start from this exported twin's weights (same architecture): continue training it on more data")
    p.add_argument("--valid-data", help="a separate validation dataset (its own seeds); --data is then used whole for training")
    p.add_argument("--grow", action="store_true", help="before every epoch take the shards of --data finished since (train while it is simulated)")
    p.add_argument("--max-train-sims", type=int, default=0, help="use at most this many training simulations (0: all; learning curves)")
    p.add_argument("--valid-fraction", type=float, default=0.05)
    p.add_argument("--test-fraction", type=float, default=0.1)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (0: all cores; default 1: on the shared 2-core machine 2 threads measured slower)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint (--epochs may be raised)")
    p.set_defaults(fn=cmd_train)

    p = sub.add_parser("evaluate", help="the paper's metrics on held-out simulations -> RUN/evaluation.json")
    p.add_argument("--run", required=True)
    p.add_argument("--data", help="dataset folder (default: the run's)")
    p.add_argument("--which", choices=["best", "last"], default="best")
    p.add_argument("--split", choices=["test", "valid", "train", "all"], default="test")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=0)
    p.set_defaults(fn=cmd_evaluate)

    p = sub.add_parser("export", help="write NAME.onnx, NAME.json and the parity vector")
    p.add_argument("--run", required=True)
    p.add_argument("--out", required=True, help="models/NAME (files NAME.onnx, NAME.json, NAME.parity.*.npy)")
    p.add_argument("--data", help="dataset folder (default: the run's)")
    p.add_argument("--which", choices=["best", "last"], default="best")
    p.add_argument("--parity-ms", type=int, default=256, help="length of the parity test vector (ms)")
    p.set_defaults(fn=cmd_export)

    p = sub.add_parser("campaign", help="the resumable Branch-ELM training campaign (training/campaign.json, training/checkpoints/)")
    csub = p.add_subparsers(dest="campaign_cmd", required=True)
    q = csub.add_parser("start-piece", help="train (resuming the checkpoint) until --until HH:MM UTC or SIGTERM; always saves")
    q.add_argument("--data", nargs="*", default=[], help="training dataset folders (base seeds not in the ledger); "
                   "none with --online")
    q.add_argument("--valid-data", required=True, help="the fixed validation dataset (seed 4002)")
    q.add_argument("--until", required=True, help="deadline HH:MM (UTC; its next occurrence, at most 12 h ahead) or +SECONDS")
    q.add_argument("--valid-sims", type=int, default=96, help="validate on the first N validation simulations (default 96)")
    q.add_argument("--lr-max", type=float, default=5e-4)
    q.add_argument("--lr-min", type=float, default=1e-5)
    q.add_argument("--valid-every-min", type=float, default=10.0)
    q.add_argument("--save-every-min", type=float, default=5.0)
    q.add_argument("--new-sims-only", action="store_true", help="a dataset whose seed is in the ledger: take only the simulations no piece used")
    q.add_argument("--replay", nargs="+", default=[], help="datasets earlier pieces trained on (regenerated from their seeds), "
                   "mixed into the batches with the new ones; recorded as replay, not as new simulations")
    q.add_argument("--start-from", choices=["last", "best"], default="last",
                   help="a new piece starts from the last model (default) or from the best-validation one")
    _online_args(q)
    q.add_argument("--notes", default="")
    q.add_argument("--ema-decay", type=float, default=0.999,
                   help="also keep a moving average of the weights with this decay per step, validated beside them; the "
                        "better of the two is the best model (default 0.999; 0: none)")
    q.add_argument("--checkpoint", default=None, help="default training/checkpoints/hay-branch-elm.pt")
    q.add_argument("--ledger", default=None, help="default training/campaign.json")
    q.add_argument("--init-from", default=None, metavar="CHECKPOINT",
                   help="a new campaign (no --checkpoint file yet) starts from this other campaign's best model, "
                        "e.g. the AMPA twin's from training/checkpoints/hay-branch-elm.pt")
    q = csub.add_parser("finish-piece", help="export models/l5pc-hay-branch-elm, evaluate on the test set, append the ledger entry")
    q.add_argument("--test-data", required=True, help="the fixed test dataset (seed 4003)")
    q.add_argument("--valid-data", help="default: the piece's")
    q.add_argument("--out", help="default models/l5pc-hay-branch-elm")
    q.add_argument("--which", choices=["best", "last"], default="best", help="best validation AUC (default) or the last weights")
    q.add_argument("--notes", default="")
    q.add_argument("--checkpoint", default=None)
    q.add_argument("--ledger", default=None)
    q = csub.add_parser("plot", help="the ledger's learning curve (fixed test set AUC and TPR against simulations seen, "
                        "with its references and targets) as a PNG")
    q.add_argument("--out", required=True, help="the PNG to write, e.g. docs/campaign-learning-curve.png")
    q.add_argument("--title", default="")
    q.add_argument("--checkpoint", default=None, help=argparse.SUPPRESS)
    q.add_argument("--ledger", default=None, help="default training/campaign.json")
    q = csub.add_parser("status", help="the ledger and the checkpoint's piece")
    q.add_argument("--checkpoint", default=None)
    q.add_argument("--ledger", default=None)
    p.set_defaults(fn=cmd_campaign)

    p = sub.add_parser("synth", help="write a tiny synthetic dataset (for smoke tests)")
    p.add_argument("--out", required=True)
    p.add_argument("--sims", type=int, default=12)
    p.add_argument("--segments", type=int, default=8)
    p.add_argument("--duration-ms", type=int, default=700)
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(fn=cmd_synth)

    p = sub.add_parser("merge", help="merge dataset folders of the same cell and protocol (a manifest that points at their shards)")
    p.add_argument("sources", nargs="+", help="dataset folders, in the order their simulations are numbered")
    p.add_argument("--out", required=True, help="new folder (gets only manifest.json)")
    p.set_defaults(fn=_merge)

    p = sub.add_parser("baselines", help="spike metrics of the filtered-input ranking and a logistic regression on the same simulations")
    p.add_argument("--data", required=True, help="dataset to score (every simulation), e.g. a fresh test set")
    p.add_argument("--train-data", help="dataset to fit the logistic regression on (omit: only the nothing-fitted ranking)")
    p.add_argument("--max-train-sims", type=int, default=200, help="simulations of --train-data used for the fit")
    p.add_argument("--ignore-ms", type=int, default=500, help="bins before this are not scored")
    p.add_argument("--tau-ms", type=float, default=20.0, help="time constant of the nothing-fitted ranking's filter")
    p.add_argument("--out", help="write the metrics as JSON here")
    p.set_defaults(fn=cmd_baselines)

    p = sub.add_parser("depth-sweep", help="the paper's deep-vs-shallow contrast: the same TCN at several depths on one data and step "
                                           "budget, scored on a fresh test set (training/depth_sweep.py)")
    p.add_argument("--protocol", choices=["nmda", "ampa"], required=True, help="the datasets' protocol variant (checked)")
    p.add_argument("--data", required=True, help="training dataset (its first --max-train-sims simulations)")
    p.add_argument("--valid-data", required=True, help="validation dataset (picks each run's best epoch)")
    p.add_argument("--test-data", required=True, help="fresh test dataset, never trained on")
    p.add_argument("--out", required=True, help="folder of the runs (PROTOCOL-dDEPTH; resumable)")
    p.add_argument("--depths", default="1,3,7")
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--receptive-ms", type=int, default=153, help="every depth's receptive field (ms)")
    p.add_argument("--first-kernel-ms", type=int, default=39, help="first layer's kernel when depth > 1 (the paper's best model's)")
    p.add_argument("--first-rank", type=int, default=16)
    p.add_argument("--max-train-sims", type=int, default=512)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--steps-per-epoch", type=int, default=300)
    p.add_argument("--lr", type=float, default=1e-3, help="first stage's lr (the paper's stage table scaled to it)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.set_defaults(fn=cmd_depth_sweep)

    p = sub.add_parser("depth-sweep-plot", help="plot and tabulate finished depth-sweep runs")
    p.add_argument("--runs", required=True)
    p.add_argument("--out", required=True, help="PNG")
    p.add_argument("--json", help="also write the results here")
    p.add_argument("--title", default="")
    p.set_defaults(fn=cmd_depth_sweep_plot)

    p = sub.add_parser("bench", help="time training steps on random inputs (dense vs sparse first layer)")
    _arch_args(p)
    p.add_argument("--rows", type=int, default=1278)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--window-ms", type=int, default=400)
    p.add_argument("--density", type=float, default=0.011, help="fraction of active (row, ms) inputs")
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="cpu")
    p.set_defaults(fn=cmd_bench)

    a = ap.parse_args(argv)
    return a.fn(a)
