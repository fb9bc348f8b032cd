"""Training across processes (`torchrun --nproc_per_node=N -m musicgen train ...`): the same loop, data-parallel.

torchrun sets WORLD_SIZE/RANK/MASTER_ADDR; `setup` joins the process group (gloo on CPU, nccl on CUDA).
Every rank draws the *same* global batch (same seeded generator) and trains on its rows `rank::world`;
gradients are averaged after each backward (`average_gradients`, called by the base `train_step`), so N
processes take the steps one process would take with the global batch (up to float summation order and
the per-shard weighting of token means). Only rank 0 writes checkpoints, history and resume state.
With one process (no WORLD_SIZE, or 1) everything here is a no-op.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


class DistributedError(RuntimeError):
    """This run cannot be distributed; the message says why and what to do."""


@dataclass(frozen=True)
class Context:
    rank: int = 0
    world: int = 1

    @property
    def active(self) -> bool:
        return self.world > 1

    @property
    def writes(self) -> bool:
        """Only rank 0 writes files (checkpoint, history, resume state) and shows progress."""
        return self.rank == 0


def setup(device: torch.device) -> Context:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Context()
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    if device.type == "cuda":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    return Context(rank=dist.get_rank(), world=dist.get_world_size())


def teardown(ctx: Context) -> None:
    if ctx.active and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def average_gradients(parameters) -> None:
    """Mean of every gradient over the ranks (nothing to do in a single process)."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])  # one collective per step, not one per tensor
    dist.all_reduce(flat)
    flat /= dist.get_world_size()
    offset = 0
    for g in grads:
        g.copy_(flat[offset:offset + g.numel()].view_as(g))
        offset += g.numel()


def shard(batch, ctx: Context):
    """This rank's rows of the global batch."""
    if not ctx.active:
        return batch
    if not isinstance(batch, torch.Tensor):
        raise DistributedError(f"this family's batches ({type(batch).__name__}) cannot be split across processes yet")
    if len(batch) < ctx.world:
        raise DistributedError(f"a batch of {len(batch)} cannot be split over {ctx.world} processes; raise batch_size")
    return batch[ctx.rank::ctx.world]


def mean_over_ranks(values: dict[str, float], ctx: Context) -> dict[str, float]:
    """Each number averaged over the ranks (a history record describes the global batch, not one shard)."""
    if not ctx.active or not values:
        return values
    keys = sorted(values)
    t = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64)
    dist.all_reduce(t)
    return {k: float(v) / ctx.world for k, v in zip(keys, t.tolist())}


def any_rank(flag: bool, ctx: Context) -> bool:
    """True on every rank when it is True on one (a stop decision all ranks must share, or they deadlock)."""
    if not ctx.active:
        return flag
    t = torch.tensor([1 if flag else 0])
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())
