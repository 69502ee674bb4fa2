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

"""Tests for jax.lax.linalg.funm_hermitian."""

import gc
from functools import lru_cache, partial
import re
import weakref

from absl.testing import absltest
import numpy as np

import jax
from jax import numpy as jnp
from jax.scipy import linalg as jsp_linalg
from jax._src import test_util as jtu
from jax.lax import linalg as lax_linalg

jax.config.parse_flags_with_absl()

# Exact second derivatives: the oracles are float64 (Pade expm through
# autodiff, or Richardson-extrapolated central differences), and the generic
# divided differences are accurate to about eps^(2/3) ~ 4e-11 relative.
_EXACT_TOL = 1e-9

# Benzene's Hueckel matrix: eigenvalues -2, -1, -1, 1, 1, 2.
_BENZENE = -(np.roll(np.eye(6), 1, 0) + np.roll(np.eye(6), -1, 0))
_DEGENERATE = np.stack([np.eye(6), np.kron(np.diag([1., 2.]), np.eye(3)),
                        _BENZENE])


def _sym(x):
  return (x + jnp.conj(jnp.swapaxes(x, -1, -2))) / 2


def _random_hermitian(rng, shape, dtype):
  x = rng.standard_normal(shape)
  if np.issubdtype(dtype, np.complexfloating):
    x = x + 1j * rng.standard_normal(shape)
  return ((x + np.conj(np.swapaxes(x, -1, -2))) / 2).astype(dtype)


def _np_funm(f):
  # Oracle: NumPy's eigh in double precision, whatever the dtype under test.
  def funm(a):
    w, v = np.linalg.eigh(a.astype(np.result_type(a.dtype, np.float64)))
    return ((v * f(w)[..., None, :]) @ np.conj(np.swapaxes(v, -1, -2))
            ).astype(a.dtype)
  return funm


def _complex_to_real(loss):
  # jax.hessian wants real inputs: a = x[0] + 1j * x[1].
  return lambda x, w: loss(jax.lax.complex(x[0], x[1]), w)


def _hessian(mode):
  # "fwd_rev" is jax.hessian: jacfwd(jacrev(f)).
  outer, inner = (getattr(jax, "jac" + m) for m in mode.split("_"))
  return lambda f: outer(inner(f))


@lru_cache(maxsize=None)
def _pade_oracle(dtype):
  # Exactly degenerate points, a random one, and eigenvalue gaps of 1e-6,
  # 1e-9 and 1e-13 (where divided differences must not cancel), with the
  # derivatives of stock (Pade) expm, computed once per dtype.
  rng = np.random.RandomState(1)
  q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
  if np.issubdtype(dtype, np.complexfloating):
    q = q @ np.diag(np.exp(1j * rng.uniform(0, 2 * np.pi, 6)))
  points = [*_DEGENERATE, _random_hermitian(rng, (6, 6), dtype)]
  for gap in (1e-6, 1e-9, 1e-13):
    l = np.array([-0.5, 0.5, 0.5 + gap, 0.5 + 2 * gap, 1., 1. + gap])
    points.append((q * l) @ np.conj(q).T)
  a = np.stack(points).astype(dtype)
  w = _random_hermitian(rng, a.shape, dtype)
  loss = lambda a, w: jnp.real(jnp.sum(w * jsp_linalg.expm(_sym(a))))
  x = a
  if np.issubdtype(dtype, np.complexfloating):
    loss, x = _complex_to_real(loss), np.stack([a.real, a.imag], axis=-3)
  grad = jax.jit(jax.vmap(jax.grad(loss)))(x, w)
  hessian = jax.jit(jax.vmap(jax.jacfwd(jax.jacfwd(loss))))(x, w)
  return a, x, w, grad, hessian


def _richardson_derivative(f, x, e, h):
  # Central differences with one Richardson step: error O(h^4) + O(eps / h).
  d = lambda h: (f(x + h * e) - f(x - h * e)) / (2 * h)
  return (4 * d(h / 2) - d(h)) / 3


_cube = lambda x: x ** 3
_FUNCS = {"exp": (jnp.exp, np.exp), "tanh": (jnp.tanh, np.tanh),
          "log": (jnp.log, np.log), "cube": (_cube, _cube)}


