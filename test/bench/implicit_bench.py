#!/usr/bin/env python3
"""test/bench/implicit_bench.py — times the peer implicit's CPU ALS (CG) on a TSV of interactions.

Used by test/bench/run.sh's training step to put implicit beside reco on the same data in the
same run. It only imports implicit (the user installs it, e.g. `pip install implicit`); it
builds and fetches nothing. Exit status 3 when implicit cannot be imported.

    python3 test/bench/implicit_bench.py DATA.tsv [--configs 64:1,64:2,128:1,128:2]
        [--runs N] [--iterations 5] [--regularization 0.05] [--cg-steps 3] [--seed 42]

DATA.tsv: user_id, item_id, value per line (whitespace-separated; what `\\copy ... TO` writes).
One line per run on stdout, tab-separated:

    implicit k threads run map_s csr_s fit_s iterations cpu_fit_s nnz users items version

map_s: the ids mapped to row and column numbers (not part of the whole fit: the issue's
"CSR + fit" starts from the numbers); csr_s: scipy's COO -> CSR build of the user-item matrix
(float32); fit_s: AlternatingLeastSquares.fit as a whole (its transpose, the factors'
initialisation and the iterations); iterations: the seconds of each iteration as fit's
callback reports them, comma-separated; cpu_fit_s: the process's CPU seconds during fit.
"""

import argparse
import os
import sys
import time

# implicit's documentation: one BLAS thread, implicit parallelises itself (num_threads);
# set before numpy loads OpenBLAS.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402

try:
    import scipy.sparse  # noqa: E402
    import implicit  # noqa: E402
    from implicit.cpu.als import AlternatingLeastSquares  # noqa: E402
except ImportError as exc:  # the caller falls back to the last report's figures
    print(f"implicit_bench.py: implicit is not importable ({exc})", file=sys.stderr)
    sys.exit(3)


def parse_args():
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data")
    p.add_argument("--configs", default="64:1,64:2,128:1,128:2", help="k:threads,...")
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--iterations", type=int, default=5)
    p.add_argument("--regularization", type=float, default=0.05)
    p.add_argument("--cg-steps", type=int, default=3)
    p.add_argument("--seed", type=int, default=42)
    return p.parse_args()


def dense_index(ids):
    """Row numbers 0..n-1 for the distinct ids (in id order) and their count."""
    if ids.size and ids.min() >= 0 and ids.max() < 4 * ids.size + 1024:
        present = np.bincount(ids) > 0  # ids small and dense: a lookup table, O(n)
        lookup = np.cumsum(present) - 1
        return lookup[ids].astype(np.int32), int(present.sum())
    uniq, inverse = np.unique(ids, return_inverse=True)
    return inverse.astype(np.int32), int(uniq.size)


def load(path):
    """The interactions of the TSV: user ids, item ids, values (float32)."""
    raw = np.fromfile(path, dtype=np.float64, sep=" ")
    if raw.size % 3:
        sys.exit(f"implicit_bench.py: {path} does not hold three columns")
    raw = raw.reshape(-1, 3)
    return raw[:, 0].astype(np.int64), raw[:, 1].astype(np.int64), raw[:, 2].astype(np.float32)


def run_once(users, items, values, k, threads, args):
    """Maps, builds the CSR matrix and fits once; returns the figures of one output line."""
    t0 = time.perf_counter()
    rows, n_users = dense_index(users)
    cols, n_items = dense_index(items)
    t1 = time.perf_counter()
    user_items = scipy.sparse.coo_matrix((values, (rows, cols)), shape=(n_users, n_items)).tocsr()
    t2 = time.perf_counter()
    model = AlternatingLeastSquares(factors=k, regularization=args.regularization,
                                    iterations=args.iterations, use_cg=True, dtype=np.float32,
                                    calculate_training_loss=False, num_threads=threads,
                                    random_state=args.seed)
    model.cg_steps = args.cg_steps  # an attribute in 0.7.x (3 by default), not a parameter
    seconds = []
    cpu0 = time.process_time()
    t3 = time.perf_counter()
    model.fit(user_items, show_progress=False,
              callback=lambda iteration, elapsed, loss: seconds.append(elapsed))
    t4 = time.perf_counter()
    cpu = time.process_time() - cpu0
    nnz = user_items.nnz
    del model, user_items
    return (t1 - t0, t2 - t1, t4 - t3, seconds, cpu, nnz, n_users, n_items)


def main():
    """Loads the data once, then times every configuration."""
    args = parse_args()
    users, items, values = load(args.data)
    for config in args.configs.split(","):
        k, threads = (int(x) for x in config.split(":"))
        for run in range(1, args.runs + 1):
            map_s, csr_s, fit_s, its, cpu, nnz, m, n = run_once(users, items, values, k, threads, args)
            print("\t".join(["implicit", str(k), str(threads), str(run), f"{map_s:.4f}",
                             f"{csr_s:.4f}", f"{fit_s:.4f}", ",".join(f"{s:.4f}" for s in its),
                             f"{cpu:.3f}", str(nnz), str(m), str(n), implicit.__version__]),
                  flush=True)


if __name__ == "__main__":
    main()
