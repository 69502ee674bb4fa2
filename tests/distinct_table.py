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

"""The distinct-eigenvalue derivative table in docs/design.md (issue 22).

Well-defined derivatives of one eigenvector of a simple eigenvalue whose
neighbour is close but distinct, float64, in one process: the reference from
perturbation theory in the exact eigenbasis, stock JAX (measured, before
install()), jax_patch with defaults and with the near-degenerate band
(jax_linalg_degeneracy_rtol="sqrt_eps"). Relative errors in parentheses.

  python3 tests/distinct_table.py
"""

import jax
import jax.numpy as jnp
import numpy as np

import jax_patch

jax.config.update("jax_enable_x64", True)


def _eigenvector_derivative(q, w, k, e):
  kk = q.T @ e @ q
  others = np.arange(len(w)) != k
  return q[:, others] @ (kk[others, k] / (w[k] - w[others]))


def _case_eigenvector(w, k, seed):
  rng = np.random.default_rng(seed)
  n = len(w)
  q, _ = np.linalg.qr(rng.standard_normal((n, n)))
  a = (q * w) @ q.T
  e = rng.standard_normal((n, n))
  e = e + e.T
  weights = rng.standard_normal((n, n))
  def loss(x):
    _, v = jnp.linalg.eigh(x)
    return jnp.sum(weights * jnp.outer(v[:, k], v[:, k]))
  dq = _eigenvector_derivative(q, w, k, e)
  exact = np.sum(weights * (np.outer(dq, q[:, k]) + np.outer(q[:, k], dq)))
  return loss, a, e, exact


def _case_multivariate_normal(seed):
  rng = np.random.default_rng(seed)
  lam = np.array([1., 1. + 1e-9, 2.])
  q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
  cov = (q * lam) @ q.T
  cov = (cov + cov.T) / 2
  wvec = rng.standard_normal(3)
  key = jax.random.key(0)
  def loss(c):
    x = jax.random.multivariate_normal(key, jnp.zeros(3), c, method="eigh")
    return jnp.dot(wvec, x) ** 2
  _, v = jnp.linalg.eigh(cov)
  q = q * np.sign(np.sum(q * np.asarray(v), axis=0))
  x = np.asarray(jax.random.multivariate_normal(key, jnp.zeros(3), cov,
                                                method="eigh"))
  z = (x @ q) / np.sqrt(lam)
  e = rng.standard_normal((3, 3))
  e = e + e.T
  dq = np.stack([_eigenvector_derivative(q, lam, i, e) for i in range(3)], 1)
  dlam = np.diag(q.T @ e @ q)
  x = q @ (np.sqrt(lam) * z)
  dx = dq @ (np.sqrt(lam) * z) + q @ (dlam / (2 * np.sqrt(lam)) * z)
  return loss, cov, e, 2 * np.dot(wvec, x) * np.dot(wvec, dx)


CASES = (
    ("sum(W * v0 v0^T), eigenvalues (0, 1e-9, 1)",
     lambda: _case_eigenvector(np.array([0., 1e-9, 1.]), 0, 0)),
    ("same, n = 5, gap 1e-10",
     lambda: _case_eigenvector(np.array([0., 1e-10, .3, .6, 1.]), 1, 1)),
    ("eigenvalues (1e3, 1e3 + 3e-6, 2e3)",
     lambda: _case_eigenvector(np.array([1e3, 1e3 + 3e-6, 2e3]), 0, 2)),
    ("multivariate_normal(method='eigh'), covariance eigenvalues "
     "(1, 1 + 1e-9, 2), d (w.x)^2", lambda: _case_multivariate_normal(3)),
)


def _grad_dot(loss, a, e):
  return float(np.sum(jax.grad(loss)(a) * e))


def main():
  rows = []
  for name, make in CASES:
    loss, a, e, exact = make()
    rows.append([name, exact, _grad_dot(loss, a, e)])
  with jax_patch.patched():
    for row, (_, make) in zip(rows, CASES):
      loss, a, e, _ = make()
      row.append(_grad_dot(loss, a, e))
      with jax_patch.linalg_degeneracy_rtol("sqrt_eps"):
        row.append(_grad_dot(loss, a, e))
  print(f"jax {jax.__version__}, float64, grad . E")
  print("| case | reference | stock | jax_patch (default) | with the band "
        "(sqrt_eps) |")
  print("|---|---|---|---|---|")
  for name, exact, *values in rows:
    cells = [f"{v:.6e} ({abs(v - exact) / abs(exact):.1e})" for v in values]
    print(f"| {name} | {exact:.6e} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
  main()
