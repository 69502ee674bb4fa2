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

# This module mirrors jax/_src/lax/linalg.py. It holds only what the upstream
# patch adds or replaces there; ci/make_patches.py merges it into that file.

from __future__ import annotations

from functools import partial
import math

import numpy as np

from jax._src import ad_util
from jax._src import checkify
from jax._src import config
from jax._src import core
from jax._src import dtypes
from jax._src.interpreters import ad
from jax._src.interpreters import batching
from jax._src.interpreters import mlir
from jax._src.lax import lax
from jax._src.lax.lax import _complex, _float
import jax.numpy as jnp
# cholesky, eigh, schur, symmetrize and triangular_solve are re-exported:
# upstream they are names of this module, which jax_patch/_src/scipy/linalg.py
# and jax_patch/_src/lax/hermitian_funm.py use.
from jax._src.lax.linalg import (  # noqa: F401
    _H, _T, _broadcast_to, _extract_diagonal, _solve, _triu, cholesky,
    cholesky_p, eig, eigh, eigh_p, schur, standard_linalg_primitive, svd_p,
    symmetrize, triangular_solve)


# Primitive registration helper functions

def _internal_primitive(name, impl, abstract_eval, jvp_rule, transpose_rule,
                        *, multiple_results=False):
  # A primitive that a JVP rule binds, linear in its trailing operands,
  # whose operands share their leading batch dimensions: lowered through its
  # implementation.
  prim = core.Primitive(name)
  prim.multiple_results = multiple_results
  prim.def_impl(impl)
  prim.def_abstract_eval(abstract_eval)
  ad.primitive_jvps[prim] = jvp_rule
  ad.primitive_transposes[prim] = transpose_rule
  batching.primitive_batchers[prim] = partial(
      batching.expand_dims_batcher, prim)
  mlir.register_lowering(prim, mlir.lower_fun(
      impl, multiple_results=multiple_results))
  return prim


# Symmetric/Hermitian eigendecomposition

def _degeneracy_rtol(dtype):
  # The near-degenerate band of jax_linalg_degeneracy_rtol as a number, or
  # None (ties only; see _sylvester_singular_pivots).
  rtol = config.linalg_degeneracy_rtol.value
  if rtol == "sqrt_eps":
    return math.sqrt(float(np.finfo(dtype).eps))
  return None if rtol is None else float(rtol)

def _eigh_solve(w, k):
  # Y with Y Λ - Λ Y = K: Y_ij = K_ij / (w_j - w_i), and 0 on the diagonal
  # and on the pairs of eigenvalues that count as degenerate.
  w = w.astype(k.dtype)
  return sylvester_solve_p.bind(-w, w, k, rtol=_degeneracy_rtol(w.dtype))

def _gauge_non_hermitian(c, where, scale):
  # The entries of `where` at which |c - c^H| > sqrt(eps) scale: the gauge
  # checks' test of a cotangent (see _eigh_gauge_violations).
  eps = float(np.finfo(scale.dtype).eps)
  return where & (abs(c - _H(c)) > float(np.sqrt(eps)) * scale)

def _eigh_degenerate_mask(w):
  # The pairs (i, j), i != j, that the eigh JVP treats as degenerate: the
  # singular pivots w_j - w_i of its Sylvester equation (_eigh_solve, see
  # _sylvester_singular_pivots).
  n = w.shape[-1]
  _, singular = _sylvester_singular_pivots(-w, w, _degeneracy_rtol(w.dtype))
  return singular & _broadcast_to(~lax._eye(np.bool_, (n, n)),
                                  singular.shape)

class GaugeDependenceError(ValueError):
  """A gradient depends on the arbitrary basis of a degenerate eigenspace.

  Raised by reverse-mode ``eigh`` and ``svd`` derivatives under
  ``jax_linalg_gauge_check='raise'`` when the backward pass runs on concrete
  values (outside ``jit``); see ``jax_linalg_gauge_check``.
  """

_EIGH_GAUGE_ERROR = (
    "eigh: the gradient of this loss depends on the arbitrary basis chosen "
    "for the eigenvectors of a repeated (or, within "
    "jax_linalg_degeneracy_rtol, nearly repeated) eigenvalue, or on their "
    "complex phases, so it is ill-defined at this point.")
_EIGH_GAUGE_ADVICE = (
    "Write the loss through projectors onto whole clusters and symmetric "
    "functions of each cluster's eigenvalues, or use "
    "jax_linalg_gauge_check='nan' for NaN instead.")

def _gauge_check_fail(bad, first, advice, items, first_fmt, first_args):
  # Reports the violations of jax_linalg_gauge_check='raise': `bad` is a
  # mask, `first` the sentence that says what is wrong, `advice` what to do.
  # On concrete values (the transpose rule runs eagerly: grad outside jit)
  # it raises GaugeDependenceError here, naming the offending pairs,
  # `items()`. Under a trace it stages checkify.check, with `first_fmt`
  # formatted from the traced `first_args` at run time: checkify.checkify
  # functionalizes it (err.throw() raises it), and without checkify its
  # lowering fails at compile time with JAX's request to use checkify (in
  # JAX 0.10.2, unless jax_xla_runtime_errors is set, when it raises from a
  # host callback).
  if not isinstance(bad, core.Tracer):
    if not np.any(bad):
      return
    shown = items()
    more = f" and {len(shown) - 3} more" if len(shown) > 3 else ""
    raise GaugeDependenceError(
        f"{first} Offending: {'; '.join(shown[:3])}{more}. {advice}")
  checkify.check(~lax.reduce_or(bad, axes=tuple(range(bad.ndim))),
                 f"{first} {first_fmt}. {advice}", *first_args)

def _gauge_first_offending(mask, values):
  # For the staged message: the number of pairs i <= j that mask [..., k, k]
  # flags, and the first one's (i, j) with values[i] and values[j] (-1 if
  # none).
  k = mask.shape[-1]
  flat = jnp.triu(mask | jnp.swapaxes(mask, -1, -2)).reshape(-1)
  idx = jnp.argmax(flat)
  b, i, j = idx // (k * k), idx // k % k, idx % k
  values = values.reshape(-1, k)
  none = ~flat[idx]
  i, j = (jnp.where(none, -1, x) for x in (i, j))
  return [jnp.sum(flat), i, j, values[b, i], values[b, j]]

def _eigh_gauge_check_abstract_eval(w, w_dot, y, **_):
  return [w_dot, y]

def _eigh_gauge_check_jvp_rule(primals, tangents, **params):
  w = primals[0]
  out = _eigh_gauge_check_p.bind(*primals, **params)
  if all(type(t) is ad_util.Zero for t in tangents[1:]):
    return out, list(tangents[1:])
  return out, _eigh_gauge_check_p.bind(
      w, *map(ad.instantiate_zeros, tangents[1:]), **params)

def _eigh_gauge_violations(w, ct_w, ct):
  # Reverse mode sees ct = V^T V̄ = conj(V^H G), G the gradient of the loss
  # with respect to V. The loss is invariant under V -> V exp(K), K
  # skew-Hermitian within a degenerate cluster, iff V^H G is Hermitian there
  # (Kasim, arXiv:2011.04366, eq. 2.13). On the diagonal this asks for a real
  # V^H G: the phase gauge of complex eigenvectors (PyTorch checks the same
  # in linalg_eig_backward). A violation above sqrt(eps) times the
  # cotangent's scale means the loss depends on the arbitrary basis. This is
  # a first-order test at the basis eigh returned: a basis-dependent loss
  # that happens to be stationary there to within sqrt(eps) (measured: 4 of
  # 3,592 random float32 cases, none in float64 or complex dtypes) passes.
  #
  # The eigenvalues of a cluster D have one well-defined tangent only as a
  # whole, tr K_DD; each λ̇_i = K_ii, i in D, depends on the basis (rotating
  # it by Q gives diag(Q^H K_DD Q)). So the eigenvalue cotangent λ̄ is basis
  # free iff it is constant on D, e.g. not for E = 2 sum(λ[:6]) when λ_5 =
  # λ_6 (a half-filled degenerate shell). Unequal entries, above sqrt(eps)
  # times max |λ̄|, are flagged as the pairs (i, j) of D where they differ.
  # Returns the two [..., n, n] masks.
  n = w.shape[-1]
  degenerate = _eigh_degenerate_mask(w)
  eye = _broadcast_to(lax._eye(np.bool_, (n, n)), degenerate.shape)
  vectors = lax.full_like(degenerate, False)
  if ct is not None:
    ct_scale = lax.reduce_max(abs(ct), axes=(ct.ndim - 2, ct.ndim - 1))
    vectors = _gauge_non_hermitian(ct, degenerate | eye, ct_scale[..., None, None])
  values = lax.full_like(degenerate, False)
  if ct_w is not None:
    values = _gauge_unequal(ct_w, degenerate)
  return vectors, values

