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

"""The bad-input table of docs/bad-input.md, one test per row.

Each case is (row id, function of nothing, expectation). A row id is
"<function>: <input>" exactly as in the table's first two columns, and
test_table_matches_cases checks that the two lists agree.
"""

from functools import partial
import pathlib
import re

import numpy as np
import pytest
import scipy.linalg

import jax
import jax.numpy as jnp

import jax_patch

jax_patch.install()
jax.config.update("jax_enable_x64", True)
jsl = jax.lax.linalg  # The Hermitian matrix functions live here.


class Raises:
  def __init__(self, exc, match, *, trace_time=True):
    self.exc, self.match, self.trace_time = exc, match, trace_time


class Result:
  def __init__(self, check):
    self.check = check


def _all_nan(x):
  return np.all(np.isnan(np.asarray(x)))


def _close(expected, tol=1e-12):
  return lambda x: np.allclose(np.asarray(x), expected, atol=tol, rtol=tol)


def _eigh_loss(a):
  w, v = jnp.linalg.eigh(a)
  return jnp.sum(w) + jnp.sum(jnp.abs(v[..., :1]) ** 2 * jnp.arange(
      a.shape[-1], dtype=w.dtype)[:, None])


def _grad_eigh(a):
  return jax.grad(_eigh_loss)(jnp.asarray(a))


def _jvp_eigh(a):
  a = jnp.asarray(a)
  return jax.jvp(lambda x: jnp.linalg.eigh(x)[1], (a,), (a,))[1]


NAN_2 = np.array([[1., np.nan], [np.nan, 2.]])
INF_2 = np.array([[1., np.inf], [np.inf, 2.]])
NON_HERMITIAN = np.array([[1., 2.], [0., 3.]])
SYMMETRIZED = (NON_HERMITIAN + NON_HERMITIAN.T) / 2


def _eigh_cases():
  # TypeError from jax.lax.linalg.eigh up to JAX 0.11; from 0.12 on
  # jnp.linalg.eigh checks the shape itself and raises ValueError.
  yield ("eigh derivatives: non-square a", lambda: _grad_eigh(np.ones((3, 4))),
         Raises((TypeError, ValueError), "shape"))
  yield ("eigh derivatives: integer a",
         lambda: _grad_eigh(np.eye(3, dtype=int)),
         Raises(TypeError, "grad requires real- or complex-valued inputs"))
  yield ("eigh derivatives: bool a",
         lambda: _grad_eigh(np.eye(3, dtype=bool)),
         Raises(TypeError, "grad requires real- or complex-valued inputs"))
  yield ("eigh derivatives: 0x0", lambda: _grad_eigh(np.zeros((0, 0))),
         Result(lambda g: np.shape(g) == (0, 0)))
  # For 1x1, L = w + |v|^2 * 0: dL/da = 1.
  yield ("eigh derivatives: 1x1", lambda: _grad_eigh(np.array([[2.]])),
         Result(_close([[1.]])))
  yield ("eigh derivatives: NaN entries", lambda: _grad_eigh(NAN_2),
         Result(_all_nan))
  yield ("eigh derivatives: Inf entries", lambda: _grad_eigh(INF_2),
         Result(_all_nan))
  yield ("eigh derivatives: NaN entries (jvp)", lambda: _jvp_eigh(NAN_2),
         Result(_all_nan))
  # jnp.linalg.eigh reads (a + a^H) / 2, so its derivative is that of the
  # symmetrized matrix, whose eigenvalues are distinct here.
  yield ("eigh derivatives: non-Hermitian a",
         lambda: (_grad_eigh(NON_HERMITIAN), _grad_eigh(SYMMETRIZED)),
         Result(lambda gs: np.allclose(gs[0], gs[1], atol=1e-14)))
  yield ("eigh derivatives: subset_by_index",
         lambda: jax.jvp(lambda x: jax.lax.linalg.eigh(
             x, subset_by_index=(0, 1))[1], (np.eye(2),), (np.eye(2),)),
         Raises(NotImplementedError, "partial eigen"))


MATFUNS = ("expm_hermitian", "logm_hermitian", "sqrtm_hermitian",
           "powm_hermitian", "funm_hermitian")