class HermitianMatrixFunctionTest(jtu.JaxTestCase):

  @jtu.sample_product(
      name=list(_FUNCS),
      shape=[(1, 1), (4, 4), (2, 3, 3)],
      dtype=jtu.dtypes.floating + jtu.dtypes.complex,
  )
  def testValuesAgainstNumpy(self, name, shape, dtype):
    f, f_np = _FUNCS[name]
    rng = self.rng()
    # Positive definite, with eigenvalues in [1, 5], for log.
    args_maker = lambda: [_random_hermitian(rng, shape, dtype) / shape[-1]
                          + 3 * np.eye(shape[-1], dtype=dtype)]
    fun = lambda a: lax_linalg.funm_hermitian(a, f)
    tol = {np.float32: 1e-4, np.complex64: 1e-4, np.float64: 1e-11,
           np.complex128: 1e-11}
    self._CheckAgainstNumpy(_np_funm(f_np), fun, args_maker, tol=tol)
    self._CompileAndCheck(fun, args_maker, rtol=tol, atol=tol)

  @jtu.sample_product(
      mode=["fwd_rev", "fwd_fwd", "rev_rev", "rev_fwd"],
      dtype=[np.float64, np.complex128],
  )
  @jtu.skip_on_flag("jax_enable_x64", False)
  def testExpDerivativesAgainstPade(self, mode, dtype):
    # First and second derivatives at exactly repeated and nearly repeated
    # eigenvalues, through each composition of forward and reverse mode.
    a, x, w, expected_grad, expected_hessian = _pade_oracle(dtype)
    loss = lambda a, w: jnp.real(jnp.sum(
        w * lax_linalg.funm_hermitian(a, jnp.exp)))
    if np.issubdtype(dtype, np.complexfloating):
      loss = _complex_to_real(loss)
    actual_grad, actual_hessian = jax.jit(jax.vmap(
        lambda x, w: (jax.grad(loss)(x, w),
                      _hessian(mode)(partial(loss, w=w))(x))))(x, w)
    self.assertAllClose((actual_grad, actual_hessian),
                        (expected_grad, expected_hessian), atol=_EXACT_TOL,
                        rtol=_EXACT_TOL)

  @jtu.sample_product(name=["tanh", "log", "cube"])
  @jtu.skip_on_flag("jax_enable_x64", False)
  def testDerivativesAtDegenerateAgainstFiniteDifferences(self, name):
    f = partial(lax_linalg.funm_hermitian, func=_FUNCS[name][0])
    rng = self.rng()
    a = _DEGENERATE + 3 * np.eye(6)  # Positive definite, for log.
    e = _random_hermitian(rng, a.shape, np.float64)
    w = rng.standard_normal(a.shape)
    loss = lambda a, w: jnp.sum(w * f(a))
    grad = jax.jit(jax.vmap(jax.grad(loss)))
    # First order: JVP and VJP against differences of values.
    expected = _richardson_derivative(jax.jit(f), a, e, 1e-3)
    jvp = jax.jit(lambda a, e: jax.jvp(f, (a,), (e,))[1])
    self.assertAllClose(jvp(a, e), expected, atol=_EXACT_TOL, rtol=_EXACT_TOL)
    self.assertAllClose(np.sum(grad(a, w) * e, axis=(-1, -2)),
                        np.sum(w * expected, axis=(-1, -2)),
                        atol=_EXACT_TOL, rtol=_EXACT_TOL)
    # Second order against differences of the gradient, whose f[x, y] at
    # gaps ~h round by eps |f| / h: over 2h, up to 1e-7 for the cube.
    expected = _richardson_derivative(lambda a: grad(a, w), a, e, 1e-3)
    for mode in ("fwd_rev", "rev_rev", "fwd_fwd"):
      hvp = jax.jit(jax.vmap(lambda a, w, e: jnp.tensordot(
          _hessian(mode)(partial(loss, w=w))(a), e, axes=2)))
      self.assertAllClose(hvp(a, w, e), expected, atol=1e-7, rtol=1e-7,
                          err_msg=mode)

  @jtu.skip_on_flag("jax_enable_x64", False)
  def testCubeAgainstMatmul(self):
    # An exact oracle for three derivative orders: A^3 = A @ A @ A. The third
    # falls back to composition: finite at degeneracy, exact elsewhere.
    w = self.rng().standard_normal((3, 3))
    ours = lambda a: jnp.sum(w * lax_linalg.funm_hermitian(a, _cube))
    matmul = lambda a: jnp.sum(w * (_sym(a) @ _sym(a) @ _sym(a)))
    third = lambda f: jax.jit(jax.jacfwd(jax.jacfwd(jax.jacrev(f))))
    for a in (np.eye(3), np.diag([1., 1., 2.]), np.diag([0.1, 0.7, 1.2])):
      self.assertAllClose(jax.grad(ours)(a), jax.grad(matmul)(a),
                          atol=_EXACT_TOL, rtol=_EXACT_TOL)
      self.assertAllClose(jax.hessian(ours)(a), jax.hessian(matmul)(a),
                          atol=_EXACT_TOL, rtol=_EXACT_TOL)
      self.assertTrue(np.all(np.isfinite(third(ours)(a))))
    self.assertAllClose(third(ours)(a), third(matmul)(a), atol=1e-8, rtol=1e-8)

  @jtu.sample_product(dtype=[np.float64, np.complex128])
  @jtu.skip_on_flag("jax_enable_x64", False)
  def testGradsTransposeAndBatching(self, dtype):
    rng = self.rng()
    f = partial(lax_linalg.funm_hermitian, func=jnp.tanh)
    # tanh'' is odd: at benzene's eigenvalues (-1, -1, 1, ...) a curvature
    # estimate from f'' at symmetric points alone vanishes.
    for a in (_random_hermitian(rng, (4, 4), dtype), _BENZENE.astype(dtype)):
      jtu.check_grads(f, (a,), order=2, modes=["fwd", "rev"], atol=1e-5,
                      rtol=1e-5)
    # The transpose rule against jax.linear_transpose of the JVP.
    e = _random_hermitian(rng, a.shape, dtype)
    ct = _random_hermitian(rng, a.shape, dtype) + rng.standard_normal(a.shape)
    f_t = jax.linear_transpose(lambda e: jax.jvp(f, (a,), (e,))[1], e)
    self.assertAllClose(f_t(ct)[0], jax.vjp(f, a)[1](ct)[0], atol=1e-12,
                        rtol=1e-12)
    # Batch dimensions against vmap.
    a = _random_hermitian(rng, (3, 4, 4), dtype)
    a[0] = np.eye(4) * 1.5  # One degenerate member.
    self.assertAllClose(jax.vmap(f)(a), f(a), atol=1e-12, rtol=1e-12)
    loss = lambda a: jnp.real(jnp.sum(jnp.sin(f(a))))
    batch_loss = lambda a: jnp.sum(jax.vmap(loss)(a))
    self.assertAllClose(jax.jit(jax.vmap(jax.grad(loss)))(a),
                        jax.jit(jax.grad(batch_loss))(a), atol=1e-12,
                        rtol=1e-12)

  @jtu.skip_on_flag("jax_enable_x64", False)
  def testClosures(self):
    # func may close over traced values, also batched ones (temperatures of
    # exp(-beta A)); derivatives with respect to them are not implemented.
    a = _BENZENE + 3 * np.eye(6)
    e = _random_hermitian(self.rng(), a.shape, np.float64)
    f = lambda a, beta: lax_linalg.funm_hermitian(
        a, lambda x: jnp.exp(-beta * x))
    loss = lambda a, beta: jnp.sum(jnp.sin(f(a, beta)))
    grad = jax.grad(loss)
    expected = _np_funm(lambda x: np.exp(-2 * x))(a)
    self.assertAllClose(jax.jit(f)(a, 2.), expected, atol=1e-12, rtol=1e-12)
    expected = jax.grad(
        lambda a: jnp.sum(jnp.sin(jsp_linalg.expm(-2 * _sym(a)))))(a)
    self.assertAllClose(jax.jit(grad)(a, 2.), expected, atol=1e-11,
                        rtol=1e-11)
    with self.assertRaisesRegex(NotImplementedError, "closes over"):
      jax.grad(loss, argnums=1)(a, 2.)
    # vmap over beta of the gradient in a: against a loop, and one member
    # against differences of values.
    betas = np.array([0.5, 1., 2.])
    batched = jax.jit(jax.vmap(grad, (None, 0)))(a, betas)
    self.assertAllClose(batched, np.stack([grad(a, b) for b in betas]),
                        atol=1e-12, rtol=1e-12)
    expected = _richardson_derivative(partial(loss, beta=1.), a, e, 1e-3)
    self.assertAllClose(np.sum(batched[1] * e), expected, atol=_EXACT_TOL,
                        rtol=_EXACT_TOL)
    # Neither func nor what it closes over is kept alive by the call.
    func = lambda x: jnp.exp(-2 * x)
    ref = weakref.ref(func)
    jax.grad(lambda a, f=func: jnp.sum(lax_linalg.funm_hermitian(a, f)))(a)
    del func
    gc.collect()
    self.assertIsNone(ref())

  def testNewFunctionDoesNotRecompile(self):
    # A new lambda per call compiles nothing new, eagerly or under grad.
    a = _BENZENE + 3 * np.eye(6)
    def call():
      lax_linalg.funm_hermitian(a, lambda x: jnp.tanh(x)).block_until_ready()
      jax.grad(lambda a: jnp.sum(lax_linalg.funm_hermitian(
          a, lambda x: jnp.tanh(x))))(a).block_until_ready()
    call()
    with jtu.count_jit_and_pmap_lowerings() as count:
      call()
      call()
    self.assertEqual(count(), 0)

  def testBadInputs(self):
    f = partial(lax_linalg.funm_hermitian, func=jnp.exp)
    for shape in [(3, 4), (3,), (2, 3, 4)]:
      with self.assertRaisesRegex(ValueError, re.escape(f"a.shape={shape}")):
        jax.jit(f)(jnp.ones(shape))
    with self.assertRaisesRegex(TypeError, r"a\.dtype=bool"):
      f(jnp.ones((3, 3), dtype=bool))
    # Integer matrices are promoted, as elsewhere in jax.scipy.linalg.
    self.assertAllClose(f(np.eye(2, dtype=np.int32)), np.e * np.eye(2),
                        check_dtypes=False)
    with self.assertRaisesRegex(TypeError, "func must be a callable"):
      lax_linalg.funm_hermitian(jnp.eye(2), 3.0)
    with self.assertRaisesRegex(TypeError, "func must map a scalar to a"):
      lax_linalg.funm_hermitian(jnp.eye(2), lambda x: jnp.stack([x, x]))


if __name__ == "__main__":
  absltest.main(testLoader=jtu.JaxTestLoader())