def _gauge_unequal(ct, where):
  # The pairs (i, j) of `where` at which |ct_i - ct_j| > sqrt(eps) max |ct|.
  eps = float(np.finfo(ct.dtype).eps)
  scale = lax.reduce_max(abs(ct), axes=(ct.ndim - 1,))[..., None, None]
  return where & (abs(ct[..., :, None] - ct[..., None, :])
                  > float(np.sqrt(eps)) * scale)

def _eigh_gauge_items(vectors, values, w):
  vectors, values, w = map(np.asarray, (vectors, values, w))
  shown = []
  for b in np.ndindex(w.shape[:-1]):
    where = f"batch index {b}: " if b else ""
    for i, j in np.argwhere(np.triu(vectors[b] | vectors[b].T)):
      shown.append(
          f"{where}the phase of eigenvector {i} (eigenvalue {w[b][i]:.6g})"
          if i == j else
          f"{where}eigenvectors {i} and {j} (eigenvalues {w[b][i]:.6g} and "
          f"{w[b][j]:.6g})")
    for i, j in np.argwhere(np.triu(values[b] | values[b].T)):
      shown.append(f"{where}eigenvalues {i} and {j} ({w[b][i]:.6g} and "
                   f"{w[b][j]:.6g}) weighted differently")
  return shown

def _eigh_gauge_check_transpose_rule(cts, w, w_dot, y, *, mode):
  assert ad.is_undefined_primal(y) and ad.is_undefined_primal(w_dot)
  ct_w, ct = (None if type(c) is ad_util.Zero else c for c in cts)
  if ct_w is None and ct is None:
    return [None, *cts]
  vectors, values = _eigh_gauge_violations(w, ct_w, ct)
  if mode == "nan":
    # Through the eigh JVP's transpose, 0 * NaN keeps these entries NaN.
    if ct is not None:
      ct = lax.select(vectors, lax.full_like(ct, np.nan), ct)
    if ct_w is not None:
      flat = lax.reduce_or(values, axes=(values.ndim - 1,))
      ct_w = lax.select(flat, lax.full_like(ct_w, np.nan), ct_w)
  elif mode == "raise":
    bad = vectors | values
    _gauge_check_fail(
        bad, _EIGH_GAUGE_ERROR, _EIGH_GAUGE_ADVICE,
        lambda: _eigh_gauge_items(vectors, values, w),
        "{} pair(s) (i, j) of eigenvalues, the first ({}, {}): {} and {} "
        "(i = j: a complex phase)",
        _gauge_first_offending(bad, w))
  return [None, cts[0] if ct_w is None else ct_w,
          cts[1] if ct is None else ct]

# The identity on the eigenvalue tangent Λ̇ and the eigenvector coefficients
# Y of dV = V Y, whose transpose checks the cotangents for gauge dependence
# (jax_linalg_gauge_check).
_eigh_gauge_check_p = _internal_primitive(
    "eigh_gauge_check", lambda w, w_dot, y, **_: [w_dot, y],
    _eigh_gauge_check_abstract_eval, _eigh_gauge_check_jvp_rule,
    _eigh_gauge_check_transpose_rule, multiple_results=True)


def _eigh_coupling_abstract_eval(a, v, w, y, **_):
  return y

def _eigh_coupling_tangent(a_dot, v, w, y, *, transpose):
  # The tangent of N Y - Y N (transpose=False: then solved with S⁺), or of
  # N^T Z - Z N^T with Z = S⁺(Y) (transpose=True), in the direction Ȧ.
  dot = partial(lax.dot if v.ndim == 2 else lax.batch_matmul,
                precision=lax.Precision.HIGHEST)
  n_dot = dot(dot(_H(v), a_dot), v)
  n_dot = lax.select(_eigh_degenerate_mask(w), n_dot, lax.full_like(n_dot, 0))
  if transpose:
    n_dot, y = _T(n_dot), _eigh_solve(w, y)
  out = dot(n_dot, y) - dot(y, n_dot)
  return out if transpose else _eigh_solve(w, out)

def _eigh_coupling_jvp_rule(primals, tangents, **params):
  a, v, w, y = primals
  a_dot, _, _, y_dot = tangents
  # Tangents of v and w only enter through terms proportional to N, which is
  # zero at the primal point.
  out = _eigh_coupling_p.bind(a, v, w, y, **params)
  out_dot = y_dot
  if type(y_dot) is not ad_util.Zero:
    out_dot = _eigh_coupling_p.bind(a, v, w, y_dot, **params)
  if type(a_dot) is not ad_util.Zero:
    out_dot = ad.add_tangents(
        out_dot, _eigh_coupling_tangent(a_dot, v, w, y, **params))
  return out, out_dot

def _eigh_coupling_transpose_rule(ct, a, v, w, y, *, transpose):
  assert ad.is_undefined_primal(y)
  if type(ct) is ad_util.Zero:
    return [None, None, None, ct]
  return [None, None, None, _eigh_coupling_p.bind(
      a, v, w, ct, transpose=not transpose)]

# Degenerate perturbation theory, to second order. Within a degenerate
# cluster D the eigenvalue tangent is the whole block K_DD = V_D^H Ȧ V_D, not
# just its diagonal: Y solves M Y - Y M = -K with M the cluster-block-diagonal
# part of V^H A V, which is Λ at the primal point but whose tangent has the
# off-diagonal part N' = K_DD - diag(K_DD). Expanding to first order in
# N = M - Λ, Y = F(Y_0) = Y_0 + S⁺(N Y_0 - Y_0 N) with Y_0 = S⁺(K). N
# vanishes at the primal point, so this primitive's value F(Y_0) is Y_0: it
# is the identity, and costs nothing to first order. Its tangent
# S⁺(N' Y_0 - Y_0 N') makes second derivatives of losses that depend on
# whole degenerate eigenspaces (projectors) exact under perturbations that
# split a cluster. F is linear in y; its transpose Y + N^T S⁺(Y) - S⁺(Y) N^T
# is transpose=True. It has to stay in first-order jaxprs: a jaxpr does not
# know whether it will be differentiated again (jax.hessian of a jitted
# function differentiates the jaxpr of its first derivative). Under jit it
# compiles to nothing; outside jit, jax.vjp keeps its operand a as one more
# residual.
_eigh_coupling_p = _internal_primitive(
    "eigh_degenerate_coupling", lambda a, v, w, y, **_: y,
    _eigh_coupling_abstract_eval, _eigh_coupling_jvp_rule,
    _eigh_coupling_transpose_rule)


def _eigh_jvp_rule(
    primals, tangents, *, lower, sort_eigenvalues, subset_by_index, algorithm
):
  (a,) = primals
  n = a.shape[-1]
  if not (subset_by_index is None or subset_by_index == (0, n)):
    raise NotImplementedError(
        "Derivatives not defined for partial eigen decomposition."
    )
  # With A = V Λ V^H and K = V^H Ȧ V, first-order perturbation theory gives
  #   Λ̇ = Re diag(K),  V̇ = V Y,  Y_ij = K_ij / (λ_j - λ_i)  (i != j),
  # see https://people.maths.ox.ac.uk/gilesm/files/NA-08-01.pdf: Y solves the
  # Sylvester equation Y Λ - Λ Y = K, whose factors are the eigenvalues.
  # Pairs of eigenvalues that agree to working precision (see
  # _sylvester_singular_pivots) get Y_ij = 0 (the pseudo-inverse), which is
  # the derivative of V_D V_D^H, the projector onto each degenerate
  # eigenspace D, and of any loss that depends on the eigenvectors only
  # through such projectors, and the exact derivative for perturbations that
  # do not split a degenerate cluster (Kasim, arXiv:2011.04366, eqs. 2.8 and
  # 2.13-2.15; JAX issues #669 and #4646); there the stock rule divides by
  # rounding noise. Every other pair gets the stock coefficient. The rule is
  # linear in Ȧ, so reverse mode is its transpose.
  a_dot, = tangents

  v, w_real = eigh_p.bind(
      symmetrize(a),
      lower=lower,
      sort_eigenvalues=sort_eigenvalues,
      subset_by_index=subset_by_index,
      algorithm=algorithm,
  )

  # eigh impl doesn't support batch dims, but future-proof the grad.
  dot = partial(lax.dot if a.ndim == 2 else lax.batch_matmul,
                precision=lax.Precision.HIGHEST)
  vdag_adot_v = dot(dot(_H(v), a_dot), v)
  y = _eigh_solve(w_real, vdag_adot_v)
  y = _eigh_coupling_p.bind(a, v, w_real, y, transpose=False)
  dw = _extract_diagonal(vdag_adot_v.real)
  mode = config.linalg_gauge_check.value
  if mode != "ignore":
    dw, y = _eigh_gauge_check_p.bind(w_real, dw, y, mode=mode)
  dv = dot(v, y)
  return (v, w_real), (dv, dw)