def _matfun(name):
  f = getattr(jsl, name)
  if name == "powm_hermitian":
    return lambda a: f(a, 0.5)
  if name == "funm_hermitian":
    return lambda a: f(a, jnp.tanh)
  return f


def _matfun_cases():
  # The generic rows hold for all five functions: each case runs each.
  scalar = {"expm_hermitian": np.exp, "logm_hermitian": np.log,
            "sqrtm_hermitian": np.sqrt, "powm_hermitian": np.sqrt,
            "funm_hermitian": np.tanh}
  rows = [
      ("non-square a", lambda f, n: f(np.ones((3, 4))),
       lambda n: Raises(ValueError, re.escape(
           f"{n}: a must be a batch of square matrices") + r".*\(3, 4\)")),
      ("bool a", lambda f, n: f(np.eye(2, dtype=bool)),
       lambda n: Raises(TypeError, "numeric dtype, got a.dtype=bool")),
      ("integer a", lambda f, n: f(2 * np.eye(2, dtype=int)),
       lambda n: Result(lambda x: np.allclose(
           x, scalar[n](2.) * np.eye(2), rtol=1e-6))),
      ("0x0", lambda f, n: f(np.zeros((0, 0))),
       lambda n: Result(lambda x: x.shape == (0, 0))),
      ("1x1", lambda f, n: (f(np.array([[2.]])), jax.grad(
          lambda a: f(a)[0, 0])(np.array([[2.]]))),
       lambda n: Result(lambda xs: np.allclose(
           xs[0], scalar[n](2.), rtol=1e-14) and np.allclose(
               xs[1], (scalar[n](2. + 1e-6) - scalar[n](2. - 1e-6)) / 2e-6,
               rtol=1e-8))),
      ("NaN entries", lambda f, n: (f(NAN_2), jax.grad(
          lambda a: jnp.sum(f(a)))(NAN_2)),
       lambda n: Result(lambda xs: _all_nan(xs[0]) and _all_nan(xs[1]))),
      ("Inf entries", lambda f, n: f(INF_2), lambda n: Result(_all_nan)),
      ("non-Hermitian a", lambda f, n: (f(NON_HERMITIAN + 2 * np.eye(2)),
                                        f(SYMMETRIZED + 2 * np.eye(2))),
       lambda n: Result(lambda xs: np.allclose(xs[0], xs[1], atol=1e-14))),
  ]
  for label, call, expect in rows:
    yield (f"matrix functions: {label}",
           [partial(call, _matfun(n), n) for n in MATFUNS],
           [expect(n) for n in MATFUNS])
  yield ("funm_hermitian: func not callable",
         lambda: jsl.funm_hermitian(np.eye(2), 3),
         Raises(TypeError, "func must be a callable"))
  yield ("powm_hermitian: p not a real scalar",
         lambda: jsl.powm_hermitian(np.eye(2), "a"),
         Raises(TypeError, "p must be a finite real"))
  neg, zero = np.diag([-1., 2.]), np.diag([0., 2.])
  yield ("logm_hermitian: negative eigenvalue",
         lambda: jsl.logm_hermitian(neg), Result(_all_nan))
  yield ("logm_hermitian: zero eigenvalue", lambda: jsl.logm_hermitian(zero),
         Result(lambda x: x[0, 0] == -np.inf and np.isnan(x[0, 1])))
  yield ("sqrtm_hermitian: negative eigenvalue",
         lambda: jsl.sqrtm_hermitian(neg), Result(_all_nan))
  yield ("sqrtm_hermitian: eigenvalue -1e-17 (rounding)",
         lambda: jsl.sqrtm_hermitian(np.diag([-1e-17, 2.])),
         Result(_close(np.diag([0., np.sqrt(2.)]))))
  yield ("sqrtm_hermitian: zero eigenvalue",
         lambda: (jsl.sqrtm_hermitian(zero),
                  jax.grad(lambda a: jnp.sum(jsl.sqrtm_hermitian(a)))(zero)),
         Result(lambda xs: np.allclose(xs[0], np.diag([0., np.sqrt(2.)]))
                and xs[1][0, 0] == np.inf))
  yield ("powm_hermitian: p=0.5, negative eigenvalue",
         lambda: jsl.powm_hermitian(neg, 0.5), Result(_all_nan))
  yield ("powm_hermitian: p=-1, zero eigenvalue",
         lambda: jsl.powm_hermitian(zero, -1), Result(
             lambda x: not np.isfinite(np.asarray(x)).all()))
  yield ("powm_hermitian: integer p, negative eigenvalue",
         lambda: jsl.powm_hermitian(neg, 3),
         Result(_close(np.diag([-1., 8.]))))


