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

"""Reference derivatives for the fuzz campaign, from the known eigenbasis.

NumPy, mpmath and SciPy only: nothing here imports JAX or jax_patch, so the
references share no code with what they check. Every function takes one
matrix (no batch dimensions), in float64 / complex128.

Conventions. Directions E are Hermitian (the functions checked read the
Hermitian part (A + A^H)/2 of their input). For a real loss L of a complex
matrix, JAX's gradient G satisfies dL = Re sum(G * E) for every E. When
dL = Re sum(Z * E_h) with E_h = (E + E^H)/2, that gives G = (Z + Z^H)/2,
since Re sum(Z * E^H) = Re sum(Z^H * E). All gradients below are this
Hermitian G, checked against the JVPs in test_fuzz.py.
"""

from __future__ import annotations

import functools

import mpmath
import numpy as np
import scipy.linalg

# Digits for divided differences: the closest distinct float64 eigenvalues
# differ in the 16th digit, so (f(x) - f(y)) / (x - y) keeps 24 digits.
_DPS = 40


def hermitian_part(x: np.ndarray) -> np.ndarray:
  return (x + x.conj().T) / 2


def _to_eigenbasis(q, x):
  return q.conj().T @ x @ q


def _from_eigenbasis(q, x):
  return q @ x @ q.conj().T


def _gradient(q, coefficients, w):
  # L = Re sum(W * Q (F o (Q^H E Q)) Q^H) for a coefficient matrix F.
  # sum(W * Q Y Q^H) = sum(Y * Q^T W conj(Q)), sum((F o K) * B) =
  # sum(K * (F o B)) and sum(Q^H E Q * C) = sum(E * conj(Q) C Q^T), so
  # Z = conj(Q) (F o (Q^T W conj(Q))) Q^T.
  b = q.T @ w @ q.conj()
  return hermitian_part(q.conj() @ (coefficients * b) @ q.T)


# Projectors onto unions of whole clusters.
#
# P = sum_{i in occ} q_i q_i^H. First-order perturbation theory,
# dq_i = sum_{j != i} q_j K_ji / (λ_i - λ_j) with K = Q^H E Q, gives
# dP = Q (F o K) Q^H with F_ab = (m_a - m_b) / (λ_a - λ_b), m the 0/1
# occupation: only pairs across the boundary of the occupied set contribute
# (pairs on the same side cancel), so within-cluster gaps never enter and
# this is the exact first derivative of a projector onto whole clusters.

def _projector_coefficients(lam, mask):
  dm = mask[:, None] - mask[None, :]
  dl = lam[:, None] - lam[None, :]
  across = dm != 0
  return np.where(across, dm / np.where(across, dl, 1.0), 0.0)


def projector(q, mask):
  return (q * mask) @ q.conj().T


def projector_tangent(q, lam, mask, e):
  return _from_eigenbasis(
      q, _projector_coefficients(lam, mask) * _to_eigenbasis(q, e))


def projector_gradient(q, lam, mask, w):
  """Gradient of Re sum(W * P)."""
  return _gradient(q, _projector_coefficients(lam, mask), w)


# Eigenvalue sums over whole clusters: d(sum_{i in D} λ_i) = tr(K_DD).

def cluster_sums_tangent(q, cluster, e):
  k = np.real(np.diagonal(_to_eigenbasis(q, e)))
  return np.bincount(cluster, weights=k)


def weighted_eigenvalue_sum_gradient(q, weights):
  """Gradient of sum(c_i λ_i), c constant on each cluster."""
  return hermitian_part(q.conj() @ np.diag(weights) @ q.T)


# Matrix functions: the Daleckii-Krein theorem, Df(A)[E] = Q (G o K) Q^H,
# G_ij = f[λ_i, λ_j], with the divided differences in mpmath.

class ScalarFunction:
  """f and f' in mpmath, for divided differences."""

  def __init__(self, name, f, df):
    self.name, self.f, self.df = name, f, df

  def __repr__(self):
    return f"ScalarFunction({self.name})"


def _power(p):
  return ScalarFunction(f"power({p})", lambda x: x ** p,
                        lambda x: p * x ** (p - 1))