# Singular value decomposition

def _svd_solve(s, h, w):
  # X_ij = H_ij / (s_j - s_i) and Y_ij = W_ij / (s_i + s_j) (see
  # _svd_jvp_rule), as one Sylvester equation with the diagonal factors -s
  # and (s, -s): its pivots s_j - s_i and -(s_i + s_j) are gaps between the
  # eigenvalues ±s_i of the Hermitian dilation [[0, A], [A^H, 0]], so that
  # the pivots that count as singular are those of eigh's rule on the
  # dilation, with its spread 2 max(s) and magnitude max(s).
  k = s.shape[-1]
  s = s.astype(h.dtype)
  xy = sylvester_solve_p.bind(
      -s, lax.concatenate([s, -s], s.ndim - 1),
      lax.concatenate([h, -w], h.ndim - 1), rtol=_degeneracy_rtol(s.dtype))
  return xy[..., :k], xy[..., k:]

def _svd_complement_solve(s, r):
  # C = R S^-1, with 0 for the singular values that count as zero: the
  # Sylvester equation 0 C + C S = R, whose pivots s_j are the gaps between
  # s_j and the zero eigenvalues of the dilation (its largest pivot, the
  # scale of the band, is max(s)).
  s = s.astype(r.dtype)
  # Batched (and sharded, under explicit sharding) as r.
  zero = lax.full((*r.shape[:-1], 1), 0, r.dtype,
                  sharding=core.typeof(r).sharding)[..., 0]
  return sylvester_solve_p.bind(zero, s, r, rtol=_degeneracy_rtol(s.dtype))

def _svd_degenerate_masks(s, m, n):
  # The pivots that _svd_solve and _svd_complement_solve treat as singular:
  # the masks of the pairs s_j - s_i (with the diagonal), of the pairs
  # s_i + s_j, and of the singular values s_i that count as zero. NaN gives
  # no degenerate pairs.
  k = s.shape[-1]
  rtol = _degeneracy_rtol(s.dtype)
  _, singular = _sylvester_singular_pivots(
      -s, lax.concatenate([s, -s], s.ndim - 1), rtol)
  zeros = lax.full_like(s, 0, shape=(*s.shape[:-1], max(m, n)))
  _, zero = _sylvester_singular_pivots(zeros, s, rtol)
  return singular[..., :k], singular[..., k:], zero[..., 0, :]

def _svd_rotations(k, s, phase):
  # Ω_U = X + Y and Ω_V = X - Y with X = S⁻(H) + P, Y = S⁺(W), H and W the
  # Hermitian and skew-Hermitian parts of k, S⁻ and S⁺ the solves of
  # _svd_solve, and P = phase diag(Y) the joint phase gauge (see
  # _svd_jvp_rule).
  h, w = (k + _H(k)) / 2, (k - _H(k)) / 2
  x, y = _svd_solve(s, h, w)
  if not dtypes.issubdtype(k.dtype, np.complexfloating):
    return x + y, x - y
  n = k.shape[-1]
  eye = _broadcast_to(lax._eye(np.bool_, (n, n)), k.shape)
  p = lax.select(eye, phase * y, lax.full_like(y, 0))
  return x + y + p, x - y + p

def _svd_tangents(a, a_dot, s, u, v, *, phase):
  # The JVP of A = U S V^H for m >= n: returns ṡ, U̇ and V̇ (see
  # _svd_jvp_rule). With phase = 1, V̇ has no phase part; with phase = -1,
  # U̇ (for A^H = V S U^H).
  m, n = u.shape[-2], v.shape[-1]
  rotations = partial(_svd_rotations, s=s, phase=phase)
  av = a_dot @ v
  k = _H(u) @ av
  ds = _extract_diagonal(k.real)
  omega_u, omega_v = rotations(k)
  c = None
  if m > n:
    c = _svd_complement_solve(s, av)
    c = c - u @ (_H(u) @ c)
  omega_u, omega_v, c = _svd_coupling(a, u, v, s, omega_u, omega_v, c,
                                      phase=phase)
  du = u @ omega_u
  dv = v @ omega_v
  if m > n:
    du = du + c
  return ds, du, dv

def _svd_complement_tangent(x, dx):
  # For the full [..., p, p] U (or V) of full_matrices, whose first k
  # columns X_1 have the tangent dx: the complement X_2 turns with X_1,
  # X^H X = I gives X_1^H Ẋ_2 = -Ẋ_1^H X_2, and its rotation within itself
  # is a gauge, set to zero: Ẋ_2 = -X_1 Ẋ_1^H X_2.
  k = dx.shape[-1]
  x1, x2 = x[..., :k], x[..., k:]
  return lax.concatenate([dx, -x1 @ (_H(dx) @ x2)], dx.ndim - 1)


def _svd_rotations_transpose(ct_u, ct_v, s, phase):
  # The transpose of (Ω_U, Ω_V) = _svd_rotations(k) under JAX's pairing
  # (sum(ct * x), conj transposing to conj): S⁻ and S⁺ are elementwise, so
  # their own transposes, and taking the Hermitian (skew-Hermitian) part is
  # its own transpose.
  ct_x, ct_y = ct_u + ct_v, ct_u - ct_v
  if dtypes.issubdtype(ct_u.dtype, np.complexfloating):
    n = ct_u.shape[-1]
    eye = _broadcast_to(lax._eye(np.bool_, (n, n)), ct_u.shape)
    ct_y = ct_y + lax.select(eye, phase * ct_x, lax.full_like(ct_x, 0))
  x, y = _svd_solve(s, ct_x, ct_y)
  return (x + _H(x)) / 2 + (y - _H(y)) / 2

def _svd_coupling_abstract_eval(a, u, v, s, *ys, **_):
  return list(ys)

@config.default_matmul_precision("float32")
def _svd_coupling_tangent(a_dot, u, v, s, ys, *, transpose, phase):
  # The tangent of the coupling in the direction Ȧ. With Ṅ and Ṙ the parts
  # of U^H Ȧ V and (I - U U^H) Ȧ V in the degenerate blocks,
  #   δK = Ṅ Ω_V - Ω_U Ṅ + C^H Ṙ,  δ(ȦV) = Ṙ Ω_V - C Ṅ,
  # solved as K and ȦV are: (δΩ_U, δΩ_V) = _svd_rotations(δK) and
  # δC = _svd_complement_solve(δ(ȦV)); or the transpose of that map (under
  # JAX's pairing sum(ct * x)).
  m, n = u.shape[-2], v.shape[-1]
  diff, plus, zero = _svd_degenerate_masks(s, m, n)
  av = a_dot @ v
  k = _H(u) @ av
  k_diag = _broadcast_to(lax._eye(np.bool_, (n, n)), k.shape)
  n_dot = (lax.select(diff & ~k_diag, (k + _H(k)) / 2, lax.full_like(k, 0))
           + lax.select(plus, (k - _H(k)) / 2, lax.full_like(k, 0)))
  r_dot = None
  if m > n:
    r_dot = av - u @ k
    r_dot = lax.select(_broadcast_to(zero[..., None, :], r_dot.shape), r_dot,
                       lax.full_like(r_dot, 0))
  if not transpose:
    omega_u, omega_v, *c = ys
    dk = n_dot @ omega_v - omega_u @ n_dot
    if r_dot is None:
      return [*_svd_rotations(dk, s, phase)]
    c, = c
    return [*_svd_rotations(dk + _H(c) @ r_dot, s, phase),
            _svd_complement_solve(s, r_dot @ omega_v - c @ n_dot)]
  ct_k = _svd_rotations_transpose(ys[0], ys[1], s, phase)
  ct_omega_u, ct_omega_v = -ct_k @ _T(n_dot), _T(n_dot) @ ct_k
  if r_dot is None:
    return [ct_omega_u, ct_omega_v]
  ct_av = _svd_complement_solve(s, ys[2])
  return [ct_omega_u, ct_omega_v + _T(r_dot) @ ct_av,
          r_dot.conj() @ _H(ct_k) - ct_av @ _T(n_dot)]