def _svd_grad(a):
  def loss(x):
    u, sv, vh = jnp.linalg.svd(x, full_matrices=False)
    return jnp.sum(sv) + jnp.sum(jnp.abs(u @ vh))
  return jax.grad(loss)(jnp.asarray(a))


def _svd_cases():
  yield ("svd derivatives: integer a",
         lambda: _svd_grad(np.eye(3, dtype=int)),
         Raises(TypeError, "grad requires real- or complex-valued inputs"))
  yield ("svd derivatives: 0x3", lambda: _svd_grad(np.zeros((0, 3))),
         Result(lambda g: np.shape(g) == (0, 3)))
  # For 1x1, s = |a| and U V^H = sign(a): d/da (|a| + 1) = 1 at a = 2.
  yield ("svd derivatives: 1x1", lambda: _svd_grad(np.array([[2.]])),
         Result(_close([[1.]])))
  yield ("svd derivatives: NaN entries",
         lambda: _svd_grad(np.array([[1., np.nan], [0., 2.]])),
         Result(_all_nan))
  # All singular values zero: every pair is degenerate and every complement
  # term zeroed, so the generalized-inverse derivative is finite.
  yield ("svd derivatives: zero matrix", lambda: _svd_grad(np.zeros((3, 2))),
         Result(lambda g: np.all(np.isfinite(g))))
  # A zero column: one exact zero singular value. The polar factor's
  # derivative stays finite (the rule zeroes 1/s for s = 0); the polar
  # factor itself is not unique there, so only its rank-preserving
  # directions have a derivative.
  yield ("svd derivatives: zero column",
         lambda: _svd_grad(np.array([[1., 0.], [2., 0.], [3., 0.]])),
         Result(lambda g: np.all(np.isfinite(g))))
  yield ("svd derivatives: subset_by_index with vectors",
         lambda: jax.jvp(lambda x: jax.lax.linalg.svd(
             x, subset_by_index=(0, 1))[0], (np.eye(3),), (np.eye(3),)),
         Raises(NotImplementedError, "partial singular value"))


A3, B3 = np.diag([1., 2., 3.]), 2 * np.eye(3)
_eigh_ab = jax.scipy.linalg.eigh


def _eigh_generalized_cases():
  yield ("eigh(a, b): non-square a", lambda: _eigh_ab(np.ones((3, 4)), B3),
         Raises(ValueError, r"argument a must be .*shape \(3, 4\)"))
  yield ("eigh(a, b): non-square b", lambda: _eigh_ab(A3, np.ones((3, 4))),
         Raises(ValueError, r"argument b must be .*shape \(3, 4\)"))
  yield ("eigh(a, b): mismatched shapes", lambda: _eigh_ab(A3, np.eye(2)),
         Raises(ValueError, r"a with shape \(3, 3\) and b with shape "
                r"\(2, 2\)"))
  yield ("eigh(a, b): bad type", lambda: _eigh_ab(A3, B3, type=4),
         Raises(ValueError, "type must be 1, 2 or 3, got type=4"))
  yield ("eigh(a, b): bad subset_by_index",
         lambda: _eigh_ab(A3, B3, subset_by_index=(2, 5)),
         Raises(ValueError, r"0 <= lo <= hi < n = 3"))
  yield ("eigh(a, b): integer a and b",
         lambda: _eigh_ab(A3.astype(int), B3.astype(int), eigvals_only=True),
         Result(_close([0.5, 1., 1.5])))
  yield ("eigh(a, b): 0x0",
         lambda: _eigh_ab(np.zeros((0, 0)), np.zeros((0, 0)))[1],
         Result(lambda v: v.shape == (0, 0)))
  yield ("eigh(a, b): b not positive definite",
         lambda: _eigh_ab(A3, -B3), Result(lambda wv: _all_nan(wv[0])
                                            and _all_nan(wv[1])))
  yield ("eigh(a, b): b not positive definite, one batch member",
         lambda: _eigh_ab(np.stack([A3, A3]), np.stack([B3, -B3]),
                          eigvals_only=True),
         Result(lambda w: np.all(np.isfinite(w[0])) and _all_nan(w[1])))
  yield ("eigh(a, b): NaN entries",
         lambda: jax.grad(lambda x: jnp.sum(_eigh_ab(x, B3)[0]))(
             np.where(np.eye(3) > 0, np.nan, 0.)), Result(_all_nan))


