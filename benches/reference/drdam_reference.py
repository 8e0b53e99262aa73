"""Side-by-side reference for DrDAM [DrDAM] (issue 5): the published formulas
of Hoover et al. (2024) in JAX, jitted, f32, as the authors' code computes
them: a batch of queries, features from one matrix product, energy and
gradient by autodiff.

Not run in CI (needs `pip install "jax[cpu]"`). Usage:

    python3 benches/reference/drdam_reference.py            # timing + error table

Prints the seconds for one energy-and-gradient pass over 500 queries at
D = 100, Y = 10^4, K = 500 (median and minimum of 5 after warm-up, wall
clock, and the median CPU time of all the process's threads), and the mean
absolute energy error against the exact log-sum-exp memory at beta = 10 for
Y in {2000, 40000}, on binary patterns in {0, 1/sqrt(D)} with queries near
the stored patterns (10% of bits flipped), as in the paper's Figure 3.
"""
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np


def features(x, s, beta):
    """phi(x) = Y^-1/2 [cos(sqrt(beta) S x); sin(sqrt(beta) S x)], batched."""
    h = jnp.sqrt(beta) * x @ s.T
    y = s.shape[0]
    return jnp.concatenate([jnp.cos(h), jnp.sin(h)], axis=-1) / jnp.sqrt(y)


def drdam_energy(x, s, t, beta, eps=1e-30):
    return -jnp.log(jnp.maximum(features(x, s, beta) @ t, eps)) / beta


def exact_energy(x, xi, beta):
    d2 = jnp.sum((x[None, :] - xi) ** 2, axis=-1)
    return -jax.scipy.special.logsumexp(-beta / 2 * d2) / beta


def make_patterns(rng, k, d):
    return (rng.integers(0, 2, size=(k, d)) / np.sqrt(d)).astype(np.float32)


def flip(rng, patterns, frac=0.1):
    d = patterns.shape[1]
    mask = rng.random(patterns.shape) < frac
    return np.where(mask, 1 / np.sqrt(d) - patterns, patterns).astype(np.float32)


def main():
    rng = np.random.default_rng(0)
    d, y, k, b, beta = 100, 10_000, 500, 500, 10.0
    xi = make_patterns(rng, k, d)
    s = rng.standard_normal((y, d)).astype(np.float32)
    t = features(jnp.asarray(xi), jnp.asarray(s), beta).sum(axis=0)
    q = jnp.asarray(flip(rng, xi[:b]))
    e_and_g = jax.jit(jax.vmap(jax.value_and_grad(drdam_energy), in_axes=(0, None, None, None)))
    e_and_g(q, s, t, beta)[0].block_until_ready()
    times, cpu = [], []
    for _ in range(5):
        t0, c0 = time.perf_counter(), time.process_time()
        e, g = e_and_g(q, s, t, beta)
        g.block_until_ready()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    print(f"energy+gradient, D={d} Y={y} K={k} B={b}: {statistics.median(times):.4f} s (median of 5, "
          f"min {min(times):.4f} s; CPU time of all threads: median {statistics.median(cpu):.4f} s)")

    exact = jax.jit(jax.vmap(exact_energy, in_axes=(0, None, None)))
    energy = jax.jit(jax.vmap(drdam_energy, in_axes=(0, None, None, None)))
    q_small = jnp.asarray(flip(rng, xi[:100]))
    ref = exact(q_small, jnp.asarray(xi), beta)
    for ys in (2000, 40000):
        s2 = rng.standard_normal((ys, d)).astype(np.float32)
        t2 = features(jnp.asarray(xi), jnp.asarray(s2), beta).sum(axis=0)
        err = jnp.mean(jnp.abs(energy(q_small, s2, t2, beta) - ref))
        print(f"beta={beta} Y={ys}: mean |E_drdam - E_exact| = {float(err):.3e}")


if __name__ == "__main__":
    main()
