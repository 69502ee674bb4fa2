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

"""Reverse-mode cost of the degenerate-aware eig JVP against the stock rule.

Times ``jit(grad(lambda a: re sum(W * V) + re sum(diag(W) * w)))``, w and V
the eigenvalues and right eigenvectors from
``jax.lax.linalg.eig(a, compute_left_eigenvectors=False,
enable_eigvec_derivs=True)`` of a random non-symmetric matrix (distinct
eigenvalues, complex-conjugate pairs for real input), compiled ahead of time
twice in one process: with the stock eig JVP rule (before
``jax_patch.install()``) and with the patched one (after; the rule is read
at trace time, so both executables stay valid). The two are timed
interleaved, in blocks of consecutive calls, and the best of several repeats
is reported with the ratio patched/stock (goal: at most 1.05), as well as
the time to compile and the first call of each. On a loaded machine, time
single-threaded CPU time instead of wall time:

  python benchmarks/eig_grad.py [--sizes 64 256] [--batch 128]
                                [--batch-n 32] [--repeats 7]
                                [--dtypes float64 complex128 float32]
                                [--clock cpu] [--quick]

  OPENBLAS_NUM_THREADS=1 XLA_FLAGS="--xla_cpu_multi_thread_eigen=false \
    intra_op_parallelism_threads=1" taskset -c 1 \
    python benchmarks/eig_grad.py --clock cpu
"""

from __future__ import annotations

from _timing import compare_grad_with_stock  # benchmarks/_timing.py
import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)


def _loss(a, w):
  lam, v = jax.lax.linalg.eig(a, compute_left_eigenvectors=False,
                              enable_eigvec_derivs=True)
  return (jnp.real(jnp.sum(w * v))
          + jnp.real(jnp.sum(jnp.diagonal(w, axis1=-2, axis2=-1) * lam)))


def _inputs(shape, dtype, seed=0):
  rng = np.random.default_rng(seed)
  draw = lambda: rng.standard_normal(shape)
  if np.issubdtype(dtype, np.complexfloating):
    return ((draw() + 1j * draw()).astype(dtype),
            (draw() + 1j * draw()).astype(dtype))
  return draw().astype(dtype), draw().astype(dtype)


if __name__ == "__main__":
  compare_grad_with_stock(__doc__, _loss, _inputs, sizes=[64, 256],
                          batch=128, batch_n=32,
                          dtypes=["float64", "complex128", "float32"])