def _solve_sylvester(*args, **kwargs):
  return jax.scipy.linalg.solve_sylvester(*args, **kwargs)


def _sylvester_cases():
  eye2, eye3 = np.eye(2), np.eye(3)
  yield ("solve_sylvester: non-square A",
         lambda: _solve_sylvester(np.ones((3, 2)), eye2, np.ones((3, 2))),
         Raises(ValueError, r"argument A must have shape \[\.\.\., k, k\], "
                r"got shape \(3, 2\)"))
  yield ("solve_sylvester: C of the wrong shape",
         lambda: _solve_sylvester(eye3, eye2, np.ones((2, 3))),
         Raises(ValueError, r"argument C must have shape \[\.\.\., 3, 2\]"))
  yield ("solve_sylvester: batch dimensions that do not broadcast",
         lambda: _solve_sylvester(np.ones((2, 3, 3)), np.ones((4, 2, 2)),
                                  np.ones((3, 2))),
         Raises(ValueError, r"A with shape \(2, 3, 3\), B with shape "
                r"\(4, 2, 2\)"))
  yield ("solve_sylvester: unknown method",
         lambda: _solve_sylvester(eye2, eye2, eye2, method="qr"),
         Raises(ValueError, "method must be one of"))
  yield ("solve_sylvester: integer inputs",
         lambda: _solve_sylvester(np.array([[1, 2], [3, 4]]),
                                  np.array([[5, 6], [7, 8]]),
                                  np.array([[6, 8], [10, 12]])),
         Result(_close(np.eye(2), 1e-10)))
  yield ("solve_sylvester: bool inputs",
         lambda: _solve_sylvester(eye2.astype(bool), eye2.astype(bool),
                                  np.ones((2, 2), bool)),
         Result(_close(np.full((2, 2), 0.5), 1e-6)))
  yield ("solve_sylvester: 0x0 A",
         lambda: _solve_sylvester(np.zeros((0, 0)), eye2, np.zeros((0, 2))),
         Result(lambda x: x.shape == (0, 2)))
  yield ("solve_sylvester: 1x1",
         lambda: _solve_sylvester(np.array([[2.]]), np.array([[3.]]),
                                  np.array([[10.]])), Result(_close([[2.]])))
  yield ("solve_sylvester: nearly singular equation",
         lambda: _solve_sylvester(np.diag([1., 2.]),
                                  np.diag([-1 + 1e-12, 1.]), np.ones((2, 2))),
         Result(_all_nan))
  yield ("solve_sylvester: nearly singular equation, tol=None",
         lambda: _solve_sylvester(np.diag([1., 2.]),
                                  np.diag([-1 + 1e-12, 1.]), np.ones((2, 2)),
                                  tol=None)[0, 0],
         Result(lambda x: abs(float(x) * (1 - 1 + 1e-12) - 1) < 1e-3))
  yield ("solve_sylvester: singular equation",
         lambda: _solve_sylvester(eye2, -eye2, eye2), Result(_all_nan))
  yield ("solve_sylvester: singular equation, tol=None",
         lambda: _solve_sylvester(np.diag([1., 2.]), np.diag([-1., 1.]),
                                  np.ones((2, 2)), tol=None),
         Result(_close([[0., 0.5], [1., 1 / 3]])))
  yield ("solve_sylvester: NaN entries",
         lambda: _solve_sylvester(NAN_2, eye2, eye2, tol=None),
         Result(_all_nan))
  yield ("solve_sylvester: gradient of a nearly singular equation",
         lambda: jax.grad(lambda a, c: jnp.sum(_solve_sylvester(
             a, np.diag([-1 + 1e-12, 1.]), c)), (0, 1))(
                 np.diag([1., 2.]), np.ones((2, 2))),
         Result(lambda gs: all(_all_nan(g) for g in gs)))
  yield ("solve_sylvester: gradient in A with broadening",
         lambda: jax.grad(lambda a: jnp.sum(_solve_sylvester(
             a, eye2, eye2, broadening=1.)))(2 * eye2),
         Raises(NotImplementedError, "differentiable in C only, not in A"))
  yield ("sylvester_solve: a not square",
         lambda: jsl.sylvester_solve(np.ones((3, 2)), eye2, np.ones((3, 2))),
         Raises(ValueError, r"argument a must have shape \[\.\.\., k, k\]"))
  yield ("sylvester_solve: unequal batch dimensions",
         lambda: jsl.sylvester_solve(np.ones((2, 3, 3)), eye2,
                                     np.ones((2, 3, 2))),
         Raises(ValueError, "equal batch dimensions"))
  yield ("sylvester_solve: mixed dtypes",
         lambda: jsl.sylvester_solve(eye3.astype(np.float32), eye2,
                                     np.ones((3, 2))),
         Raises(TypeError, "same dtype, got a: float32"))
  yield ("sylvester_solve: negative broadening",
         lambda: jsl.sylvester_solve(eye2, eye2, eye2, broadening=-1.),
         Raises(ValueError, "broadening must be None or a finite nonnegative"))
  yield ("sylvester_solve: quasi_triangular with complex input",
         lambda: jsl.sylvester_solve(eye2 + 0j, eye2 + 0j, eye2 + 0j,
                                     quasi_triangular=True),
         Raises(ValueError, "quasi_triangular=True needs real"))
  yield ("sylvester_solve: integer a",
         lambda: jsl.sylvester_solve(eye2.astype(np.int32), eye2, eye2),
         Raises(TypeError, "argument a must have a floating-point or complex "
                "dtype, got int32"))
  yield ("sylvester_solve: bool a",
         lambda: jsl.sylvester_solve(eye2.astype(bool), eye2, eye2),
         Raises(TypeError, "argument a must have a floating-point or complex "
                "dtype, got bool"))
  yield ("sylvester_solve: 0x0 a",
         lambda: jsl.sylvester_solve(np.zeros((0, 0)), eye2, np.zeros((0, 2))),
         Result(lambda x: x.shape == (0, 2)))
  yield ("sylvester_solve: 1x1",
         lambda: jsl.sylvester_solve(np.array([[2.]]), np.array([[3.]]),
                                     np.array([[10.]])), Result(_close([[2.]])))
  yield ("sylvester_solve: pivot below rtol",
         lambda: jsl.sylvester_solve(np.diag([1., 2.]),
                                     np.diag([-1 + 1e-15, 1.]),
                                     np.ones((2, 2))),
         Result(_close([[0., 0.5], [1., 1 / 3]])))
  yield ("sylvester_solve: Inf coefficients",
         lambda: jsl.sylvester_solve(INF_2, eye2, eye2), Result(_all_nan))