def _svd_coupling_jvp_rule(primals, tangents, **params):
  a, u, v, s, *ys = primals
  a_dot, _, _, _, *ys_dot = tangents
  # Tangents of u, v and s only enter through terms proportional to N, which
  # is zero at the primal point.
  out = _svd_coupling_p.bind(*primals, **params)
  out_dot = []
  if any(type(t) is not ad_util.Zero for t in ys_dot):
    out_dot.append(_svd_coupling_p.bind(
        a, u, v, s, *map(ad.instantiate_zeros, ys_dot), **params))
  if type(a_dot) is not ad_util.Zero:
    out_dot.append(_svd_coupling_tangent(a_dot, u, v, s, ys, **params))
  if not out_dot:
    return out, [ad_util.Zero.from_primal_value(x) for x in out]
  return out, [sum(x) for x in zip(*out_dot)]

def _svd_coupling_transpose_rule(cts, a, u, v, s, *ys, transpose, phase):
  # An operand that is not an undefined primal is a tangent instantiated as
  # zeros (see the JVP rule): it gets no cotangent.
  linear = [ad.is_undefined_primal(y) for y in ys]
  if all(type(ct) is ad_util.Zero for ct in cts):
    return [None] * 4 + [ad_util.Zero(y.aval) if l else None
                         for y, l in zip(ys, linear)]
  out = _svd_coupling_p.bind(
      a, u, v, s, *map(ad.instantiate_zeros, cts), transpose=not transpose,
      phase=phase)
  return [None] * 4 + [x if l else None for x, l in zip(out, linear)]

# Degenerate perturbation theory for the SVD, to second order (compare
# _eigh_coupling_p). Near a point with degenerate clusters, A = U_f M V^H
# with U_f = [U, U_2] moving smoothly and M block diagonal: S + N on the
# clusters, N Hermitian within a cluster of equal nonzero singular values
# and arbitrary on the null spaces, where M also has a block N_2 against the
# complement U_2. N vanishes at the primal point. Its terms in
# U_f^H Ȧ V = Ω_f M + Ṁ - M Ω_V change, to first order in N, the K and
# (I - U U^H) Ȧ V that the rule solves with by
#   δK = N Ω_V - Ω_U N + C^H R,  δ(ȦV) = R Ω_V - C N,
# where C = U_2 Ω_21 is the complement term and R = U_2 N_2, and so
# (Ω_U, Ω_V, C) by the solves of δK and δ(ȦV). This primitive maps
# (Ω_U, Ω_V, C) to themselves plus that correction, which is zero at the
# primal point: its value is the identity, and costs nothing to first
# order. Its tangent, with N's tangent Ṅ (K's off-diagonal Hermitian part
# on pairs of equal singular values, and its skew-Hermitian part on pairs
# of zero ones) and Ṙ ((I - U U^H) Ȧ V on the columns of zero singular
# values), makes second derivatives of cluster-invariant losses (the polar
# factor, projectors onto singular subspaces at a gap) exact under
# perturbations that split a cluster. It is linear in (Ω_U, Ω_V, C); its
# transpose is transpose=True.
_svd_coupling_p = _internal_primitive(
    "svd_degenerate_coupling", lambda a, u, v, s, *ys, **_: list(ys),
    _svd_coupling_abstract_eval, _svd_coupling_jvp_rule,
    _svd_coupling_transpose_rule, multiple_results=True)

def _svd_coupling(a, u, v, s, omega_u, omega_v, c, *, phase):
  # _svd_coupling_p on Ω_U, Ω_V and C (None for m <= n).
  ys = (omega_u, omega_v) if c is None else (omega_u, omega_v, c)
  out = _svd_coupling_p.bind(a, u, v, s, *ys, transpose=False, phase=phase)
  return (*out, None) if c is None else tuple(out)



_SVD_GAUGE_ERROR = (
    "svd: the gradient of this loss depends on the arbitrary basis chosen "
    "for the singular vectors of a repeated (or, within "
    "jax_linalg_degeneracy_rtol, nearly repeated) or zero singular value, "
    "or on their complex phases, so it is ill-defined at this point.")
_SVD_GAUGE_ADVICE = (
    "Write the loss through singular-subspace projectors, the polar factor "
    "U V^H and symmetric functions of each cluster's singular values that "
    "are smooth at zero (sum(s**2), not sum(s)), or use "
    "jax_linalg_gauge_check='nan' for NaN instead.")

def _svd_gauge_check_abstract_eval(s, u, v, s_dot, *uv_dot, **_):
  return [s_dot, *uv_dot]

def _svd_gauge_check_jvp_rule(primals, tangents, **params):
  s, u, v = primals[:3]
  out = _svd_gauge_check_p.bind(*primals, **params)
  if all(type(t) is ad_util.Zero for t in tangents[3:]):
    return out, list(tangents[3:])
  return out, _svd_gauge_check_p.bind(
      s, u, v, *map(ad.instantiate_zeros, tangents[3:]), **params)

@config.default_matmul_precision("float32")
def _svd_gauge_violations(s, u, v, ct_s, ct_u, ct_v):
  # Reverse mode sees the cotangents Ū and V̄ of U and V (V̄ is the conjugate
  # transpose of V^H's); let c_U = U^T Ū and c_V = V^T V̄. The loss is
  # invariant under U -> U exp(Ω), V -> V exp(Ω), Ω skew-Hermitian within a
  # cluster of equal nonzero singular values (diagonal: the joint phase),
  # iff c_U + c_V is Hermitian there; under independent rotations of the
  # left and right null spaces (the vectors of zero singular values and the
  # columns of a full U or V beyond min(m, n)) iff c_U and c_V are each
  # Hermitian there; and under turning the vectors of zero singular values
  # into the complement of a reduced U or V iff the complement part of their
  # cotangent, (I - U U^H)^T Ū, vanishes. (Kasim, arXiv:2011.04366, eq.
  # 2.13, on the Hermitian dilation; PyTorch's svd_backward checks the same
  # joint phase condition.)
  #
  # The singular-value cotangent s̄: as for eigh's eigenvalues, ṡ_i = Re K_ii
  # depends on the basis within a cluster D of equal singular values, so s̄
  # must be constant on D; and at a zero singular value ṡ_i = |K_ii| is not
  # even linear (the SVD's sign of u_i v_i^H is arbitrary): the loss must
  # have s̄_i = 0 there. sum(s), the nuclear norm, at a rank-deficient
  # matrix has s̄_i = 1 (its subgradient U V^H includes the arbitrary
  # u_i v_i^H); sum(s**2) has s̄_i = 2 s_i = 0. Both are tested above
  # sqrt(eps) max |s̄|.
  #
  # Returns the offending pairs of singular values (i = j: a joint phase),
  # the offending zero singular values (rotated into the complement, or
  # weighted) and, per batch element, whether the loss depends on the basis
  # of the complement itself.
  (m, p_u), (n, p_v), k = u.shape[-2:], v.shape[-2:], s.shape[-1]
  diff, _, zero = _svd_degenerate_masks(s, m, n)
  pairs = lax.full_like(diff, False)
  null = lax.full_like(zero, False)
  complement = lax.full_like(s[..., 0], False, dtype=np.bool_)
  if ct_s is not None:
    eps = float(np.finfo(ct_s.dtype).eps)
    pairs = _gauge_unequal(ct_s, diff)
    null = zero & (abs(ct_s) > float(np.sqrt(eps)) * lax.reduce_max(
        abs(ct_s), axes=(ct_s.ndim - 1,))[..., None])
  if ct_u is None:
    return pairs, null, complement
  axes = (ct_u.ndim - 2, ct_u.ndim - 1)
  scale = lax.max(lax.reduce_max(abs(ct_u), axes=axes),
                  lax.reduce_max(abs(ct_v), axes=axes))[..., None, None]
  c_u, c_v = _T(u) @ ct_u, _T(v) @ ct_v
  pairs = pairs | _gauge_non_hermitian(c_u[..., :k, :k] + c_v[..., :k, :k], diff,
                                 scale)
  for x, c, ct, p in ((u, c_u, ct_u, p_u), (v, c_v, ct_v, p_v)):
    null_space = lax.concatenate(
        [zero, lax.full((*zero.shape[:-1], p - k), True)], zero.ndim - 1)
    bad = _gauge_non_hermitian(c, null_space[..., :, None] & null_space[..., None, :],
                         scale)
    pairs = pairs | bad[..., :k, :k]
    null = null | lax.reduce_or(bad[..., :k, k:], axes=(bad.ndim - 1,))
    complement = complement | lax.reduce_or(bad[..., k:, k:], axes=axes)
    if x.shape[-2] > p:  # Reduced U or V of a non-square matrix.
      r = abs(ct - x.conj() @ c)
      far = lax.reduce_max(r, axes=(r.ndim - 2,)) > float(
          np.sqrt(np.finfo(scale.dtype).eps)) * scale[..., 0, :]
      null = null | (zero & far)
  return pairs, null, complement