FUNCTIONS = {
    "expm": ScalarFunction("exp", mpmath.exp, mpmath.exp),
    "logm": ScalarFunction("log", mpmath.log, lambda x: 1 / x),
    "sqrtm": ScalarFunction("sqrt", mpmath.sqrt,
                            lambda x: 1 / (2 * mpmath.sqrt(x))),
    "powm": _power(mpmath.mpf(-0.6)),
    "funm_tanh": ScalarFunction("tanh", mpmath.tanh,
                                lambda x: mpmath.sech(x) ** 2),
}
POWM_EXPONENT = -0.6


def divided_differences(func: ScalarFunction, lam: np.ndarray) -> np.ndarray:
  """G_ij = f[λ_i, λ_j] in float64 from 40-digit arithmetic."""
  n = len(lam)
  g = np.empty((n, n))
  with mpmath.workdps(_DPS):
    x = [mpmath.mpf(float(v)) for v in lam]  # exact: float64 -> mpf
    fx = [func.f(v) for v in x]
    for i in range(n):
      for j in range(i, n):
        if x[i] == x[j]:
          d = func.df(x[i])
        else:
          d = (fx[i] - fx[j]) / (x[i] - x[j])
        g[i, j] = g[j, i] = float(d)
  return g


def matrix_function(func: ScalarFunction, q, lam):
  with mpmath.workdps(_DPS):
    f = np.array([float(func.f(mpmath.mpf(float(v)))) for v in lam])
  return _from_eigenbasis(q, np.diag(f))


def frechet_tangent(g, q, e):
  return _from_eigenbasis(q, g * _to_eigenbasis(q, e))


def frechet_gradient(g, q, w):
  """Gradient of Re sum(W * f(A))."""
  return _gradient(q, g, w)


# The stock (nondegenerate) eigh rule, reimplemented on given eigenpairs:
# V' = V (F o K), F_ij = 1 / (w_j - w_i), F_ii = 0, w' = Re diag(K).

def _stock_coefficients(w):
  with np.errstate(divide="ignore"):
    f = 1 / (w[None, :] - w[:, None])
  np.fill_diagonal(f, 0)
  return f


def stock_eigh_tangent(w, v, e):
  k = _to_eigenbasis(v, e)
  return np.real(np.diagonal(k)), v @ (_stock_coefficients(w) * k)


def stock_eigh_gradient(w, v, wv, cw):
  """Gradient of Re sum(Wv * V) + sum(cw * w) under the stock rule.

  sum(Wv * V Y) = sum(Y * V^T Wv), so with Y = F o K and K = V^H E V,
  Z = conj(V) (F o (V^T Wv) + diag(cw)) V^T.
  """
  b = _stock_coefficients(w) * (v.T @ wv) + np.diag(cw)
  return hermitian_part(v.conj() @ b @ v.T)


def projector_gauge_violation(v, w, mask):
  """How much L = Re sum(W * V M V^H), M = diag(mask), depends on the basis
  V to first order: |C - C^H| / max|C|, C = V^T (W + W^H) conj(V) M.

  G = (W + W^H) conj(V) M is the gradient of L in V (dL = Re sum(G * dV)),
  and C = V^T G the cotangent that reverse mode hands to eigh's
  coefficients Y (dV = V Y). Rotating V by exp(t K), K skew-Hermitian with
  K_ij = z, changes L at the rate Re(z (C_ij - conj(C_ji))) (Kasim,
  arXiv:2011.04366, eq. 2.13). The gauge check flags degenerate pairs where
  this exceeds sqrt(eps) max|C|. It is a smooth function on the compact set
  of bases, so every basis-dependent loss has bases where it vanishes.
  """
  c = v.T @ (w + w.conj().T) @ v.conj() * mask[None, :]
  return np.abs(c - c.conj().T) / np.max(np.abs(c))


def degeneracy_tolerance(w, dtype, rtol=None) -> float:
  """The gap below which the eigh rule treats two of the eigenvalues w as
  degenerate, as documented (jax_patch issue 22):

    max(rtol (max w - min w), 16 sqrt(n) eps max|w|),

  eps of `dtype`. The second term (ties) always applies; the first, the
  near-degenerate band, only when jax_linalg_degeneracy_rtol is set: rtol
  None (the default) gives ties only, "sqrt_eps" the square root of eps.
  """
  eps = float(np.finfo(dtype).eps)
  tol = 16 * np.sqrt(len(w)) * eps * np.max(np.abs(w))
  if rtol is not None:
    rtol = np.sqrt(eps) if rtol == "sqrt_eps" else float(rtol)
    tol = max(rtol * (np.max(w) - np.min(w)), tol)
  return float(tol)


