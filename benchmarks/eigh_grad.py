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

"""Reverse-mode cost of the degenerate-aware eigh JVP against the stock rule.

Times ``jit(grad(lambda a: sum(W * V_k V_k^T)))``, V_k the eigenvectors of
the k = n/2 lowest eigenvalues of a random (non-degenerate) symmetric
matrix, compiled ahead of time twice in one process: with the stock eigh JVP
rule (before ``jax_patch.install()``) and with the patched one (after; the
rule is read at trace time, so both executables stay valid). The two are
timed interleaved and the best of several repeats is reported, with the
ratio patched/stock (goal: at most 1.02).

  python benchmarks/eigh_grad.py [--sizes 64 256 1024] [--batch 512]
                                 [--batch-n 64] [--repeats 7] [--quick]
"""

from __future__ import annotations

from _timing import compare_grad_with_stock  # benchmarks/_timing.py
import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)


def _loss(a, w):
  k = a.shape[-1] // 2
  _, v = jnp.linalg.eigh(a)
  vk = v[..., :, :k]
  return jnp.sum(w * (vk @ jnp.swapaxes(vk, -1, -2)))


def _inputs(shape, dtype, seed=0):
  rng = np.random.default_rng(seed)
  x = rng.standard_normal(shape)
  a = (x + np.swapaxes(x, -1, -2)) / 2
  w = rng.standard_normal(shape)
  return a.astype(dtype), w.astype(dtype)


if __name__ == "__main__":
  compare_grad_with_stock(__doc__, _loss, _inputs)
