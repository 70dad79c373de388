"""Train the tiny fault-test model into a checkpoint folder; export when finished.

Usage: python tests/train_worker.py CHECKPOINT_DIR OUT_PATH
"""

import sys

import lcpfn
from lcpfn.pfn.model import ModelConfig
from lcpfn.pfn.training import TrainConfig, train

MC = ModelConfig(n_layers=1, n_heads=2, d_model=32, n_bars=50)


def main(checkpoint_dir: str, out: str) -> None:
    tc = TrainConfig(
        n_curves=60 * 32,
        batch_size=32,
        lr=2e-3,
        n_border_curves=1000,
        checkpoint_dir=checkpoint_dir,
        checkpoint_every=1,
        log_every=1,
    )
    result = train(lcpfn.priors.load("lcpfn"), MC, tc, progress=False)
    result.save(out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
