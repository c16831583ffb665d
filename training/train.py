"""Training: the paper's schedule, checkpoints that resume exactly, validation every epoch.

Run folder layout::

    RUN/config.json          TrainConfig + model config + the train/valid/test split (sim indices)
    RUN/history.jsonl        one JSON line per epoch (losses, validation metrics, lr, wall time)
    RUN/checkpoints/last.pt  state after the last finished epoch (model, optimizer, scheduler,
                             epoch, NumPy and torch RNG states, history, counters)
    RUN/checkpoints/best.pt  the epoch with the lowest validation loss (same content)

Schedule (spec/paper-dnn.md §3): Nadam, batch 8, 400-ms windows sampled at random (simulation with
replacement, window ending at ≥ 500 ms), loss = w_spike · BCE + w_soma · MSE (means over bins),
learning rate and loss weights in five stages over the run: the paper's 250 "learning schedules"
are mapped onto the configured number of epochs by fraction (0–16 %: 1e-4 and [1, 0.02];
16–32 %: 3e-5, [2, 0.01]; 32–48 %: 1e-5, [4, 0.01]; 48–64 %: 3e-6, [8, 0.01]; 64–100 %: 1e-6,
[9, 0.003]). Difference from the paper: the optimizer moments are not reset between schedules.
L2 1e-8 on the kernels (as weight decay 2e-8 on their gradients).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from .data import Dataset, DendriticPCA, SomaTransform, WindowSource, split_sims
from .metrics import jsonable
from .model import TCN, SparseBatch, config_from_json, model_from_json

#: (start as a fraction of the run, learning rate, spike-loss weight, soma-loss weight,
#: dendritic-PCA-loss weight)
PAPER_STAGES = [
    (0 / 250, 1e-4, 1.0, 0.02, 5e-6),
    (40 / 250, 3e-5, 2.0, 0.01, 3e-6),
    (80 / 250, 1e-5, 4.0, 0.01, 1e-6),
    (120 / 250, 3e-6, 8.0, 0.01, 1e-8),
    (160 / 250, 1e-6, 9.0, 0.003, 1e-9),
]


@dataclass
class TrainConfig:
    """Everything that defines a training run (saved as RUN/config.json)."""

    data: str
    model: dict
    epochs: int = 50
    steps_per_epoch: int = 288  # the paper's Keras epoch: 6 files × 48 batches
    batch_size: int = 8
    window_ms: int = 400
    ignore_ms: int = 500  # windows end at ≥ this; evaluation skips these first ms
    valid_windows_per_sim: int = 4
    valid_fraction: float = 0.05
    test_fraction: float = 0.1
    seed: int = 0
    device: str = "cpu"
    first_layer: str = "auto"  # auto (sparse on CPU, dense on CUDA) | sparse | dense
    threads: int = 0  # torch CPU threads; 0 = all cores
    stages: list = field(default_factory=lambda: [list(s) for s in PAPER_STAGES])
    # A separate dataset (its own seeds) whose simulations are all the validation set; the training
    # dataset is then used whole (no valid/test split of it).
    valid_data: str = ""
    # Re-read the training dataset's manifests before every epoch and take the shards finished
    # since (train while `neurotwin dataset` is still writing).
    grow: bool = False
    # At most this many training simulations (the first by global index; 0: all). Learning curves.
    max_train_sims: int = 0
    # Start from the weights of this ONNX twin (same architecture, written by `export`) instead
    # of the random initialisation: continue training a shipped model on more simulations.
    init_onnx: str = ""
    soma_transform: dict = field(default_factory=lambda: asdict(SomaTransform()))
    split: dict = field(default_factory=dict)
    # The losses ignore the first burn_in_ms of every window (the recurrent model starts each
    # window from zero state; --arch branch-elm: 150 ms, as the authors' evaluation).
    burn_in_ms: int = 0
    # "nadam" (the paper's, with the kernels' L2) or "adam" (Branch-ELM, no weight decay)
    optimizer: str = "nadam"
    # "paper": the stage table, stepped per epoch; "cosine": lr = stages[0] lr · cosine from 1 to
    # lr_min / lr over all epochs · steps_per_epoch optimizer steps, stepped per step (loss
    # weights from stages[0])
    schedule: str = "paper"
    lr_min: float = 0.0

    def transform(self) -> SomaTransform:
        return SomaTransform(**self.soma_transform)

    def _stage_row(self, epoch: int) -> list:
        cur = self.stages[0]
        for s in self.stages:
            if epoch >= s[0] * self.epochs - 1e-9:
                cur = s
        return cur

    def stage(self, epoch: int) -> tuple[float, float, float]:
        """(lr, spike weight, soma weight) for a 0-based epoch."""
        cur = self._stage_row(epoch)
        return cur[1], cur[2], cur[3]

    def dend_weight(self, epoch: int) -> float:
        """Weight of the dendritic-PCA MSE (0 when a stage gives none)."""
        cur = self._stage_row(epoch)
        return cur[4] if len(cur) > 4 else 0.0

    def lr_factor(self, step: int) -> float:
        """The "cosine" schedule's factor of the initial lr after ``step`` optimizer steps."""
        import math
        total = max(1, self.epochs * self.steps_per_epoch)
        floor = self.lr_min / self.stages[0][1]
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(step, total) / total))

    def scale_lr(self, lr: float) -> None:
        """Rescale every stage's learning rate so that the first stage starts at ``lr``."""
        base = self.stages[0][1]
        self.stages = [[row[0], row[1] * lr / base, *row[2:]] for row in self.stages]

    def use_sparse(self) -> bool:
        return self.first_layer == "sparse" or (self.first_layer == "auto" and not self.device.startswith("cuda"))