def _svd_gauge_items(pairs, null, complement, s):
  pairs, null, complement, s = map(np.asarray, (pairs, null, complement, s))
  shown = []
  for b in np.ndindex(s.shape[:-1]):
    where = f"batch index {b}: " if b else ""
    for i, j in np.argwhere(np.triu(pairs[b] | pairs[b].T)):
      shown.append(
          f"{where}singular value {i} ({s[b][i]:.6g}; the joint phase of its "
          "singular vectors)" if i == j else
          f"{where}singular values {i} and {j} ({s[b][i]:.6g} and "
          f"{s[b][j]:.6g})")
    for i in np.flatnonzero(null[b]):
      shown.append(f"{where}zero singular value {i} ({s[b][i]:.3g})")
    if complement[b]:
      shown.append(f"{where}the basis of the null-space complement (columns "
                   "of a full U or V beyond min(m, n))")
  return shown

def _svd_gauge_check_transpose_rule(cts, s, u, v, *tangents, mode):
  assert all(map(ad.is_undefined_primal, tangents))
  if all(type(ct) is ad_util.Zero for ct in cts):
    return [None, None, None, *cts]
  ct_s = None if type(cts[0]) is ad_util.Zero else cts[0]
  ct_u = ct_v = None
  if len(cts) > 1 and any(type(ct) is not ad_util.Zero for ct in cts[1:]):
    ct_u, ct_v = map(ad.instantiate_zeros, cts[1:])
  pairs, null, complement = _svd_gauge_violations(s, u, v, ct_s, ct_u, ct_v)
  if mode == "nan":
    # NaN in the whole cotangent of the affected batch elements.
    bad = (lax.reduce_or(pairs, axes=(pairs.ndim - 2, pairs.ndim - 1))
           | lax.reduce_or(null, axes=(null.ndim - 1,)) | complement)
    cts = [ct if type(ct) is ad_util.Zero else lax.select(
               lax.broadcast_in_dim(bad, ct.shape, tuple(range(bad.ndim))),
               lax.full_like(ct, np.nan), ct)
           for ct in cts]
  elif mode == "raise":
    k = s.shape[-1]
    eye = _broadcast_to(lax._eye(np.bool_, (k, k)), pairs.shape)
    # A zero singular value shows as the pair (i, i); the complement's basis
    # only in the count.
    flagged = pairs | (eye & null[..., None, :])
    count, *first = _gauge_first_offending(flagged, s)
    _gauge_check_fail(
        flagged | complement[..., None, None], _SVD_GAUGE_ERROR,
        _SVD_GAUGE_ADVICE,
        lambda: _svd_gauge_items(pairs, null, complement, s),
        "{} pair(s) (i, j) of singular values, the first ({}, {}): {} and {} "
        "(i = j: a joint phase or a zero singular value); the complement of a "
        "full U or V: {}",
        [count, *first, lax.reduce_or(complement, axes=tuple(
            range(complement.ndim)))])
  return [None, None, None, *cts]

# The identity on the tangents (ṡ[, U̇, V̇]) of the SVD JVP, whose transpose
# checks the cotangents for gauge dependence (jax_linalg_gauge_check).
_svd_gauge_check_p = _internal_primitive(
    "svd_gauge_check", lambda s, u, v, *tangents, **_: list(tangents),
    _svd_gauge_check_abstract_eval, _svd_gauge_check_jvp_rule,
    _svd_gauge_check_transpose_rule, multiple_results=True)


@config.default_matmul_precision("float32")
def _svd_jvp_rule(
    primals, tangents, *, full_matrices, compute_uv, subset_by_index,
    algorithm=None,
):
  a, = primals
  a_dot, = tangents
  m, n = a.shape[-2:]
  if compute_uv and not (subset_by_index is None or
                         subset_by_index == (0, core.min_dim(m, n))):
    raise NotImplementedError(
        "Singular vector derivatives not defined for a partial singular "
        "value decomposition.")
  full_matrices = (compute_uv and full_matrices and
                   not core.definitely_equal(m, n))
  s, u, vt = svd_p.bind(
      a, full_matrices=full_matrices, compute_uv=True,
      subset_by_index=subset_by_index, algorithm=algorithm,
  )
  mode = config.linalg_gauge_check.value
  if not compute_uv:
    # ṡ = Re diag(U^H Ȧ V).
    ds = (u.conj() * (a_dot @ _H(vt))).real.sum(-2)
    if mode != "ignore":
      ds, = _svd_gauge_check_p.bind(s, u, _H(vt), ds, mode=mode)
    return (s,), (ds,)

  # With A = U S V^H (U: m x k, V: n x k, k = min(m, n)) and K = U^H Ȧ V,
  # write U̇ = U Ω_U + C and V̇ = V Ω_V with Ω_U, Ω_V skew-Hermitian and C in
  # the orthogonal complement of U (for m > n; for m < n the same rule runs
  # on A^H = V S U^H). Differentiating A = U S V^H gives
  #   K = Ω_U S + Ṡ - S Ω_V,  (I - U U^H) Ȧ V = C S,
  # so ṡ = Re diag(K), C = (I - U U^H) Ȧ V S^-1 and, with H and W the
  # Hermitian and skew-Hermitian parts of K, X = (Ω_U + Ω_V) / 2 and
  # Y = (Ω_U - Ω_V) / 2,
  #   H_ij = X_ij (s_j - s_i),  W_ij = Y_ij (s_j + s_i):
  # two diagonal Sylvester equations, instead of one with the pivots
  # s_j^2 - s_i^2, which loses accuracy and mixes them (Giles, NA-08-01;
  # Townsend, "Differentiating the singular value decomposition", 2016;
  # PyTorch's linalg_svd_jvp). diag(X) is the joint phase of (u_i, v_i), a
  # gauge for complex A; as the stock rule, X_ii = Y_ii, so V̇ has no phase
  # part and U̇'s is i Im(K_ii) / s_i.
  #
  # Degenerate pairs. ±s_i and |m - n| zeros are the eigenvalues of the
  # Hermitian dilation [[0, A], [A^H, 0]], with eigenvectors (u_i, ±v_i)/√2
  # and the complements, and s_j - s_i, s_j + s_i and s_i are gaps between
  # them: X, Y and C are the eigh rule's coefficients for those pairs.
  # They solve Sylvester equations with diagonal factors on
  # sylvester_solve_p, X and Y together (_svd_solve: factors -s and
  # (s, -s), whose largest pivot is the dilation's spread 2 max(s)) and C
  # on its own (_svd_complement_solve: factors 0 and s, largest pivot
  # max(s)), so the primitive's pivot policy applies: ties at working
  # precision relative to max(s), and with jax_linalg_degeneracy_rtol = tau
  # also the band tau * 2 max(s) for X and Y and tau * max(s) for C. A
  # pivot that counts as singular gets the pseudo-inverse's zero. Each zeroed
  # component is a gauge direction of the SVD: X within a cluster D of equal
  # nonzero singular values is the joint rotation U_D -> U_D Q, V_D -> V_D Q
  # (Y there is not a gauge: Y_DD = W_DD / 2s is kept); X and Y between zero
  # singular values are independent rotations of the two null spaces, and
  # C of a zero singular value turns its vector into the complement. A loss
  # invariant under these (projectors onto singular subspaces at a gap, the
  # polar factor U V^H, symmetric functions of the singular values) has a
  # zero derivative along them, so the rule is exact for it whatever it
  # puts there, and exact for any loss under perturbations that keep the
  # clusters (Kasim, arXiv:2011.04366, for eigh; JAX issues #2311 and #8732;
  # Liao et al., PRX 9, 031041; Francuz, Schuch and Vanhecke, PRR 7,
  # 013237). Above the tolerance the coefficients are the stock rule's;
  # for cluster-invariant losses their rounding error is the eigh rule's,
  # about eps * 2 max(s) / gap, which the band bounds by about eps / tau.
  # Not exact in directions that split a cluster: losses
  # that weigh a cluster's vectors by a non-constant function of s,
  # U f(S) V^H with f' != 0 there (U_k S_k V_k^H, V S^+ U^H), whose
  # derivative on the cluster block is f'(s) K_DD; with a diagonal ṡ no
  # rule linear in Ȧ gives its off-diagonal Hermitian part (write these
  # with projectors, P_U A P_V, or use jnp.linalg.pinv). The rule is linear
  # in Ȧ, so reverse mode is its transpose.
  v = _H(vt)
  if m >= n:
    u1 = u[..., :n] if full_matrices else u
    ds, du, dv = _svd_tangents(a, a_dot, s, u1, v, phase=1)
  else:
    v1 = v[..., :m] if full_matrices else v
    ds, dv, du = _svd_tangents(_H(a), _H(a_dot), s, v1, u, phase=-1)
  if full_matrices:
    du, dv = ((_svd_complement_tangent(u, du), dv) if m > n else
              (du, _svd_complement_tangent(v, dv)))
  if mode != "ignore":
    ds, du, dv = _svd_gauge_check_p.bind(s, u, v, ds, du, dv, mode=mode)
  return (s, u, vt), (ds, du, _H(dv))


