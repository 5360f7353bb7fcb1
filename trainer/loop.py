"""The training loop. `iter_train(cfg)` is a generator of events (ganexplorer.runs.events);
`train(cfg)` drives it with a progress bar and signal handling.

A run goes through four phases, each in its own module:
  networks.py      the device, G, D, G_ema and their optimisers (identical on every rank)
  run_folder.py    the run folder: its rules, the leftovers of a kill, every (atomic) write
  resume_state.py  what --resume continues from: saved at snapshots, loaded when continuing
                   (init_weights.py: --init, a run's first weights from a checkpoint)
  step.py          one D update and one G update
and progress.py keeps the tick statistics. Per step the host never waits on the device:
batches are drawn on the device, losses are accumulated in device tensors and read only
at ticks (every --tick-kimg or --tick-seconds). Only rank 0 writes files and events.
"""
from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any, Callable, Generator

import torch

from ganexplorer.runs.folder import EVENTS_FILE, RESUME_GLOB, SNAP_GLOB, by_kimg, find_resume  # noqa: F401

from . import distributed as dist_glue
from . import events as ev
from . import losses
from . import resume_state
from . import schedules
from . import run_folder as folder
from .augment import Augment
from .config import TrainConfig
from .data import BatchSource, DatasetError, batch_problem, load_dataset
from .init_weights import load_init
from .networks import (GenerateStep, TrainError, amp_enabled, autocast_factory, bf16_native,  # noqa: F401
                       build_networks, grid_latents, make_networks, resolve_device, sample_grid, wrap)
from .progress import TickStats
from .run_folder import SaveError, kimg_label  # noqa: F401 (re-exported)
from .step import TrainStep, draw_inputs


def _nan_message(what: str, nimg: int, last_ckpt: str | None) -> str:
    return (f"training stopped: {what} (kimg {nimg / 1000:g}); nothing was saved after that. "
            f"Last good checkpoint: {last_ckpt or 'none'}. Try a lower --lr-G/--lr-D or a larger "
            "--r1-gamma.")


def _metrics(cfg: TrainConfig, G_ema, ds, device: torch.device) -> dict[str, Any] | None:
    """FID/KID of G_ema against as many reals as fakes (at most): FID's bias depends on both."""
    from . import metrics
    try:
        return metrics.fid_kid(G_ema, ds, num_fakes=cfg.metric_samples, device=device, seed=cfg.seed,
                               num_reals=cfg.metric_samples)
    except metrics.MetricError as e:
        print(f"warning: metrics skipped: {e}")
        return None