def hardware_description(device: str) -> dict:
    """CPU model, core count and (if used) the GPU."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    out = {"cpu": cpu, "cpu_cores": os.cpu_count(), "torch_threads": torch.get_num_threads(), "device": device,
           "torch": torch.__version__, "python": platform.python_version()}
    if device.startswith("cuda") and torch.cuda.is_available():
        out["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return out


def resolve_device(device: str) -> torch.device:
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError("--device cuda requested but CUDA is not available")
    return torch.device(device)


def model_input(batch_x, cfg: TrainConfig, device: torch.device):
    """A batch's input as the model wants it: `SparseBatch` or dense [B, rows, T] tensor."""
    if cfg.use_sparse():
        return SparseBatch.from_numpy(batch_x, device)
    return torch.from_numpy(batch_x.to_dense()).to(device, non_blocking=True)


def losses(model: TCN, batch, cfg: TrainConfig, device: torch.device):
    """(spike BCE, soma MSE, dendritic-PCA MSE or 0) means over all bins of the batch, plus the
    spike logits."""
    logit, soma, dend = model.forward_all(model_input(batch.x, cfg, device))
    spike_t = torch.from_numpy(batch.spike).to(device)
    soma_t = torch.from_numpy(batch.soma).to(device)
    if cfg.burn_in_ms:
        burn = cfg.burn_in_ms
        logit, soma, spike_t, soma_t = logit[:, burn:], soma[:, burn:], spike_t[:, burn:], soma_t[:, burn:]
    bce = F.binary_cross_entropy_with_logits(logit, spike_t)
    mse = F.mse_loss(soma, soma_t)
    dmse = F.mse_loss(dend, torch.from_numpy(batch.dend).to(device)) if dend is not None else torch.zeros((), device=device)
    return bce, mse, dmse, logit


def make_optimizer(model: TCN, lr: float, kind: str = "nadam") -> torch.optim.Optimizer:
    if kind == "adam":
        return torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr, foreach=True)
    kernels = {id(p) for p in model.kernel_parameters()}
    return torch.optim.NAdam([
        {"params": [p for p in model.parameters() if id(p) in kernels], "weight_decay": 2e-8},
        {"params": [p for p in model.parameters() if id(p) not in kernels], "weight_decay": 0.0},
    ], lr=lr, foreach=True)  # foreach: ~2x faster update on CPU (measured)


