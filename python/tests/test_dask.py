"""Scale-out: a DrDam memory built on a local Dask cluster, one partition
of the patterns per task, equals the single-process memory.

Every worker builds `dam.DrDam` from the same (dim, features, beta, seed),
so its features φ are the same function (the projection is regenerated
from the seed, bit for bit on every machine); the memory T = Σ φ(ξ) is a
sum, so the partitions' memories add up to the whole one.
"""

import faulthandler
import logging
import sys

import cloudpickle
import numpy as np
from dask.distributed import Client, LocalCluster

import dam

DIM, FEATURES, BETA, SEED = 32, 2000, 0.2, 0x5EED
K, PARTS = 600, 6
# The whole test must end in this time, whatever the cluster does: past
# it faulthandler prints every thread's stack and exits the process.
DEADLINE_S = 300
TASK_TIMEOUT_S = 120


def partition_memory(part, dim, features, beta, seed):
    """The memory of one partition: T = Σ_{ξ in part} φ(ξ) (float32)."""
    return dam.DrDam(dim, features, beta, seed).store(part).T


def test_partitioned_store_on_a_dask_cluster_equals_one_process():
    # The workers unpickle the task function by value: they need not import
    # this test module (pytest put its directory on this process' path only).
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    patterns = np.random.default_rng(7).uniform(-1, 1, (K, DIM)).astype(np.float32)
    parts = np.array_split(patterns, PARTS)
    faulthandler.dump_traceback_later(DEADLINE_S, exit=True)
    try:
        with LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=1,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster, Client(cluster, timeout=60) as client:
            futures = [
                client.submit(partition_memory, part, DIM, FEATURES, BETA, SEED, pure=False)
                for part in parts
            ]
            memories = [f.result(timeout=TASK_TIMEOUT_S) for f in futures]
            # Two worker processes, and the tasks ran on both.
            assert len(client.run(lambda: 1)) == 2
            holders = {w for ws in client.who_has(futures).values() for w in ws}
            assert len(holders) == 2, holders
    finally:
        faulthandler.cancel_dump_traceback_later()
    distributed = np.sum(memories, axis=0, dtype=np.float32)
    single = dam.DrDam(DIM, FEATURES, BETA, SEED).store(patterns).T

    # Tolerance: every entry of T is a sum of K terms |φ_j(ξ)| ≤ 1/√Y,
    # accumulated in float32 in two different orders (one running sum;
    # six partial sums, then their sum). Recursive summation of K terms
    # errs by at most (K−1)·u·Σ|terms| ≤ (K−1)·u·K/√Y with u = 2^-24, for
    # each of the two: their difference is within twice that (9.6e-4 here;
    # measured: 1e-5),
    # while a worker with another projection would differ by O(1).
    u = 2.0**-24
    bound = 2 * (K - 1) * u * K / np.sqrt(FEATURES)
    diff = np.abs(distributed.astype(np.float64) - single.astype(np.float64))
    print(f"max |T_dask - T_single| = {diff.max():.3g}, bound {bound:.3g}")
    assert diff.max() <= bound, (diff.max(), bound)
    # Not vacuous: another seed's memory is far outside the bound.
    other = dam.DrDam(DIM, FEATURES, BETA, SEED + 1).store(patterns).T
    assert np.abs(other - single).max() > 1000 * bound
