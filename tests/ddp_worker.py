"""Run under torchrun: a tiny DDP training on CPU (gloo); rank 0 exports the model.

Usage: torchrun --nproc-per-node 2 tests/ddp_worker.py OUT_PATH
"""

import sys

import torch

import lcpfn
from lcpfn.pfn.model import ModelConfig
from lcpfn.pfn.training import TrainConfig, train

MC = ModelConfig(n_layers=2, n_heads=2, d_model=32, n_bars=50)
TC = TrainConfig(
    n_curves=3 * 2 * 16, batch_size=16, lr=2e-3, n_border_curves=1000, log_every=1
)


def main(out: str) -> None:
    torch.set_num_threads(1)
    result = train(lcpfn.priors.load("lcpfn"), MC, TC, progress=False)
    if torch.distributed.get_rank() == 0:
        result.save(out)
    torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