# eig with enable_eigvec_derivs=True (the eigenvectors' derivatives opt-in).

def _eig(a, derivs=True):
  return jax.lax.linalg.eig(jnp.asarray(a), compute_left_eigenvectors=False,
                            enable_eigvec_derivs=derivs)


def _eig_loss(a):
  w, v = _eig(a)
  n = a.shape[-1]
  return (jnp.real(jnp.sum(w * (1 + jnp.arange(n)))) + jnp.sum(
      jnp.abs(v[..., :1]) ** 2 * jnp.arange(n, dtype=a.dtype)[:, None]))


def _grad_eig(a):
  return jax.grad(_eig_loss)(jnp.asarray(a))


def _jvp_eig(a, da):
  return jax.jvp(_eig, (jnp.asarray(a),), (jnp.asarray(da),))[1]


def _eig_projector(centre, radius):
  """x -> V[:, D] inv(V)[D, :], D the eigenvalues within radius of centre."""
  def projector(x):
    w, v = _eig(x)
    mask = jnp.abs(jax.lax.stop_gradient(w) - centre) <= radius
    return (v * mask) @ jnp.linalg.inv(v)
  return projector


def _jvp_projector(a, da, centre, radius):
  return jax.jvp(_eig_projector(centre, radius), (a,), (da,))[1]


