# Copyright 2026 The JAX Authors.
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

"""The generalized eigenproblem eigh(a, b): against SciPy, and its gradient.

Forward: ``jit(jax.scipy.linalg.eigh)(a, b)`` against
``scipy.linalg.eigh(a, b)`` (LAPACK ?sygvd) on a random symmetric ``a`` and
a random symmetric positive definite ``b``, goal: at most 1.3x SciPy.

Reverse: ``jit(grad(lambda a, b: sum(W * V_k V_k^T)))``, V_k the eigenvectors
of the k = n/2 lowest generalized eigenvalues (the density matrix), against
the same loss of a plain ``jnp.linalg.eigh(a)``, goal: at most 1.5x. Both
with jax_patch installed. The column "composed" differentiates the same
reduction through the rules of Cholesky, triangular solves and eigh instead,
the alternative that eigh(a, b)'s own rule was measured against.

Compile times and first calls (which include one-time dispatch work) are
printed too. Steady-state times are the best, over repeats, of blocks of
consecutive calls of one function, the functions taking turns (OpenBLAS
threads spin for a while after a call and slow down whatever runs next).

  python benchmarks/eigh_generalized.py [--sizes 64 256 1024] [--repeats 5]
                                        [--quick]
"""

from __future__ import annotations

import argparse
from functools import partial
import os
import time

from _timing import interleaved_best  # benchmarks/_timing.py
import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg

jax.config.update("jax_enable_x64", True)

import jax_patch  # noqa: E402


class _Ready:
  """Wraps a NumPy result for interleaved_best's block_until_ready()."""

  def __init__(self, x):
    self.x = x

  def block_until_ready(self):
    return self.x


def _inputs(n, dtype, seed=0):
  rng = np.random.default_rng(seed)
  x = rng.standard_normal((n, n))
  a = (x + x.T) / 2
  y = rng.standard_normal((n, n))
  b = y @ y.T / n + np.eye(n)  # Condition number about 5.
  w = rng.standard_normal((n, n))
  return a.astype(dtype), b.astype(dtype), w.astype(dtype)


def _density_loss(eigh):
  def loss(a, b, w):
    _, v = eigh(a, b)
    vk = v[:, :a.shape[-1] // 2]
    return jnp.sum(w * (vk @ vk.T))
  return loss


def _generalized(a, b):
  return jax.scipy.linalg.eigh(a, b)


def _plain(a, b):
  del b
  return jnp.linalg.eigh(a)


def _composed(a, b):
  l = jnp.linalg.cholesky(b)
  solve = partial(jax.lax.linalg.triangular_solve, l, lower=True)
  c = solve(solve(a, left_side=True), transpose_a=True)
  w, u = jnp.linalg.eigh(c)
  return w, solve(u, left_side=True, transpose_a=True)


def _compiled(fun, *args):
  t0 = time.perf_counter()
  compiled = jax.jit(fun).lower(*args).compile()
  t_compile = time.perf_counter() - t0
  t0 = time.perf_counter()
  jax.block_until_ready(compiled(*args))
  return compiled, t_compile, time.perf_counter() - t0


def _load():
  return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--sizes", type=int, nargs="+", default=[64, 256, 1024])
  parser.add_argument("--repeats", type=int, default=5)
  parser.add_argument("--dtype", default="float64")
  parser.add_argument("--quick", action="store_true",
                      help="smoke test: small sizes, 2 repeats")
  args = parser.parse_args()
  if args.quick:
    args.sizes, args.repeats = [16, 64], 2
  jax_patch.install()
  dtype = np.dtype(args.dtype)
  print(f"jax {jax.__version__}, {jax.devices()[0].device_kind}, {dtype}, "
        f"load average {_load()}, best of {args.repeats}")
  print(f"{'n':>5s} | {'scipy ms':>9s} {'jax ms':>9s} {'ratio':>6s} "
        f"{'compile s':>9s} {'1st ms':>8s} | {'eigh grad':>9s} "
        f"{'gen grad':>9s} {'ratio':>6s} {'compile s':>9s} {'1st ms':>8s} "
        f"{'composed':>9s} {'ratio':>6s} | {'max|dw|':>8s}")
  for n in args.sizes:
    a, b, w = _inputs(n, dtype)
    forward, fwd_compile, fwd_first = _compiled(_generalized, a, b)
    plain_grad, _, _ = _compiled(jax.grad(_density_loss(_plain)), a, b, w)
    gen_grad, grad_compile, grad_first = _compiled(
        jax.grad(_density_loss(_generalized), (0, 1)), a, b, w)
    composed_grad, _, _ = _compiled(
        jax.grad(_density_loss(_composed), (0, 1)), a, b, w)
    w_jax = np.asarray(forward(a, b)[0])
    w_scipy = scipy.linalg.eigh(a, b, eigvals_only=True)
    dw = np.max(np.abs(w_jax - w_scipy)) / np.max(np.abs(w_scipy))
    # Blocks of calls of at least ~50 ms, so timer overhead is negligible.
    t0 = time.perf_counter()
    forward(a, b)[1].block_until_ready()
    number = max(1, int(0.05 / max(time.perf_counter() - t0, 1e-6)))
    t = interleaved_best(
        {"scipy": lambda a, b, w: _Ready(scipy.linalg.eigh(a, b)),
         "forward": lambda a, b, w: forward(a, b)[1]},
        (a, b, w), args.repeats, number)
    t0 = time.perf_counter()
    gen_grad(a, b, w)[0].block_until_ready()
    number = max(1, int(0.05 / max(time.perf_counter() - t0, 1e-6)))
    t.update(interleaved_best(
        {"plain_grad": plain_grad,
         "gen_grad": lambda a, b, w: gen_grad(a, b, w)[0],
         "composed_grad": lambda a, b, w: composed_grad(a, b, w)[0]},
        (a, b, w), args.repeats, number))
    print(f"{n:5d} | {t['scipy'] * 1e3:9.3f} {t['forward'] * 1e3:9.3f} "
          f"{t['forward'] / t['scipy']:6.2f} {fwd_compile:9.2f} "
          f"{fwd_first * 1e3:8.2f} | {t['plain_grad'] * 1e3:9.3f} "
          f"{t['gen_grad'] * 1e3:9.3f} "
          f"{t['gen_grad'] / t['plain_grad']:6.2f} {grad_compile:9.2f} "
          f"{grad_first * 1e3:8.2f} {t['composed_grad'] * 1e3:9.3f} "
          f"{t['composed_grad'] / t['plain_grad']:6.2f} | {dw:8.1e}",
          flush=True)
  print(f"load average at end: {_load()}")


if __name__ == "__main__":
  main()