def iter_train(cfg: TrainConfig, stop: Callable[[], bool] | threading.Event | None = None,
               dist: dist_glue.DistInfo | None = None) -> Generator[dict[str, Any], None, dict[str, Any]]:
    """Train according to `cfg`, yielding events; stops cleanly when `stop()` turns true.

    Raises TrainError/DatasetError (SaveError for a failed write) before the first event
    for problems found while setting up; after "start", every ending (done, stopped, NaN,
    error, a full disk) is an "end" event.
    """
    should_stop = (stop.is_set if isinstance(stop, threading.Event) else stop) or (lambda: False)

    # ---- processes and device
    dist = dist or dist_glue.from_env()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = resolve_device(cfg.device, dist.local_rank)
    dist = dist_glue.init(dist, device)
    if cfg.batch % dist.world_size:
        raise TrainError(f"--batch {cfg.batch} must be divisible by the number of processes ({dist.world_size})")
    batch = cfg.batch // dist.world_size
    main = dist.is_main

    # ---- data (checked before anything is written)
    ds = load_dataset(cfg.data, cfg.resolution, cfg.channels or None, cfg.resize)
    if problem := batch_problem(cfg.batch, ds.count):
        raise DatasetError([problem])
    gen = torch.Generator(device=device)          # this rank's batches, latents and augmentation
    gen.manual_seed(cfg.seed * 1000 + dist.rank)
    src = BatchSource(ds, device, batch, cfg.xflip, gen)

    # ---- run folder: the rules, and what a killed run left
    run_dir, resume_states = folder.open_run_folder(cfg, main)

    # ---- networks
    nets = make_networks(cfg, ds.channels, device, dist)
    aug = Augment(cfg.augment, cfg.diffaug_ops, device, gen, cfg.ada_target,
                  cfg.batch * cfg.ada_interval / (cfg.ada_kimg * 1000),
                  reduce=lambda t: dist_glue.all_sum(dist, t), p=cfg.ada_p)

    # ---- resume state: the newest that loads and is finite; none yet means step 0
    step, nimg, resumed_from = 0, 0, None
    if resume_states:
        state, used = resume_state.load_newest(resume_states)
        if state is None:
            print(f"warning: no resume state in {run_dir} could be read; starting from step 0", flush=True)
        else:
            step, nimg = resume_state.restore(state, nets, aug, gen, src, dist)
            resumed_from = used.name
    if resumed_from is None and cfg.init:
        load_init(nets, cfg.init)
    wrap(nets, cfg, device, dist)
    use_amp = amp_enabled(cfg, device)
    train_step = TrainStep(cfg, nets, aug, autocast_factory(device, use_amp), gen, dist)

    # ---- the config and the event log (config first: a run killed now can be resumed)
    emit = folder.EventSink()
    if main:
        folder.save_config(run_dir, cfg)
        emit.log = folder.guarded(run_dir / EVENTS_FILE, lambda: ev.EventLog(run_dir / EVENTS_FILE))
    # A continued run's last good checkpoint: the newest that loads and is finite. A run that
    # starts from step 0 in place has none yet (files of an earlier attempt are not its own).
    last_ckpt = folder.last_good_snapshot(run_dir) if main and resumed_from else None
    last_metrics: dict[str, Any] = {}
    z_grid = grid_latents(cfg.z_dim, cfg.grid_size).to(device)
    total_nimg = int(round(cfg.kimg * 1000))
    stats = TickStats(device, cfg.loss, cfg.lr_G, losses.uses_r1(cfg.loss, cfg.r1_gamma))

    def nonfinite() -> str | None:
        """What went non-finite (rank-local), or None."""
        b = stats.first_bad_step()
        if b is not None:
            return f"the loss became NaN or infinite at step {b}"
        if resume_state.networks_nonfinite(nets):
            return f"the weights became NaN or infinite by step {step}"
        return None

    def metric_event() -> dict[str, Any] | None:
        r = _metrics(cfg, nets.G_ema, ds, device)
        if r is None:
            return None
        last_metrics.update(fid=r["fid"], kid=r["kid"], kimg=nimg / 1000)
        return ev.make("metric", step=step, kimg=nimg / 1000, **r)

    def save_all() -> tuple[str, str, str]:
        """Sample grid, snapshot (EMA G + D) and resume state at this step, all or none.
        -> their names (relative to the run folder)."""
        label = kimg_label(run_dir, nimg)
        info = {"name": run_dir.name, "kind": cfg.arch, "dataset": ds.name, "credit": ds.credit,
                "licence": ds.licence, "provenance": {"trainer": "ganexplorer-train", "step": step,
                                                      "kimg": nimg / 1000, "config": cfg.to_dict()}}
        if last_metrics:
            info["metrics"] = dict(last_metrics)
        written: list[str] = []
        try:
            written.append(folder.save_grid(run_dir, label, sample_grid(nets.G_ema, z_grid)))
            written.append(folder.save_snapshot(run_dir, label, {"G": nets.G_ema, "D": nets.D}, info))
            written.append(folder.save_resume(run_dir, step, resume_state.build_state(
                nets, aug, gen, src, step, nimg, cfg, dist)))
        except SaveError:
            for name in written:     # a snapshot without its resume state is not a complete save
                (run_dir / name).unlink(missing_ok=True)
            raise
        folder.prune(run_dir, cfg.keep)
        grid, snap, res = written
        return grid, snap, res

    if main:
        yield emit(ev.make("start", config=cfg.to_dict(), total_kimg=total_nimg / 1000,
                           run_dir=str(run_dir), resumed_from=resumed_from, step=step, kimg=nimg / 1000,
                           device=str(device), precision="bfloat16 autocast" if use_amp else "float32"))
        if emit.failed:
            raise emit.failed

    # ---- the schedule
    snap_every = max(int(round(cfg.snap_kimg * 1000)), 1)
    tick_every = max(int(round(cfg.tick_kimg * 1000)), 1)
    metric_every = int(round(cfg.metric_kimg * 1000))
    next_snap = (nimg // snap_every + 1) * snap_every
    next_tick = (nimg // tick_every + 1) * tick_every
    next_metric = (nimg // metric_every + 1) * metric_every if metric_every else None
    tick_time, tick_nimg = time.time(), nimg
    mix = cfg.arch == "stylegan2" and cfg.style_mixing > 0
    sched = schedules.for_config(cfg)     # R3GAN's cosine ramps, or None (constant)

    reason, message, save_failed = "done", f"trained to {total_nimg / 1000:g} kimg", False
    try:
        while nimg < total_nimg:
            # ---------------- one step on a fresh batch, then the EMA generator
            if sched is not None:
                train_step.r1_gamma = sched.apply(nets.opt_G, nets.opt_D, nimg)
                stats.lr = nets.opt_G.param_groups[0]["lr"]     # ticks report the lr in use
            out = train_step(step, *draw_inputs(src, gen, nets.memory_format, batch, cfg.z_dim, mix))
            nimg += cfg.batch
            step += 1
            if cfg.ema_kimg <= 0:
                beta = 0.0
            elif cfg.init:              # G starts trained: no ramp-up, the average keeps its half-life
                beta = losses.ema_beta(cfg.batch, nimg, cfg.ema_kimg, 0.0)
            elif sched is not None:     # the half-life ramps from 0 with the schedule instead
                beta = losses.ema_beta(cfg.batch, nimg, sched.ema_half_life_kimg(nimg), 0.0)
            else:
                beta = losses.ema_beta(cfg.batch, nimg, cfg.ema_kimg, cfg.ema_rampup)
            losses.update_ema(nets.G_ema, nets.G, beta)
            stats.add(out, step)

            # ---------------- agree on stopping: stop requests, NaN, failed writes
            snap_due = nimg >= next_snap or nimg >= total_nimg
            stop_now, any_bad, any_failed = dist_glue.agree(
                dist, device, step % 16 == 0 or snap_due,
                should_stop(), stats.first_bad_step() is not None, emit.failed is not None)
            any_bad = any_bad and dist.enabled    # one process checks its own NaNs at the tick
            if any_failed:
                reason, save_failed = "error", True
                message = emit.failed.message(last_ckpt) if emit.failed else \
                    "rank 0 could not write its events; see its output"
                break
            at_snap = snap_due or stop_now

            # ---------------- tick (rank 0 reports)
            now = time.time()
            if main and (nimg >= next_tick or now - tick_time >= cfg.tick_seconds or at_snap):
                next_tick = (nimg // tick_every + 1) * tick_every
                bad_msg = nonfinite() if not dist.enabled else None
                ips = (nimg - tick_nimg) / max(now - tick_time, 1e-9)
                yield emit(stats.tick(step, nimg, ips, total_nimg, float(aug.p.item()) if aug.enabled else None))
                tick_time, tick_nimg = now, nimg
                warning = stats.collapse_warning(step, nimg)
                if warning:
                    yield emit(warning)
                if bad_msg:
                    reason, message = "nan", _nan_message(bad_msg, nimg, last_ckpt)
                    break
            if any_bad:
                reason, message = "nan", _nan_message(
                    (nonfinite() if main else None) or f"a loss became NaN or infinite by step {step}",
                    nimg, last_ckpt)
                break

            # ---------------- metrics
            if next_metric is not None and nimg >= next_metric:
                next_metric = (nimg // metric_every + 1) * metric_every
                if main and (m := metric_event()):
                    yield emit(m)

            # ---------------- snapshot: grid, checkpoint, resume state
            if at_snap:
                next_snap = (nimg // snap_every + 1) * snap_every
                dist_glue.sync_buffers(dist, nets.G, nets.D, nets.G_ema)
                # Weights are identical on every rank (DDP), so each reaches the same verdict;
                # buffers count too (BatchNorm's running_var can overflow while weights do not).
                bad = resume_state.networks_nonfinite(nets)
                if bad:    # never write a NaN checkpoint over good ones
                    reason, message = "nan", _nan_message(
                        f"the weights became NaN or infinite by step {step} ({', '.join(bad[:3])})", nimg, last_ckpt)
                    break
                failure: SaveError | None = None
                if main:
                    try:
                        final = nimg >= total_nimg and cfg.final_metrics and last_metrics.get("kimg") != nimg / 1000
                        if final and (m := metric_event()):
                            yield emit(m)
                        grid, snap, res = save_all()
                        yield emit(ev.make("grid", step=step, kimg=nimg / 1000, path=grid))
                        last_ckpt = snap
                        yield emit(ev.make("checkpoint", step=step, kimg=nimg / 1000, path=snap, resume=res))
                    except SaveError as e:
                        failure = e
                    failure = failure or emit.failed
                # A failed save on rank 0 ends the run on every rank.
                (failed,) = dist_glue.any_flags(dist, torch.tensor([float(failure is not None)], device=device))
                if failed:
                    reason, save_failed = "error", True
                    message = failure.message(last_ckpt) if failure else "rank 0 could not save a checkpoint"
                    break
            if stop_now:
                reason, message = "stopped", f"stopped at step {step} (kimg {nimg / 1000:g}); " \
                                             f"continue with --resume {run_dir}"
                break
    except GeneratorExit:
        emit(ev.make("end", reason="stopped", message=f"the caller closed the run at step {step}",
                     last_checkpoint=last_ckpt, step=step, kimg=nimg / 1000))
        emit.close()
        raise
    except Exception as e:
        if main:
            yield emit(ev.make("end", reason="error", message=f"{type(e).__name__}: {e}",
                               last_checkpoint=last_ckpt, step=step, kimg=nimg / 1000))
            emit.close()
        raise
    if main:
        yield emit(ev.make("end", reason=reason, message=message, last_checkpoint=last_ckpt,
                           step=step, kimg=nimg / 1000, save_failed=save_failed))
        emit.close()
    # The generator's return value (`result = yield from iter_train(cfg)`): the trained
    # networks, on every rank — what a caller (or a test) inspects after the run.
    return {"G": nets.G, "D": nets.D, "G_ema": nets.G_ema, "step": step, "nimg": nimg, "reason": reason,
            "aug_p": float(aug.p)}


# ------------------------------------------------------------------ the driver

EXIT_SAVE_FAILED = 2   # a full disk (or another failed write): the designed line, then this status


def train(cfg: TrainConfig, progress: bool | None = None) -> int:
    """Run to the end with a tqdm bar; Ctrl-C / SIGTERM save and exit. -> exit status."""
    stop = threading.Event()
    previous: dict[int, Any] = {}

    def on_signal(signum, frame):
        if stop.is_set():           # a second Ctrl-C: give up at once
            raise KeyboardInterrupt
        stop.set()
        print(f"\n{signal.Signals(signum).name}: saving a checkpoint and stopping...", flush=True)

    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread:
        for s in (signal.SIGINT, signal.SIGTERM):
            previous[s] = signal.signal(s, on_signal)
    bar = None
    status = 0
    try:
        for e in iter_train(cfg, stop):
            if e["type"] == "start":
                print(f"training to {e['total_kimg']:g} kimg in {e['run_dir']} "
                      f"({e['device']}, {e['precision']})", flush=True)
                if progress if progress is not None else cfg.progress:
                    from tqdm import tqdm
                    bar = tqdm(total=e["total_kimg"], initial=e["kimg"], unit="kimg", dynamic_ncols=True,
                               bar_format="{l_bar}{bar}| {n:.2f}/{total:.2f} kimg [{elapsed}<{remaining}{postfix}]")
            elif e["type"] == "tick" and bar is not None:
                bar.update(min(e["kimg"], bar.total) - bar.n)
                post = {"G": f"{e['loss_G']:.3f}" if e["loss_G"] is not None else "nan",
                        "D": f"{e['loss_D']:.3f}" if e["loss_D"] is not None else "nan",
                        "img/s": f"{e['img_per_s']:.0f}"}
                if e.get("aug_p") is not None:
                    post["p"] = f"{e['aug_p']:.2f}"
                bar.set_postfix(post, refresh=True)
            elif e["type"] == "metric":
                msg = f"kimg {e['kimg']:.1f}: FID {e['fid']:.2f}" + \
                    (f", KID {e['kid']:.4f}" if e.get("kid") is not None else "")
                (bar.write if bar else print)(msg)
            elif e["type"] == "warning":
                (bar.write if bar else print)(f"warning: {e['message']}")
            elif e["type"] == "checkpoint" and bar is None:
                print(f"kimg {e['kimg']:.2f}: saved {e['path']}", flush=True)
            elif e["type"] == "end":
                if bar is not None:
                    bar.close()
                    bar = None
                print(f"{e['reason']}: {e['message']}" if not e.get("save_failed") else e["message"], flush=True)
                if e["last_checkpoint"]:
                    print(f"checkpoint: {Path(cfg.resume or cfg.out) / e['last_checkpoint']}", flush=True)
                status = 0 if e["reason"] in ("done", "stopped") else \
                    EXIT_SAVE_FAILED if e.get("save_failed") else 1
    finally:
        if bar is not None:
            bar.close()
        for s, h in previous.items():
            signal.signal(s, h)
        dist_glue.cleanup(dist_glue.from_env())
    return status
