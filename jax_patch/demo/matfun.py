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

"""Stock JAX against jax_patch for functions of Hermitian matrices (issue 4).

  python -m jax_patch.demo.matfun

Every number is computed when this runs.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jax_patch.lax.linalg import expm_hermitian, sqrtm_hermitian

TITLE = "Hermitian matrix functions (eigh's rule cannot give f')"


def _naive_expm(a):
  w, v = jnp.linalg.eigh(a)
  return (v * jnp.exp(w)) @ v.T


def _first_line(err: BaseException) -> str:
  return f"{type(err).__name__}: {str(err).strip().splitlines()[0]}"


def run(out=print):
  with jax.enable_x64(True):
    _run(out)


def _run(out):
  a = jnp.eye(3)
  out("d/dA sum(expm(A)) at A = I3; the right answer is e * ones "
      f"(e = {np.e:.6f}).")
  stock = jax.grad(lambda a: jnp.sum(jax.scipy.linalg.expm(a)))(a)
  naive = jax.grad(lambda a: jnp.sum(_naive_expm(a)))(a)
  fixed = jax.grad(lambda a: jnp.sum(expm_hermitian(a)))(a)
  rows = [("jax.scipy.linalg.expm (Pade)", stock),
          ("V e^L V^T via stock eigh", naive),
          ("expm_hermitian", fixed)]
  for name, g in rows:
    out(f"  {name:<30} {np.array2string(np.asarray(g[0]), precision=6)}"
        f"  (first row; max |g - e| = {np.max(np.abs(g - np.e)):.1e})")

  rng = np.random.default_rng(0)
  x = rng.standard_normal((3, 3))
  b = x @ x.T + np.eye(3)
  e = (lambda y: (y + y.T) / 2)(rng.standard_normal((3, 3)))
  out("\nDirectional derivative of sqrtm at a random SPD B along a "
      "symmetric E:")
  try:
    jax.jvp(jax.scipy.linalg.sqrtm, (b,), (e,))
    out("  jax.scipy.linalg.sqrtm          differentiable (unexpected)")
  except Exception as err:  # noqa: BLE001 -- whatever stock JAX raises.
    out(f"  jax.scipy.linalg.sqrtm          {_first_line(err)}")
  d = jax.jvp(sqrtm_hermitian, (b,), (e,))[1]
  h = 1e-5
  fd = (sqrtm_hermitian(b + h * e) - sqrtm_hermitian(b - h * e)) / (2 * h)
  out(f"  sqrtm_hermitian (jvp)           {np.asarray(d[0]).round(8)}"
      " (first row)")
  out(f"  central differences, h = {h:.0e}  {np.asarray(fd[0]).round(8)}"
      f"  (max diff {np.max(np.abs(d - fd)):.1e})")
  g = jax.grad(lambda b: jnp.sum(sqrtm_hermitian(b)))(b)
  fd_sum = (jnp.sum(sqrtm_hermitian(b + h * e))
            - jnp.sum(sqrtm_hermitian(b - h * e))) / (2 * h)
  out(f"  <grad sum(sqrtm_hermitian(B)), E> = {float(jnp.sum(g * e)):.10f}, "
      f"central differences {float(fd_sum):.10f}")


if __name__ == "__main__":
  run()
