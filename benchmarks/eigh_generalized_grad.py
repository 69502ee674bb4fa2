# Copyright 2026 The jax_patch Authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     https://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""eigh(a, b)'s gradient: its derivative rule against the plain composition.

PR 06 differentiates eigh(a, b) through its steps (Cholesky, triangular
solves, eigh: ``_eigh_generalized_reduce``); PR 07 gives it a rule of its
own (``_eigh_generalized_core``). This times ``jit(grad)`` of the density
matrix loss ``sum(W * V_k V_k^H)``, V_k the eigenvectors of the k = n/2
lowest generalized eigenvalues, through each, in one process, and a plain
``jnp.linalg.eigh(a)`` gradient of the same loss for scale; all with
jax_patch installed. Steady-state times are the best, over repeats, of
blocks of consecutive calls of one function, the functions taking turns
(benchmarks/_timing.py); compile and first-call times are printed too, and
the largest difference between the two gradients.

Pin it to one core, so that other processes disturb it less and the
ratios do not depend on how threads are scheduled:

  taskset -c 0 env OMP_NUM_THREADS=1 \\
      python benchmarks/eigh_generalized_grad.py [--sizes 64 128 256 512]
      [--types 1 2 3] [--repeats 7] [--quick]
"""

from __future__ import annotations

import argparse
import os
import time

from _timing import interleaved_best  # benchmarks/_timing.py
import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

import jax_patch  # noqa: E402
from jax_patch._src.lax import linalg as lax_linalg  # noqa: E402
from jax_patch._src.scipy import linalg as scipy_linalg  # noqa: E402


def _inputs(n, dtype, seed=0):
  rng = np.random.default_rng(seed)
  x = rng.standard_normal((n, n))
  y = rng.standard_normal((n, n))
  b = y @ y.T / n + np.eye(n)  # Condition number about 5.
  return ((x + x.T) / 2).astype(dtype), b.astype(dtype), rng.standard_normal(
      (n, n)).astype(dtype)


def _density_loss(eigh):
  def loss(a, b, w):
    v = eigh(a, b)[:, :a.shape[-1] // 2]
    return jnp.real(jnp.sum(w * (v @ jnp.conj(v.T))))
  return loss


def _generalized(core, itype):
  """eigh(a, b)'s eigenvectors, as _eigh_generalized computes them."""
  def eigh(a, b):
    a, b = lax_linalg.symmetrize(a), lax_linalg.symmetrize(b)
    _, z, x = core(itype, True, a, b)
    return x if itype == 3 else z
  return eigh


def _compiled(fun, *args):
  grad = jax.jit(jax.grad(fun, (0, 1)))
  t0 = time.perf_counter()
  compiled = grad.lower(*args).compile()
  t_compile = time.perf_counter() - t0
  t0 = time.perf_counter()
  jax.block_until_ready(compiled(*args))
  return compiled, t_compile, time.perf_counter() - t0


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--sizes", type=int, nargs="+",
                      default=[64, 128, 256, 512])
  parser.add_argument("--types", type=int, nargs="+", default=[1])
  parser.add_argument("--repeats", type=int, default=7)
  parser.add_argument("--dtype", default="float64")
  parser.add_argument("--quick", action="store_true",
                      help="smoke test: small sizes, 2 repeats")
  args = parser.parse_args()
  if args.quick:
    args.sizes, args.repeats = [16, 32], 2
  jax_patch.install()
  dtype = np.dtype(args.dtype)
  cpus = (sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
          else "?")
  print(f"jax {jax.__version__}, {jax.devices()[0].device_kind}, {dtype}, "
        f"CPUs {cpus}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, "
        f"best of {args.repeats} blocks")
  print(f"{'type':>4s} {'n':>5s} | {'eigh ms':>9s} {'plain ms':>9s} "
        f"{'rule ms':>9s} | {'plain/eigh':>10s} {'rule/eigh':>9s} "
        f"{'rule/plain':>10s} | {'compile s':>9s} {'plain':>6s} "
        f"{'1st ms':>8s} {'plain':>8s} | {'max diff':>8s}")
  for itype in args.types:
    for n in args.sizes:
      a, b, w = _inputs(n, dtype)
      eigh_grad, _, _ = _compiled(
          _density_loss(lambda a, b: jnp.linalg.eigh(a)[1]), a, b, w)
      plain, plain_compile, plain_first = _compiled(_density_loss(
          _generalized(scipy_linalg._eigh_generalized_reduce, itype)), a, b, w)
      rule, rule_compile, rule_first = _compiled(_density_loss(
          _generalized(scipy_linalg._eigh_generalized_core, itype)), a, b, w)
      diff = max(float(np.max(np.abs(x - y)) / np.max(np.abs(y)))
                 for x, y in zip(rule(a, b, w), plain(a, b, w)))
      # Blocks of calls of at least ~50 ms, so timer overhead is negligible.
      t0 = time.perf_counter()
      jax.block_until_ready(rule(a, b, w))
      number = max(1, int(0.05 / max(time.perf_counter() - t0, 1e-6)))
      t = interleaved_best(
          {"eigh": lambda a, b, w: eigh_grad(a, b, w)[0],
           "plain": lambda a, b, w: plain(a, b, w)[0],
           "rule": lambda a, b, w: rule(a, b, w)[0]},
          (a, b, w), args.repeats, number)
      print(f"{itype:4d} {n:5d} | {t['eigh'] * 1e3:9.3f} "
            f"{t['plain'] * 1e3:9.3f} {t['rule'] * 1e3:9.3f} | "
            f"{t['plain'] / t['eigh']:10.2f} {t['rule'] / t['eigh']:9.2f} "
            f"{t['rule'] / t['plain']:10.2f} | {rule_compile:9.2f} "
            f"{plain_compile:6.2f} {rule_first * 1e3:8.2f} "
            f"{plain_first * 1e3:8.2f} | {diff:8.1e}", flush=True)
  print("load average at end: "
        + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
  main()