# General eigendecomposition

def _eig_inv(v):
  # V^-1, by the LU solve that differentiates (_solve).
  eye = _broadcast_to(lax._eye(v.dtype, v.shape[-2:]), v.shape)
  return _solve(v, eye)

def _eig_condition_numbers(v, inv_v):
  # kappa_i = ||v_i|| ||(V^-1)_i||, the condition number of eigenvalue i.
  return lax.sqrt((abs(inv_v) ** 2).sum(-1) * (abs(v) ** 2).sum(-2))

_EIG_TIES = 2  # See _eig_degenerate_mask.

def _eig_degenerate_mask(a, w, kappa):
  # The pairs (i, j), i != j, of eigenvalues of a general matrix that the eig
  # JVP treats as degenerate: those that sylvester_solve_p treats as singular
  # pivots w_j - w_i (ties, and jax_linalg_degeneracy_rtol's band), and the
  # pairs closer than the rounding error of a non-normal matrix's
  # eigenvalues,
  #
  #   |w_i - w_j| <= max(r_i, r_j),
  #   r_i = min(2 sqrt(n) eps ||A||_F kappa_i, eps^(1/3) ||A||_F),
  #
  # kappa_i = ||v_i|| ||(V^-1)_i|| the condition number of w_i (Wilkinson;
  # Golub & Van Loan, sec. 7.2.2). A backward-stable eigensolver returns the
  # eigenvalues of A + E with ||E|| of order eps ||A||, which moves a simple
  # eigenvalue by up to kappa_i ||E||: an eigenvalue repeated exactly (and
  # semisimple) comes back split by about that much, far more than the
  # eigenvalue-relative tolerance of eigh for a non-normal A. Measured with
  # jax.lax.linalg.eig (LAPACK ?geev) on X diag(w) X^-1 rounded to the dtype,
  # w with a cluster of multiplicity 2 to n / 2 + 1 (repeated real,
  # repeated complex, and repeated complex-conjugate pairs of a real A),
  # cond(X) from 1 to 1e3, n from 3 to 64, float32/64, complex64/128 (about
  # 4,800 matrices): the largest split was 1.4 sqrt(n) eps ||A||_F
  # max(kappa_i, kappa_j), and up to 38 with min(kappa_i, kappa_j) (one
  # member of a cluster can come back far better conditioned than the
  # other); 2 leaves a margin of 1.4. The radius is the eigenvalues'
  # uncertainty at working precision, not a guess at the input's structure:
  # a pair of distinct eigenvalues closer than it (an exactly triangular
  # [[1, 2000], [0, 2]] in float32, whose eigenvalues come out exact only
  # because it is triangular) is tied too, like eigh's diag(1, 1 + 2 eps, 3);
  # a larger margin would tie more of them. A defective eigenvalue (a
  # Jordan block of size k) moves by eps^(1/k) ||A||, not kappa eps ||A||:
  # its computed kappa is of order eps^(1/k - 1), or larger where its
  # eigenvectors come back parallel. The cap eps^(1/3) ||A||_F keeps its
  # pairs within a block of size up to 3 degenerate without tying it to
  # eigenvalues far away (a rigid-body mode at 0 tied a mode pair at 2.45i
  # without it). Pairs further apart keep the stock coefficient
  # 1 / (w_j - w_i). The relation is not closed under transitivity: an
  # ill-conditioned eigenvalue can tie to two neighbours that are not tied
  # to each other.
  n = w.shape[-1]
  _, singular = _sylvester_singular_pivots(-w, w, _degeneracy_rtol(w.dtype))
  eps = float(np.finfo(w.dtype).eps)
  a_norm = lax.sqrt((abs(a) ** 2).sum((-2, -1)))[..., None]
  radius = lax.min(_EIG_TIES * math.sqrt(n) * eps * a_norm * kappa,
                   eps ** (1 / 3) * a_norm)
  tol = lax.max(radius[..., :, None], radius[..., None, :])
  d = abs(w[..., None, :] - w[..., :, None])
  eye = _broadcast_to(lax._eye(np.bool_, (n, n)), singular.shape)
  return (singular | (d <= tol)) & ~eye

def _eig_defective(kappa):
  # The batch members, [...], with an eigenvalue whose condition number
  # kappa_i exceeds eps^(-3/4): numerically defective. Derivatives through
  # V and V^-1 carry a rounding error of about eps kappa^2 (a projector of
  # size 1 is a sum of terms of size kappa that cancel), so above that they
  # are noise, and where LAPACK returns parallel eigenvectors for a Jordan
  # block (kappa about 1 / eps) V does not span its invariant subspace at
  # all. A Jordan block of size k perturbed by rounding has kappa of order
  # eps^(1/k - 1), below the bound for k <= 3.
  eps = float(np.finfo(kappa.dtype).eps)
  return ~(lax.reduce_max(kappa, axes=(kappa.ndim - 1,)) <= eps ** -0.75)

def _eig_gauge_check_abstract_eval(w, degenerate, w_dot, y, **_):
  return [w_dot, y]

def _eig_gauge_check_jvp_rule(primals, tangents, **params):
  w, degenerate = primals[:2]
  out = _eig_gauge_check_p.bind(*primals, **params)
  if all(type(t) is ad_util.Zero for t in tangents[2:]):
    return out, list(tangents[2:])
  return out, _eig_gauge_check_p.bind(
      w, degenerate, *map(ad.instantiate_zeros, tangents[2:]), **params)

_EIG_GAUGE_ERROR = (
    "eig: this gradient depends on the basis chosen for the eigenvectors of "
    "a repeated (or, within jax_linalg_degeneracy_rtol, nearly repeated) "
    "eigenvalue, or weighs the copies of such an eigenvalue differently: "
    "the rule's value for it is not a derivative.")
_EIG_GAUGE_ADVICE = (
    "Losses through the spectral projectors V[:, D] inv(V)[D, :] of whole "
    "clusters D and symmetric functions of each cluster's eigenvalues are "
    "exact. A matrix function V f(w) V^-1 is differentiable where its "
    "eigendecomposition is not: compute it directly (e.g. "
    "jax.scipy.linalg.expm). Or use jax_linalg_gauge_check='nan' for NaN "
    "instead.")

def _eig_gauge_check_transpose_rule(cts, w, degenerate, w_dot, y, *, mode):
  # A loss of the eigenvectors of a general matrix is independent of the
  # basis chosen within a degenerate cluster D iff it is invariant under
  # V_D -> V_D (I + Z), Z any matrix on D (the columns are normalized after,
  # which the JVP differentiates): iff the cotangent of the coefficients Y of
  # dV = V Y vanishes on the pairs i != j of D. The eigenvalues of a cluster
  # have a well-defined tangent only as a sum (the trace of V_D^-1 Ȧ V_D),
  # so their cotangent must be constant on D. Violations above sqrt(eps)
  # times the cotangent's largest entry are flagged.
  # y is a constant zero when eig computes no eigenvectors.
  assert ad.is_undefined_primal(w_dot)
  ct_w, ct = (None if type(c) is ad_util.Zero else c for c in cts)
  if not ad.is_undefined_primal(y):
    ct, cts = None, [cts[0], None]
  if ct_w is None and ct is None:
    return [None, None, *cts]
  vectors = values = lax.full_like(degenerate, False)
  if ct is not None:
    eps = float(np.finfo(ct.dtype).eps)
    scale = lax.reduce_max(abs(ct), axes=(ct.ndim - 2, ct.ndim - 1))
    vectors = degenerate & (abs(ct) > float(np.sqrt(eps))
                            * scale[..., None, None])
  if ct_w is not None:
    values = _gauge_unequal(ct_w, degenerate)
  if mode == "nan":
    # The degenerate pairs' coefficients are zeroed by a select, which drops
    # NaN: the flagged eigenpairs' eigenvalue cotangents, which reach the
    # input unmasked, carry it.
    if ct_w is None:
      ct_w = lax.full(w_dot.aval.shape, 0, w_dot.aval.dtype)
    flat = lax.reduce_or(vectors | values, axes=(values.ndim - 1,))
    ct_w = lax.select(flat, lax.full_like(ct_w, np.nan), ct_w)
  elif mode == "raise":
    bad = vectors | values
    _gauge_check_fail(
        bad, _EIG_GAUGE_ERROR, _EIG_GAUGE_ADVICE,
        lambda: _eigh_gauge_items(vectors, values, w),
        "{} pair(s) (i, j) of eigenvalues, the first ({}, {}): {} and {}",
        _gauge_first_offending(bad, w))
  return [None, None, cts[0] if ct_w is None else ct_w,
          cts[1] if ct is None else ct]