@torch.no_grad()
def validate(model: TCN, batches, cfg: TrainConfig, device: torch.device, w_spike: float, w_soma: float,
             w_dend: float = 0.0) -> dict:
    """Validation losses on fixed windows (eval mode) and the spike AUC over their bins."""
    from . import metrics

    model.eval()
    bce_sum, mse_sum, dmse_sum, n = 0.0, 0.0, 0.0, 0
    ys, ps = [], []
    for b in batches:
        bce, mse, dmse, logit = losses(model, b, cfg, device)
        spike = b.spike[:, cfg.burn_in_ms:]
        bce_sum += float(bce) * spike.size
        mse_sum += float(mse) * spike.size
        dmse_sum += float(dmse) * spike.size
        n += spike.size
        ys.append(spike.ravel())
        ps.append(logit.float().cpu().numpy().ravel())
    model.train()
    y, p = np.concatenate(ys), np.concatenate(ps)
    auc = metrics.roc_auc(y, p) if 0 < y.sum() < y.size else None
    bce, mse, dmse = bce_sum / n, mse_sum / n, dmse_sum / n
    out = {"valid_dend_mse": dmse} if model.dend_head is not None else {}
    return out | {"valid_bce": bce, "valid_mse": mse, "valid_loss": w_spike * bce + w_soma * mse + w_dend * dmse,
            "valid_soma_rmse_mV": float(np.sqrt(mse)) * cfg.transform().scale_mV, "valid_auc": auc}


def _save_checkpoint(path: str, state: dict) -> None:
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str, device: str = "cpu") -> dict:
    """A checkpoint written by `train` (our own file: full unpickling is allowed)."""
    return torch.load(path, map_location=device, weights_only=False)


def load_model(run_dir: str, which: str = "best", device: str = "cpu") -> tuple[TCN, TrainConfig, dict]:
    """(model in eval mode, run config, checkpoint) from a run folder."""
    cfg = read_config(run_dir)
    ck = load_checkpoint(os.path.join(run_dir, "checkpoints", f"{which}.pt"), device)
    model = model_from_json(cfg.model).to(device)
    model.load_state_dict(ck["model"])
    model.eval()
    return model, cfg, ck


def read_config(run_dir: str) -> TrainConfig:
    with open(os.path.join(run_dir, "config.json")) as f:
        return TrainConfig(**json.load(f))


def _train_ids(ds: Dataset, cfg: TrainConfig) -> list[int]:
    """The training dataset's finished simulations, at most ``cfg.max_train_sims`` (by index)."""
    ids = ds.sim_indices
    return ids[:cfg.max_train_sims] if cfg.max_train_sims else ids


def _grow(ds: Dataset, cfg: TrainConfig, train_src: WindowSource, run_dir: str, log) -> None:
    """Load the simulations of shards finished since the last look (`cfg.grow`)."""
    fresh = Dataset(cfg.data)
    if fresh.fingerprint != ds.fingerprint:
        raise ValueError(f"{cfg.data}: the dataset changed morphology while training")
    have = set(train_src.ids)
    new = [k for k in _train_ids(fresh, cfg) if k not in have]
    if not new:
        return
    train_src.add(fresh.load_sims(new))
    cfg.split["train"] = list(train_src.ids)
    with open(os.path.join(run_dir, "config.json"), "w") as f:
        json.dump(asdict(cfg), f, indent=2)
    log(f"  + {len(new)} training simulations ({len(train_src.ids)} in all)")