# Sylvester equations, from SciPy. scipy.linalg.solve_sylvester (1.17) is
# silently wrong when only `a` is complex and `b` has complex eigenvalues,
# so all three operands are cast to one dtype first.

def _common(*xs):
  dtype = np.result_type(*xs, np.float64)
  return [np.asarray(x, dtype) for x in xs]


def solve_sylvester(a, b, c):
  a, b, c = _common(a, b, c)
  return scipy.linalg.solve_sylvester(a, b, c)


def sylvester_tangent(a, b, x, da, db, dc):
  """A X' + X' B = C' - A' X - X B'."""
  return solve_sylvester(a, b, dc - da @ x - x @ db)


def sylvester_gradient(a, b, x, w, *, hermitian):
  """Gradients (A, B, C) of Re sum(W * X).

  dL = Re sum(W * S^-1(R)) = Re sum(Λ * R), S^T(Λ) = A^T Λ + Λ B^T = W,
  R = C' - A' X - X B', so G_C = Λ, G_A = -Λ X^T, G_B = -X^T Λ. With
  hermitian=True (method="eigh", which reads the Hermitian parts of A and
  B) G_A and G_B are their Hermitian parts.
  """
  lam = solve_sylvester(a.T, b.T, w)
  ga, gb = -lam @ x.T, -x.T @ lam
  if hermitian:
    ga, gb = hermitian_part(ga), hermitian_part(gb)
  return ga, gb, lam


# Finite differences, for checking the oracles above (test_fuzz.py).

def central_difference(f, x, dx, h):
  """Richardson-extrapolated central difference: O(h^4) + O(eps / h)."""
  d = lambda h: (f(x + h * dx) - f(x - h * dx)) / (2 * h)
  return (4 * d(h / 2) - d(h)) / 3


def _tanhm(a):
  # scipy.linalg.tanhm forms sinh from e^A - e^-A and loses digits for
  # small A (3e-10 relative at |A| = 2e-7); f(A) = V tanh(Λ) V^H is smooth
  # in A at repeated eigenvalues too.
  lam, v = np.linalg.eigh(a)
  return (v * np.tanh(lam)) @ v.conj().T


@functools.lru_cache(maxsize=None)
def scipy_matrix_function(name):
  """The SciPy (or NumPy) implementation of each matrix function."""
  return {
      "expm": scipy.linalg.expm,
      "logm": scipy.linalg.logm,
      "sqrtm": scipy.linalg.sqrtm,
      "powm": lambda a: scipy.linalg.fractional_matrix_power(
          a, POWM_EXPONENT),
      "funm_tanh": _tanhm,
  }[name]


# General eigendecompositions A = X diag(λ) X^-1 (the eig group), from the
# known eigenbasis X (complex128; a real A's complex-conjugate pairs have
# complex columns). Directions E are general matrices (real for a real A),
# and gradients G satisfy dL = Re sum(G * E), as above.
#
# The spectral projector onto a set D of eigenvalues is P_D = X M X^-1,
# M = diag(m), m the 0/1 occupation of D. With dX = X Y, Y_ab = K_ab /
# (λ_b - λ_a) for a != b and K = X^-1 E X, d(X^-1) = -Y X^-1 and
# dP_D = X (Y M - M Y) X^-1 (a diagonal of Y, the normalization, commutes
# with M), and (Y M - M Y)_ab = K_ab (m_a - m_b) / (λ_a - λ_b): the
# coefficients of the Hermitian case (_projector_coefficients), with X^-1
# in place of Q^H. Only pairs across the boundary of D contribute, so for D
# a union of whole clusters this is the exact derivative of the projector
# whatever the splitting within the clusters (Kato, Perturbation Theory for
# Linear Operators, II.2), also at exactly repeated semisimple eigenvalues.

def eig_projector_tangent(x, x_inv, lam, mask, e):
  return x @ (_projector_coefficients(lam, mask) * (x_inv @ e @ x)) @ x_inv


def _real_if(z, real):
  # A real input's gradient is the real part of the complex one: for real
  # E, Re sum(Z * E) = sum(Re(Z) * E).
  return np.real(z) if real else z