# The identity on the eigenvalue tangent and the coefficients Y of dV = V Y,
# whose transpose checks the cotangents for gauge dependence
# (jax_linalg_gauge_check).
_eig_gauge_check_p = _internal_primitive(
    "eig_gauge_check", lambda w, degenerate, w_dot, y, **_: [w_dot, y],
    _eig_gauge_check_abstract_eval, _eig_gauge_check_jvp_rule,
    _eig_gauge_check_transpose_rule, multiple_results=True)

def _eig_values_gauge_check(a, w, v, w_dot):
  # The eigenvalue tangent, through the gauge check of its cotangent
  # (jax_linalg_gauge_check; eig with no eigenvectors).
  mode = config.linalg_gauge_check.value
  if mode == "ignore":
    return w_dot
  degenerate = _eig_degenerate_mask(
      a, w, _eig_condition_numbers(v, _eig_inv(v)))
  w_dot, _ = _eig_gauge_check_p.bind(w, degenerate, w_dot,
                                     lax.full_like(v, 0), mode=mode)
  return w_dot

def _eig_lorentzian_solve(w, k, broadening):
  # Y_ij = K_ij conj(d_ij) / (|d_ij|^2 + broadening), d_ij = w_j - w_i, and
  # 0 on the diagonal (jax_linalg_eig_broadening).
  n = w.shape[-1]
  d = w[..., None, :] - w[..., :, None]
  inv = lax.conj(d) / (lax.real(d * lax.conj(d)) + broadening).astype(d.dtype)
  eye = _broadcast_to(lax._eye(np.bool_, (n, n)), inv.shape)
  return k * lax.select(eye, lax.full_like(inv, 0), inv)

def _eig_solve(w, k, degenerate):
  # Y with Y Λ - Λ Y = K: Y_ij = K_ij / (w_j - w_i), and 0 on the diagonal
  # and on the degenerate pairs (_eig_degenerate_mask), on sylvester_solve_p
  # with the eigenvalues as its diagonal factors.
  broadening = config.linalg_eig_broadening.value
  if broadening is not None:
    return _eig_lorentzian_solve(w, k, float(broadening))
  k = lax.select(degenerate, lax.full_like(k, 0), k)
  return sylvester_solve_p.bind(-w, w, k, rtol=_degeneracy_rtol(w.dtype))

def _eig_vec_jvp(dot, w, v, inv_v, degenerate, da):
  # First-order perturbation theory (see e.g. Sec 3.1 of
  # https://people.maths.ox.ac.uk/gilesm/files/NA-08-01.pdf): with
  # A = V Λ V^-1 and K = V^-1 Ȧ V, Λ̇ = diag(K) and V̇ = V Y + V diag(c),
  # where Y solves the Sylvester equation Y Λ - Λ Y = K off the diagonal,
  # Y_ij = K_ij / (w_j - w_i), whose factors are the eigenvalues. Pairs that
  # count as degenerate (_eig_degenerate_mask) get Y_ij = 0: the derivative
  # of the spectral projector V_D (V^-1)_D onto each degenerate cluster D,
  # and of any loss that depends on the eigenvectors only through such
  # projectors and on each cluster's eigenvalues only through their sum
  # (Kato, Perturbation Theory for Linear Operators, sec. II.2); there the
  # stock rule divides by rounding noise. The individual eigenvectors of D
  # are not differentiable (their basis is arbitrary). The eigenvalue
  # equation A v_j = w_j v_j fixes v_j only up to a (complex) scalar.
  # LAPACK's geev fixes that scalar by normalising each v_j to have unit
  # 2-norm and real largest-magnitude component, and we differentiate
  # through that choice. See https://github.com/jax-ml/jax/issues/2748 for
  # discussion.
  if dtypes.issubdtype(da.dtype, np.complexfloating):
    da_v = dot(da, v)
  else:
    # For a real A, V is complex but Ȧ is real: Ȧ V is two real products,
    # half the work of a complex one, and reverse mode then forms the real
    # cotangent of A by real products too.
    da_v = lax.complex(dot(da, v.real), dot(da, v.imag))
  P = dot(inv_v, da_v)
  dw = _extract_diagonal(P)
  Y = _eig_solve(w, P, degenerate)
  mode = config.linalg_gauge_check.value
  if mode != "ignore":
    dw, Y = _eig_gauge_check_p.bind(w, degenerate, dw, Y, mode=mode)
  U = dot(v, Y)
  # The eigenvalue equation gives dv_j = u_j + c_j v_j with c_j free; the two
  # real LAPACK normalisation constraints fix c_j to
  #   c_j = -Re(v_j* . u_j) - i Im(u_{k_j j}) / v_{k_j j},  k_j = argmax_i |v_ij|.
  # k_j is the component that LAPACK made real: with two components of
  # equal magnitude argmax |v| can pick the other one (a real 2 x 2 rotation
  # has such pairs), whose real part may be rounding noise. The columns
  # have unit norm, so the bonus 2 ranks the real components first.
  real = (lax.imag(v) == 0).astype(lax.abs(v).dtype)
  k = lax.argmax(lax.abs(v) + 2 * real, axis=v.ndim - 2,
                 index_dtype=np.int32)
  mask = (lax.broadcasted_iota(np.int32, v.shape, v.ndim - 2)
          == lax.expand_dims(k, (v.ndim - 2,))).astype(v.dtype)
  c = lax.complex(-(v.conj() * U).sum(-2).real,
                  -(mask * U).sum(-2).imag / (mask * v).sum(-2).real)
  return dw, U + v * lax.expand_dims(c, (v.ndim - 2,))

def eig_jvp_rule(primals, tangents, *, compute_left_eigenvectors,
                 compute_right_eigenvectors, enable_eigvec_derivs,
                 implementation):
  a, = primals
  da, = tangents
  if compute_left_eigenvectors or compute_right_eigenvectors:
    if not enable_eigvec_derivs:
      raise NotImplementedError(
          'Derivatives of non-symmetric eigenvectors are only valid under '
          'assumptions on the input that JAX cannot check (see the '
          'enable_eigvec_derivs argument to jax.lax.linalg.eig). Pass '
          'enable_eigvec_derivs=True to jax.lax.linalg.eig to opt in. See '
          'https://github.com/jax-ml/jax/issues/2748 for discussion.')
  outs = eig(a, compute_left_eigenvectors=compute_left_eigenvectors,
             compute_right_eigenvectors=True,
             enable_eigvec_derivs=enable_eigvec_derivs,
             implementation=implementation)
  w, vr = outs[0], outs[-1]
  dot = partial(lax.dot if a.ndim == 2 else lax.batch_matmul,
                precision=lax.Precision.HIGHEST)
  if not (compute_left_eigenvectors or compute_right_eigenvectors):
    dw = (_solve(vr, da.astype(vr.dtype)) * _T(vr)).sum(-1)
    return [w], [_eig_values_gauge_check(a, w, vr, dw)]
  if a.shape[-1] == 0:
    primal_out = [w, *outs[1:compute_left_eigenvectors + 1]]
    if compute_right_eigenvectors:
      primal_out.append(vr)
    return primal_out, [lax.full_like(x, 0) for x in primal_out]
  inv_vr = _eig_inv(vr)
  kappa = _eig_condition_numbers(vr, inv_vr)
  degenerate = _eig_degenerate_mask(a, w, kappa)
  dw, dvr = _eig_vec_jvp(dot, w, vr, inv_vr, degenerate, da)
  primal_out, tangent_out = [w], [dw]
  if compute_left_eigenvectors:
    # The left eigenvectors are the right eigenvectors of A^H, with
    # eigenvalues conj(w) and the same degenerate pairs.
    vl = outs[1]
    inv_vl = _eig_inv(vl)
    _, dvl = _eig_vec_jvp(dot, w.conj(), vl, inv_vl, degenerate, _H(da))
    primal_out.append(vl)
    tangent_out.append(dvl)
  if compute_right_eigenvectors:
    primal_out.append(vr)
    tangent_out.append(dvr)
  # NaN, forward and reverse (a product, not a select, whose transpose would
  # drop it), for the batch members that are numerically defective.
  defective = _eig_defective(kappa)
  nan = lax.select(defective, lax.full_like(defective, np.nan, w.real.dtype),
                   lax.full_like(defective, 1, w.real.dtype))
  tangent_out = [t * lax.expand_dims(nan, tuple(range(nan.ndim, t.ndim)))
                 .astype(t.dtype) for t in tangent_out]
  return primal_out, tangent_out