def train(cfg: TrainConfig, run_dir: str, resume: bool = False, max_epochs_this_run: int | None = None,
          log=print) -> dict:
    """Train (or resume) a run in ``run_dir``; returns the last history entry.

    ``max_epochs_this_run`` stops early after that many epochs (the run stays resumable; used to
    test interruption). Resuming restores model, optimizer, scheduler, epoch and RNG states, so an
    interrupted and resumed run reproduces an uninterrupted one exactly (same device and threads).
    """
    ck_dir = os.path.join(run_dir, "checkpoints")
    last_path = os.path.join(ck_dir, "last.pt")
    if resume:
        saved = read_config(run_dir)
        saved.epochs = cfg.epochs  # the only setting a resume may change (the schedule is rescaled)
        saved.device, saved.threads = cfg.device, cfg.threads
        cfg = saved
    elif os.path.exists(last_path):
        raise FileExistsError(f"{run_dir} already holds a run; pass --resume or use another --out")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = resolve_device(cfg.device)

    ds = Dataset(cfg.data)
    mcfg = config_from_json(cfg.model)
    if mcfg.n_rows != ds.n_rows:
        raise ValueError(f"model expects {mcfg.n_rows} input rows, dataset has {ds.n_rows}")
    vds = None
    if cfg.valid_data:
        vds = Dataset(cfg.valid_data)
        if vds.fingerprint != ds.fingerprint or vds.n_rows != ds.n_rows:
            raise ValueError(f"--valid-data {cfg.valid_data}: another morphology than --data {cfg.data}")
        if mcfg.n_dend:
            raise ValueError("--valid-data is not supported with --dend-pcs")
    if vds is not None and (not cfg.split or cfg.grow):
        cfg.split = {"train": _train_ids(ds, cfg), "valid": vds.sim_indices, "test": [],
                     "valid_data": cfg.valid_data, "morphology_fingerprint": ds.fingerprint}
    elif not cfg.split:
        cfg.split = split_sims(_train_ids(ds, cfg), cfg.valid_fraction, cfg.test_fraction)
    cfg.split.setdefault("morphology_fingerprint", ds.fingerprint)
    if cfg.split["morphology_fingerprint"] != ds.fingerprint:
        raise ValueError("dataset morphology fingerprint differs from the run's")
    if not cfg.split["train"]:
        raise ValueError(f"{cfg.data}: no finished training simulations yet")
    os.makedirs(ck_dir, exist_ok=True)
    with open(os.path.join(run_dir, "config.json"), "w") as f:
        json.dump(asdict(cfg), f, indent=2)

    dend_pca = None
    if mcfg.n_dend:
        if not ds.has_dendritic:
            raise ValueError("--dend-pcs needs a dataset with dendritic voltages (dend_v.npy)")
    sims = ds.load_sims(cfg.split["train"] + ([] if vds is not None else cfg.split["valid"]), dendritic=bool(mcfg.n_dend))
    if vds is not None:
        valid_sims = vds.load_sims(cfg.split["valid"])
        sims.update({("valid", k): v for k, v in valid_sims.items()})
        cfg.split["valid"] = [("valid", k) for k in cfg.split["valid"]]
    if mcfg.n_dend:
        pca_path = os.path.join(run_dir, "dend_pca.npz")
        if resume and os.path.exists(pca_path):
            with np.load(pca_path) as f:
                dend_pca = DendriticPCA(mean=f["mean"], components=f["components"])
        else:
            dend_pca = DendriticPCA.fit([sims[k] for k in cfg.split["train"]], mcfg.n_dend, seed=cfg.seed)
            np.savez(pca_path, mean=dend_pca.mean, components=dend_pca.components)
    transform = cfg.transform()
    train_src = WindowSource({k: sims[k] for k in cfg.split["train"]}, ds.n_rows, transform, dend_pca)
    valid_src = WindowSource({k: sims[k] for k in cfg.split["valid"]}, ds.n_rows, transform, dend_pca) if cfg.split["valid"] else None
    if vds is not None:  # back to plain indices (of the validation dataset) for config.json
        cfg.split["valid"] = [k for _, k in cfg.split["valid"]]
    valid_batches = valid_src.fixed_batches(cfg.batch_size, cfg.window_ms, cfg.ignore_ms, cfg.valid_windows_per_sim) if valid_src else []

    torch.manual_seed(cfg.seed)
    model = model_from_json(cfg.model).to(device)
    if cfg.init_onnx and not resume:
        from .model import load_onnx_weights
        load_onnx_weights(model, cfg.init_onnx)
        log(f"weights from {cfg.init_onnx}")
    base_lr = cfg.stages[0][1]
    opt = make_optimizer(model, base_lr, cfg.optimizer)
    per_step = cfg.schedule == "cosine"
    if per_step:
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: cfg.lr_factor(step))
    else:
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: cfg.stage(e)[0] / base_lr)
    rng = np.random.default_rng(cfg.seed)
    start_epoch, history, best, wall, windows = 0, [], float("inf"), 0.0, 0
    if resume:
        ck = load_checkpoint(last_path, cfg.device)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        sched.load_state_dict(ck["scheduler"])
        rng.bit_generator.state = ck["numpy_rng"]
        torch.set_rng_state(ck["torch_rng"])
        if device.type == "cuda" and ck.get("cuda_rng") is not None:
            torch.cuda.set_rng_state_all(ck["cuda_rng"])
        if per_step:  # --epochs may have changed the cosine's length: the lr of the next step
            for g in opt.param_groups:
                g["lr"] = base_lr * cfg.lr_factor(sched.last_epoch)
        start_epoch, history, best = ck["epoch"] + 1, ck["history"], ck["best_valid_loss"]
        wall, windows = ck["wall_s"], ck["train_windows"]
        log(f"resuming after epoch {ck['epoch']} ({windows} windows, {wall:.0f} s so far)")
    shape = f"kernels {mcfg.kernels}, widths {mcfg.widths}" if hasattr(mcfg, "kernels") else f"{mcfg.memory} memory units, {mcfg.branches} branches"
    log(f"model {mcfg.name}: {shape}, {model.n_parameters():,} parameters, "
        f"window {mcfg.window_ms} ms; first layer {'sparse' if cfg.use_sparse() else 'dense'} on {device}; "
        f"{len(cfg.split['train'])} train / {len(cfg.split['valid'])} valid / {len(cfg.split['test'])} test sims")

    model.train()
    entry = history[-1] if history else {}
    done_this_run = 0
    for epoch in range(start_epoch, cfg.epochs):
        if max_epochs_this_run is not None and done_this_run >= max_epochs_this_run:
            break
        t0 = time.time()
        if cfg.grow and epoch > start_epoch:
            _grow(ds, cfg, train_src, run_dir, log)
        lr, w_spike, w_soma = cfg.stage(epoch)
        if per_step:
            lr = opt.param_groups[0]["lr"]
        w_dend = cfg.dend_weight(epoch)
        bce_acc = mse_acc = 0.0
        for _ in range(cfg.steps_per_epoch):
            batch = train_src.random_batch(rng, cfg.batch_size, cfg.window_ms, cfg.ignore_ms)
            bce, mse, dmse, _ = losses(model, batch, cfg, device)
            loss = w_spike * bce + w_soma * mse + w_dend * dmse
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if per_step:
                sched.step()
            bce_acc += float(bce.detach())
            mse_acc += float(mse.detach())
        if not per_step:
            sched.step()
        windows += cfg.steps_per_epoch * cfg.batch_size
        train_s = time.time() - t0
        entry = {"epoch": epoch, "lr": lr, "train_sims": len(train_src.ids), "loss_weights": [w_spike, w_soma] + ([w_dend] if mcfg.n_dend else []),
                 "train_bce": bce_acc / cfg.steps_per_epoch, "train_mse": mse_acc / cfg.steps_per_epoch,
                 "step_s": train_s / cfg.steps_per_epoch, "train_windows": windows,
                 "train_ms": windows * cfg.window_ms}
        if valid_batches:
            # the validation loss is weighted as the first stage's, whatever this epoch's: the
            # paper's stages raise the spike weight 9-fold, and a loss weighted per stage would
            # make the best epoch an early one by construction
            _, w0_spike, w0_soma = cfg.stage(0)
            entry.update(validate(model, valid_batches, cfg, device, w0_spike, w0_soma, cfg.dend_weight(0)))
        wall += time.time() - t0
        entry["wall_s"] = wall
        history.append(entry)
        is_best = bool(valid_batches) and entry["valid_loss"] < best
        if is_best:
            best = entry["valid_loss"]
        state = {"model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                 "epoch": epoch, "numpy_rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state(),
                 "cuda_rng": torch.cuda.get_rng_state_all() if device.type == "cuda" else None,
                 "history": history, "best_valid_loss": best, "wall_s": wall, "train_windows": windows,
                 "hardware": hardware_description(str(device))}
        _save_checkpoint(last_path, state)
        if is_best or not valid_batches:
            shutil.copyfile(last_path, os.path.join(ck_dir, "best.pt"))
        with open(os.path.join(run_dir, "history.jsonl"), "w") as f:  # rewritten: matches the checkpoint
            f.writelines(json.dumps(jsonable(h), allow_nan=False) + "\n" for h in history)
        auc = entry.get("valid_auc")
        log(f"epoch {epoch + 1}/{cfg.epochs}: lr {lr:.0e}, train BCE {entry['train_bce']:.4f} MSE {entry['train_mse']:.3f}; "
            f"valid loss {entry.get('valid_loss', float('nan')):.4f}, AUC {auc if auc is None else round(auc, 4)}, "
            f"soma RMSE {entry.get('valid_soma_rmse_mV', float('nan')):.3f} mV; {entry['step_s']:.3f} s/step"
            + (" *best*" if is_best else ""))
        done_this_run += 1
    return entry