def _fd_projector(a, da, centre, radius, h=1e-5):
  # Richardson-extrapolated central differences of SciPy's eig.
  def projector(x):
    w, v = scipy.linalg.eig(x)
    return (v * (np.abs(w - centre) <= radius)) @ np.linalg.inv(v)
  d = lambda h: (projector(a + h * da) - projector(a - h * da)) / (2 * h)
  return (4 * d(h / 2) - d(h)) / 3


JORDAN = np.array([[1., 1.], [0., 1.]])
# A 2 x 2 Jordan block at 1 and a simple eigenvalue 3. The spectral
# projector of 3 is analytic in a (Kato II.1.4), with the derivative
# JORDAN_3_DP along JORDAN_3_DA: [[0, X], [Y, 0]], (J - 3) X = -da[:2, 2:],
# Y (3 - J) = da[2:, :2].
JORDAN_3 = np.array([[1., 1., 0.], [0., 1., 0.], [0., 0., 3.]])
JORDAN_3_DA = np.ones((3, 3)) + np.diag([0., 1., 2.])
JORDAN_3_DP = np.array([[0., 0., .75], [0., 0., .5], [.5, .75, 0.]])
SIMILAR = np.array([[1., 2., 0.], [0., 1., 1.], [1., 0., 1.]])
JORDAN_3_SIMILAR = SIMILAR @ JORDAN_3 @ np.linalg.inv(SIMILAR)


def _eig_cases():
  yield ("eig derivatives: non-square a", lambda: _grad_eig(np.ones((3, 4))),
         Raises(ValueError, r"must be a square matrix. Got shape \(3, 4\)"))
  yield ("eig derivatives: integer a",
         [lambda: _grad_eig(np.eye(3, dtype=int)),
          lambda: _eig(np.eye(3, dtype=np.int32))],
         [Raises(TypeError, "grad requires real- or complex-valued inputs"),
          Raises(TypeError, "eig does not accept dtype int32")])
  yield ("eig derivatives: bool a",
         lambda: _grad_eig(np.eye(3, dtype=bool)),
         Raises(TypeError, "grad requires real- or complex-valued inputs"))
  yield ("eig derivatives: 0x0",
         [lambda: _grad_eig(np.zeros((0, 0))),
          lambda: jax.jvp(lambda x: jax.lax.linalg.eig(
              x, compute_left_eigenvectors=False,
              compute_right_eigenvectors=False), (np.zeros((0, 0)),),
              (np.zeros((0, 0)),))[1]],
         [Result(lambda g: g.shape == (0, 0)),
          Result(lambda t: t[0].shape == (0,))])
  yield ("eig derivatives: 1x1",
         lambda: (_jvp_eig(np.array([[2.]]), np.array([[3.]])),
                  _grad_eig(np.array([[2.]]))),
         Result(lambda out: np.allclose(out[0][0], [3.]) and np.allclose(
             out[0][1], [[0.]]) and np.allclose(out[1], [[1.]])))
  yield ("eig derivatives: NaN entries",
         lambda: (_grad_eig(NAN_2), _jvp_eig(NAN_2, np.ones((2, 2)))),
         Result(lambda out: all(_all_nan(x) for x in jax.tree.leaves(out))))
  yield ("eig derivatives: Inf entries",
         lambda: (_grad_eig(INF_2), _jvp_eig(INF_2, np.ones((2, 2)))),
         Result(lambda out: all(_all_nan(x) for x in jax.tree.leaves(out))))
  yield ("eig derivatives: eigenvectors without enable_eigvec_derivs",
         [lambda: jax.jvp(lambda x: _eig(x, derivs=False), (np.eye(2),),
                          (np.eye(2),)),
          lambda: jax.grad(lambda x: jnp.real(jnp.sum(jnp.linalg.eigvals(
              x))))(np.diag([1., 2.]))],
         [Raises(NotImplementedError, "Pass enable_eigvec_derivs=True"),
          Result(_close(np.eye(2)))])
  # A Jordan block: eig returns the eigenvalue twice and two eigenvectors
  # equal to working precision ([1, 0] and [-1, 2.2e-16]): kappa = 1/eps,
  # numerically defective. The eigenvalues alone (no eigenvectors) keep the
  # stock rule: tangents +-1/eps, whose sum is right.
  yield ("eig derivatives: Jordan block [[1, 1], [0, 1]]",
         lambda: (_jvp_eig(JORDAN, np.ones((2, 2))),
                  _jvp_projector(JORDAN, np.ones((2, 2)), 1.0, 0.5),
                  _grad_eig(JORDAN),
                  jax.grad(lambda x: jnp.real(jnp.sum(jnp.linalg.eigvals(
                      x))))(JORDAN)),
         Result(lambda out: all(_all_nan(x) for x in jax.tree.leaves(
             out[:3])) and np.allclose(out[3], np.eye(2))))
  yield ('eig derivatives: Jordan block, gauge_check="raise"',
         [lambda: _with_gauge_check("raise", _grad_eig, JORDAN),
          lambda: _with_gauge_check("nan", _grad_eig, JORDAN)],
         [Result(_all_nan), Result(_all_nan)])
  yield ("eig derivatives: Jordan block and a simple eigenvalue",
         [lambda: _jvp_projector(JORDAN_3, JORDAN_3_DA, 3.0, 0.5),
          lambda: _fd_projector(JORDAN_3, JORDAN_3_DA, 3.0, 0.5)],
         [Result(_all_nan), Result(_close(JORDAN_3_DP, 1e-6))])
  yield ("eig derivatives: Jordan block and a simple eigenvalue, "
         "similarity-transformed",
         lambda: (_jvp_projector(JORDAN_3_SIMILAR, JORDAN_3_DA, 3.0, 0.5),
                  _fd_projector(JORDAN_3_SIMILAR, JORDAN_3_DA, 3.0, 0.5)),
         Result(lambda out: np.allclose(out[0], out[1], rtol=0, atol=1e-6)))
  # Eigenvalues 1 +- 1e-5: |d w / d a[1, 0]| = 1 / (2 sqrt(1e-10)).
  yield ("eig derivatives: Jordan block perturbed by 1e-10",
         lambda: _jvp_eig(np.array([[1., 1.], [1e-10, 1.]]),
                          np.array([[0., 0.], [1., 0.]]))[0],
         Result(lambda dw: np.allclose(np.sort(dw.real), [-5e4, 5e4],
                                       rtol=1e-6)))