# Sylvester equation

# sylvester_solve_p(a, b, c) solves A Y + Y B = C for Y, where A = diag(a)
# and B = diag(b) are diagonal factors that the caller already has, e.g. the
# eigenvalues of an eigendecomposition: a has shape [..., m], b [..., n] and
# c [..., m, n], and Y_ij = C_ij / (a_i + b_j). Pivots a_i + b_j that count
# as singular (see _sylvester_singular_pivots) get the pseudo-inverse's zero
# instead of +-inf, so that the solve serves as the derivative rule of
# eigendecompositions also where eigenvalues repeat.
def _sylvester_solve_shape_rule(a_shape, b_shape, c_shape, *, rtol):
  del rtol  # Unused.
  if tuple(c_shape) != (*a_shape, *b_shape):
    raise ValueError(
        "sylvester_solve: the diagonals a and b must have shapes [..., m] and "
        "[..., n] to match c with shape [..., m, n], got a with shape "
        f"{a_shape}, b with shape {b_shape} and c with shape {c_shape}.")
  return c_shape

_SYLVESTER_TIES = 16  # See _sylvester_singular_pivots.

def _sylvester_singular_pivots(a, b, rtol):
  # The pivots d_ij = a_i + b_j of a Sylvester equation with diagonal factors
  # a ([..., m]) and b ([..., n]), and which of them count as singular:
  #
  #   |d_ij| <= 16 sqrt(max(m, n)) eps max(|a|, |b|),
  #
  # the rounding error of the eigenvalues a and b. The eigh JVP solves with
  # a = -w, b = w, so that d_ij = w_j - w_i: a pivot within it is a pair of
  # eigenvalues that agree to working precision, whose eigenvectors A does
  # not determine. A backward-stable eigensolver returns the eigenvalues of
  # A + E with ||E|| <= p(n) eps ||A|| (LAPACK Users' Guide, sec. 4.7), so an
  # exactly repeated eigenvalue comes back split by up to 2 p(n) eps max|w|,
  # and the rounding of A itself adds to this. Measured with jnp.linalg.eigh
  # on Q diag(w) Q^H, w with clusters of multiplicity 2 to n / 2 + 1, Q
  # random and the product rounded to the dtype (3,000 matrices per size and
  # dtype, float32/64, complex64/128): the largest split was
  # 7.1 sqrt(n) eps max|w| (n = 5), and below 2.1 sqrt(n) eps max|w| for
  # n = 128 and 256 (LAPACK's ?syevd/?heevd on CPU). 16 sqrt(n) leaves a
  # margin of 2.2 over the worst case seen. An eigenvector of a pair with
  # gap g is determined by A only up to a rotation within the pair of angle
  # about ||E|| / g, which at the tolerance is of order one: fixing its
  # gauge loses only the coefficient of an input whose eigenvectors come out
  # exact although its eigenvalues differ by less than the tolerance (an
  # exactly diagonal diag(1, 1 + 2 eps, 3): -1/(2 eps) in the stock rule, 0
  # here). Every larger pivot is inverted, as the stock rules do, so that
  # first derivatives at pairs further apart stay as they were; an
  # eigensolver with a larger backward error only makes more pairs fall back
  # to the stock coefficient. The tolerance scales with max|w|,
  # the size of A that eigh's backward error scales with. NaN pivots are
  # never singular, so NaN propagates.
  d = a[..., :, None] + b[..., None, :]
  m, n = a.shape[-1], b.shape[-1]
  dtype = dtypes.to_inexact_dtype(d.dtype)
  eps = float(np.finfo(dtype).eps)
  magnitude = lax.max(lax.reduce_max(abs(a), axes=(a.ndim - 1,)),
                      lax.reduce_max(abs(b), axes=(b.ndim - 1,)))
  tol = _SYLVESTER_TIES * math.sqrt(max(m, n)) * eps * magnitude
  # With rtol (jax_linalg_degeneracy_rtol), a band relative to the largest
  # pivot (for eigh, the spread max(w) - min(w)) counts as singular too:
  # |d_ij| <= rtol max|d|. Within it, nearly degenerate pairs are treated as
  # degenerate. For a loss that depends on the eigenvectors only through
  # projectors onto whole clusters the within-cluster coefficients cancel
  # exactly, but in floating point only to eps |K| / |d_ij|, an error
  # relative to the derivative of about eps spread / |d_ij| (issue #669;
  # Kasim, arXiv:2011.04366, uses eps^0.6 and eps^0.4 for the same
  # trade-off), which the band bounds by about eps / rtol (measured over
  # random clustered spectra: 0.7 eps / rtol). The price: a loss that
  # depends on an individual eigenvector of a pair inside the band gets the
  # derivative of the pair's projector, which differs from its true
  # derivative by O(1), where the plain inverse errs by only
  # eps max|w| / |d_ij|. The band is unchanged by a shift a -> a + s,
  # b -> b - s that leaves the pivots alone.
  if rtol is not None:
    d_max = lax.reduce_max(abs(d), axes=(d.ndim - 2, d.ndim - 1))
    tol = lax.max(tol, rtol * d_max)
  return d, abs(d) <= tol[..., None, None]

def _sylvester_pivot_inverses(d, singular):
  # The reciprocals 1/d of the pivots, with 0 where `singular` (the
  # pseudo-inverse).
  one = lax.full_like(d, 1)
  return lax.select(singular, lax.full_like(d, 0),
                    one / lax.select(singular, one, d))

def _sylvester_solve_impl(a, b, c, *, rtol):
  d, singular = _sylvester_singular_pivots(a, b, rtol)
  return c * _sylvester_pivot_inverses(d, singular)

def _sylvester_solve_jvp_rule(primals, tangents, **params):
  # With S(Y) = A Y + Y B and Y = S⁺(C), where S⁺ zeroes the singular
  # components, Ẏ = S⁺(Ċ - Ȧ Y - Y Ḃ): the singular set is locally constant
  # and Y vanishes on it, so this is exact.
  a, b, c = primals
  a_dot, b_dot, c_dot = tangents
  y = sylvester_solve_p.bind(a, b, c, **params)
  rhs = c_dot
  if type(a_dot) is not ad_util.Zero:
    rhs = ad.add_tangents(rhs, -a_dot[..., :, None] * y)
  if type(b_dot) is not ad_util.Zero:
    rhs = ad.add_tangents(rhs, -y * b_dot[..., None, :])
  if type(rhs) is ad_util.Zero:
    return y, rhs
  return y, sylvester_solve_p.bind(a, b, rhs, **params)

def _sylvester_solve_transpose_rule(ct, a, b, c, **params):
  # The solve is linear in c, and elementwise: it is its own transpose, with
  # the same pivots (and the same zeroed singular components).
  assert not ad.is_undefined_primal(a) and not ad.is_undefined_primal(b)
  assert ad.is_undefined_primal(c)
  if type(ct) is ad_util.Zero:
    return [None, None, ad_util.Zero(c.aval)]
  return [None, None, sylvester_solve_p.bind(a, b, ct, **params)]

sylvester_solve_p = standard_linalg_primitive(
    (_float | _complex, _float | _complex, _float | _complex), (1, 1, 2),
    _sylvester_solve_shape_rule, "sylvester_solve")
ad.primitive_jvps[sylvester_solve_p] = _sylvester_solve_jvp_rule
ad.primitive_transposes[sylvester_solve_p] = _sylvester_solve_transpose_rule
mlir.register_lowering(sylvester_solve_p, mlir.lower_fun(
    _sylvester_solve_impl, multiple_results=False))
