"""Types of the compiled quality kernel (samples/_quality_kernel.pyx, built by bin/build-kernels)."""

import numpy as np

STATUS: dict[str, int]
SHAPES: dict[str, int]
STATS: dict[str, int]

def count(
    buffer: np.ndarray,
    start: int,
    end: int,
    qualities: np.ndarray,
    bases: np.ndarray,
    means: np.ndarray,
    gc_short: np.ndarray,
    long_gc: np.ndarray,
    stats: np.ndarray,
    ids: np.ndarray | None = None,
    id_lengths: np.ndarray | None = None,
) -> tuple[int, int, int]: ...