def eig_projector_gradient(x, x_inv, lam, mask, g, *, real):
  """Gradient of Re sum(G * P_D): dL = Re sum(Z * E) with
  Z = X^-T (F o (X^T G X^-T)) X^T, as in _gradient."""
  b = x.T @ g @ x_inv.T
  return _real_if(x_inv.T @ (_projector_coefficients(lam, mask) * b) @ x.T,
                  real)


def eig_cluster_sums_tangent(x, x_inv, cluster, e):
  """d(sum of the eigenvalues of each cluster) = tr(K_DD)."""
  k = np.diagonal(x_inv @ e @ x)
  return (np.bincount(cluster, weights=k.real)
          + 1j * np.bincount(cluster, weights=k.imag))


def eig_weighted_sum_gradient(x, x_inv, weights, *, real):
  """Gradient of Re sum(c_i λ_i), c constant on each cluster:
  sum_i c_i K_ii = sum(E * (X diag(c) X^-1)^T)."""
  return _real_if(((x * weights) @ x_inv).T, real)


# The stock eig rule (JAX 0.10.2's _eig_vec_jvp), reimplemented on given
# eigenpairs (w, V) with distinct eigenvalues: K = V^-1 E V, w' = diag(K),
# U = V (F o K), F_ij = 1 / (w_j - w_i), F_ii = 0, and V' = U + V diag(c)
# with c_j = -Re(v_j^H u_j) - i Im(u_kj) / Re(v_kj), k = argmax_i |v_ij|
# (LAPACK's normalization: unit 2-norm, largest component real).

def _stock_eig_from_k(w, v, k):
  f = _stock_coefficients(w)   # 1 / (w_j - w_i), 0 on the diagonal
  dw = np.diagonal(k, axis1=-2, axis2=-1)
  u = v @ (f * k)
  top = np.argmax(np.abs(v), axis=0)
  cols = np.arange(len(w))
  c = (-np.real(np.sum(np.conj(v) * u, axis=-2))
       - 1j * np.imag(u[..., top, cols]) / np.real(v[top, cols]))
  return dw, u + v * c[..., None, :]


def stock_eig_tangent(w, v, e):
  return _stock_eig_from_k(w, v, np.linalg.solve(v, e) @ v)


def stock_eig_gradient(w, v, wv, cw, *, real):
  """Gradient of Re sum(Wv * V) + Re sum(cw * w) under the stock rule, from
  the tangent map applied to every basis direction E = e_ij (and i e_ij for
  a complex input): G_ij = L(e_ij) - i L(i e_ij)."""
  n = len(w)
  v_inv = np.linalg.inv(v)
  # K for E = e_ij: column i of V^-1 times row j of V, for all (i, j).
  k = np.einsum("ai,jb->ijab", v_inv, v).reshape(n * n, n, n)
  def loss(k):
    dw, dv = _stock_eig_from_k(w, v, k)
    return np.real(np.einsum("ab,kab->k", wv, dv) + dw @ cw)
  g = loss(k).reshape(n, n)
  return g if real else g - 1j * loss(1j * k).reshape(n, n)


def eig_degeneracy_tolerance(a, w, v, dtype, rtol=None) -> np.ndarray:
  """The gap below which the patched eig rule treats each pair (i, j) of the
  eigenvalues w of `a` (eigenvectors v) as degenerate, as documented:

    max(16 sqrt(n) eps max|w|, max(r_i, r_j), rtol max|w_i - w_j|),
    r_i = min(2 sqrt(n) eps |A|_F kappa_i, eps^(1/3) |A|_F),

  kappa_i = |v_i| |row i of V^-1|, eps of `dtype`; the last term only with
  jax_linalg_degeneracy_rtol set (rtol "sqrt_eps": sqrt(eps)).
  """
  n = len(w)
  eps = float(np.finfo(dtype).eps)
  kappa = np.linalg.norm(v, axis=0) * np.linalg.norm(np.linalg.inv(v),
                                                      axis=1)
  d = np.abs(w[:, None] - w[None, :])
  a_norm = np.linalg.norm(a)
  r = np.minimum(2 * np.sqrt(n) * eps * a_norm * kappa,
                 eps ** (1 / 3) * a_norm)
  tol = np.maximum(16 * np.sqrt(n) * eps * np.max(np.abs(w)),
                   np.maximum(r[:, None], r[None, :]))
  if rtol is not None:
    rtol = np.sqrt(eps) if rtol == "sqrt_eps" else float(rtol)
    tol = np.maximum(tol, rtol * np.max(d))
  return tol