def _with_gauge_check(mode, f, *args):
  with jax_patch.linalg_gauge_check(mode):
    return jax.block_until_ready(f(*args))


CASES = (list(_eigh_cases()) + list(_matfun_cases()) + list(_svd_cases())
         + list(_eigh_generalized_cases()) + list(_sylvester_cases())
         + list(_eig_cases()))


def _check(row, fun, expect):
  if isinstance(expect, Raises):
    with pytest.raises(expect.exc, match=expect.match):
      jax.block_until_ready(fun())
    if expect.trace_time:
      # Raised while tracing: also under jit, before anything runs.
      with pytest.raises(expect.exc, match=expect.match):
        jax.eval_shape(fun)
  else:
    out = jax.block_until_ready(fun())
    assert expect.check(out), f"{row}: got {out}"


@pytest.mark.parametrize("row,fun,expect", CASES, ids=[c[0] for c in CASES])
def test_row(row, fun, expect):
  if isinstance(fun, list):
    for f, e in zip(fun, expect):
      _check(row, f, e)
  else:
    _check(row, fun, expect)


TABLE = pathlib.Path(__file__).resolve().parent.parent / "docs" / "bad-input.md"


def _table_rows():
  text = TABLE.read_text()
  start = text.index("<!-- bad-input table -->")
  end = text.index("<!-- end bad-input table -->")
  rows = []
  for line in text[start:end].splitlines():
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) >= 3 and cells[0] and not set(cells[0]) <= set("-: "):
      if cells[0] == "function":
        continue
      rows.append(f"{cells[0].strip('`')}: {cells[1]}")
  return rows


def test_table_matches_cases():
  rows, cases = _table_rows(), [c[0] for c in CASES]
  assert sorted(rows) == sorted(cases), (
      f"rows without a case: {sorted(set(rows) - set(cases))}; "
      f"cases without a row: {sorted(set(cases) - set(rows))}")
