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

"""expm/logm/sqrtm/powm_hermitian, which stay in this package.

Upstream gets funm_hermitian only (upstream_tests/matfun_hermitian_test.py);
these named functions add closed-form divided differences and, for sqrtm and
fractional powers, eigenvalues within rounding of zero taken as zero.
"""

from functools import lru_cache, partial

from absl.testing import absltest
import numpy as np
import scipy.linalg as osp_linalg

import jax
from jax import numpy as jnp
from jax.scipy import linalg as jsp_linalg
from jax._src import test_util as jtu

import jax_patch
from jax_patch.lax import linalg as lax_linalg

jax.config.parse_flags_with_absl()

_was_installed = False


def setUpModule():
  # The oracles are stock JAX (Pade expm) and SciPy; the functions under
  # test run as they do with the package installed.
  global _was_installed
  _was_installed = jax_patch.is_installed()
  jax_patch.install()


def tearDownModule():
  if not _was_installed:
    jax_patch.uninstall()

float_types = jtu.dtypes.floating
complex_types = jtu.dtypes.complex

# Exact second derivatives: the oracles are float64 (Pade expm through
# autodiff, or Richardson-extrapolated central differences).
_EXACT_TOL = 1e-9

_BENZENE = -(np.roll(np.eye(6), 1, 0) + np.roll(np.eye(6), -1, 0))

# Exactly degenerate inputs, by name: A = I, two triple eigenvalues, and
# benzene's Hueckel matrix (eigenvalues -2, -1, -1, 1, 1, 2).
_DEGENERATE = {
    "identity": np.eye(3),
    "kron": np.kron(np.diag([1., 2.]), np.eye(3)),
    "benzene": _BENZENE,
}


def _sym(x):
  return (x + np.conj(np.swapaxes(x, -1, -2))) / 2


def _sym_jnp(x):
  return (x + jnp.conj(jnp.swapaxes(x, -1, -2))) / 2


def _random_hermitian(rng, shape, dtype):
  x = rng.standard_normal(shape)
  if np.issubdtype(dtype, np.complexfloating):
    x = x + 1j * rng.standard_normal(shape)
  return _sym(x).astype(dtype)


def _random_pd(rng, shape, dtype):
  x = _random_hermitian(rng, shape, dtype)
  n = shape[-1]
  return (x @ np.conj(np.swapaxes(x, -1, -2)) / n + np.eye(n)).astype(dtype)


def _pade_expm(a):
  # Oracle: stock expm (Pade, differentiable twice) on the symmetrized input,
  # as the Hermitian functions symmetrize theirs.
  return jsp_linalg.expm(_sym_jnp(a))


def _pade_loss(a, w):
  return jnp.real(jnp.sum(w * _pade_expm(a)))


def _complex_to_real(loss):
  # jax.hessian wants real inputs: differentiate with respect to the real and
  # imaginary parts, stacked as x[0] + 1j * x[1].
  return lambda x, w: loss(jax.lax.complex(x[0], x[1]), w)


def _real_points(a):
  if np.iscomplexobj(a):
    return np.stack([a.real, a.imag], axis=-3)
  return a


def _hessian(mode):
  return {
      "fwd_rev": jax.hessian,  # jacfwd(jacrev(f))
      "fwd_fwd": lambda f: jax.jacfwd(jax.jacfwd(f)),
      "rev_rev": lambda f: jax.jacrev(jax.jacrev(f)),
      "rev_fwd": lambda f: jax.jacrev(jax.jacfwd(f)),
  }[mode]


def _exactly_and_nearly_degenerate_points(dtype):
  # Exactly degenerate points, a random one, and eigenvalue gaps of 1e-6,
  # 1e-9 and 1e-13 (where divided differences must not cancel), all 6 x 6.
  # One fixed set, shared by the tests that use _pade_oracle, so that the
  # (slow) Pade derivatives compile once per dtype.
  rng = np.random.RandomState(1)
  q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
  if np.issubdtype(dtype, np.complexfloating):
    q = q @ np.diag(np.exp(1j * rng.uniform(0, 2 * np.pi, 6)))
  points = [np.eye(6), np.kron(np.diag([1., 2.]), np.eye(3)), _BENZENE,
            _random_hermitian(rng, (6, 6), dtype)]
  for gap in (1e-6, 1e-9, 1e-13):
    l = np.array([-0.5, 0.5, 0.5 + gap, 0.5 + 2 * gap, 1., 1. + gap])
    points.append((q * l) @ np.conj(q).T)
  a = np.stack(points).astype(dtype)
  w = _random_hermitian(rng, a.shape, dtype)
  return a, w


@lru_cache(maxsize=None)
def _pade_oracle(dtype):
  # Tracing and compiling derivatives of the Pade expm is the slowest part of
  # these tests: do it once per dtype, batched over all points.
  a, w = _exactly_and_nearly_degenerate_points(dtype)
  loss = _pade_loss
  if np.issubdtype(dtype, np.complexfloating):
    loss = _complex_to_real(loss)
  x = _real_points(a)
  grad = jax.jit(jax.vmap(jax.grad(loss)))(x, w)
  hessian = jax.jit(jax.vmap(jax.jacfwd(jax.jacfwd(loss))))(x, w)
  return a, w, grad, hessian


def _scipy_on_batch(f, a, dtype):
  # The oracle runs in double precision whatever the dtype under test (SciPy's
  # logm warns that it is inaccurate in single precision).
  a = np.asarray(a).astype(np.result_type(a.dtype, np.float64))
  out = np.stack([f(x) for x in a.reshape((-1,) + a.shape[-2:])])
  return out.reshape(a.shape).astype(dtype)


def _np_powm(p):
  return lambda x: osp_linalg.fractional_matrix_power(x, p)


# name -> (jax function, scipy reference, input generator)
_FUNCTIONS = {
    "expm": (lambda a: lax_linalg.expm_hermitian(a), osp_linalg.expm,
             _random_hermitian),
    "logm": (lambda a: lax_linalg.logm_hermitian(a), osp_linalg.logm,
             _random_pd),
    "sqrtm": (lambda a: lax_linalg.sqrtm_hermitian(a), osp_linalg.sqrtm,
              _random_pd),
    "powm": (lambda a: lax_linalg.powm_hermitian(a, 0.3), _np_powm(0.3),
             _random_pd),
    "powm_int": (lambda a: lax_linalg.powm_hermitian(a, -2), _np_powm(-2),
                 _random_pd),
}


def _richardson_derivative(f, x, e, h):
  # Central differences with one Richardson step: error O(h^4) + O(eps / h).
  d = lambda h: (f(x + h * e) - f(x - h * e)) / (2 * h)
  return (4 * d(h / 2) - d(h)) / 3


class HermitianMatrixFunctionTest(jtu.JaxTestCase):

  @jtu.sample_product(
      name=list(_FUNCTIONS),
      shape=[(1, 1), (4, 4), (2, 3, 3)],
      dtype=float_types + complex_types,
  )
  def testValuesAgainstScipy(self, name, shape, dtype):
    f, f_np, make = _FUNCTIONS[name]
    rng = self.rng()
    args_maker = lambda: [make(rng, shape, dtype)]
    tol = {np.float32: 1e-4, np.complex64: 1e-4, np.float64: 1e-11,
           np.complex128: 1e-11}
    self._CheckAgainstNumpy(lambda a: _scipy_on_batch(f_np, a, dtype), f,
                            args_maker, tol=tol)
    self._CompileAndCheck(f, args_maker, rtol=tol, atol=tol)

  @jtu.sample_product(
      mode=["fwd_rev", "fwd_fwd", "rev_rev", "rev_fwd"],
      dtype=[np.float64, np.complex128],
  )
  @jtu.skip_on_flag("jax_enable_x64", False)
  def testExpmDerivativesAgainstPade(self, mode, dtype):
    # First and second derivatives at exactly repeated and nearly repeated
    # eigenvalues, through each composition of forward and reverse mode.
    a, w, expected_grad, expected_hessian = _pade_oracle(dtype)
    loss = lambda a, w: jnp.real(jnp.sum(w * lax_linalg.expm_hermitian(a)))
    if np.issubdtype(dtype, np.complexfloating):
      loss = _complex_to_real(loss)
    x = _real_points(a)
    self.assertAllClose(jax.vmap(lax_linalg.expm_hermitian)(a),
                        _scipy_on_batch(osp_linalg.expm, a, dtype),
                        atol=_EXACT_TOL, rtol=_EXACT_TOL)
    grad_and_hessian = jax.jit(jax.vmap(
        lambda x, w: (jax.grad(loss)(x, w),
                      _hessian(mode)(partial(loss, w=w))(x))))
    actual_grad, actual_hessian = grad_and_hessian(x, w)
    self.assertAllClose(actual_grad, expected_grad, atol=_EXACT_TOL,
                        rtol=_EXACT_TOL)
    self.assertAllClose(actual_hessian, expected_hessian, atol=_EXACT_TOL,
                        rtol=_EXACT_TOL)

  @jtu.skip_on_flag("jax_enable_x64", False)
  def testExpmGradAtIdentityIsEOnes(self):
    # The motivating example: d sum(e^A) at A = I is e * ones, which
    # no eigenvector rule that drops degenerate pairs can produce.
    g = jax.grad(lambda a: jnp.sum(lax_linalg.expm_hermitian(a)))(jnp.eye(3))
    self.assertAllClose(g, np.e * np.ones((3, 3)), atol=1e-14, rtol=1e-14)

  @jtu.sample_product(name=["logm", "sqrtm", "powm", "powm_int"])
  @jtu.skip_on_flag("jax_enable_x64", False)
  def testDerivativesAtDegenerateAgainstFiniteDifferences(self, name):
    # Exactly degenerate positive definite points (I, kron, benzene + 3 I).
    f = _FUNCTIONS[name][0]
    rng = self.rng()
    a = np.stack([np.eye(6), np.kron(np.diag([1., 2.]), np.eye(3)),
                  _BENZENE]) + 3 * np.eye(6)
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
    # Second order: the compositions against differences of the gradient.
    expected = _richardson_derivative(lambda a: grad(a, w), a, e, 1e-3)
    for mode in ("fwd_rev", "rev_rev", "fwd_fwd"):
      hvp = jax.jit(jax.vmap(lambda a, w, e: jnp.tensordot(
          _hessian(mode)(partial(loss, w=w))(a), e, axes=2)))
      self.assertAllClose(hvp(a, w, e), expected, atol=_EXACT_TOL,
                          rtol=_EXACT_TOL, err_msg=mode)

  @jtu.skip_on_flag("jax_enable_x64", False)
  def testIntegerPowerAgainstMatmul(self):
    # An exact oracle for both derivative orders: A^3 = A @ A @ A.
    a = _BENZENE
    w = self.rng().standard_normal(a.shape)
    ours = lambda a: jnp.sum(w * lax_linalg.powm_hermitian(a, 3))
    cube = lambda a: _sym_jnp(a) @ _sym_jnp(a) @ _sym_jnp(a)
    matmul = lambda a: jnp.sum(w * cube(a))
    self.assertAllClose(jax.grad(ours)(a), jax.grad(matmul)(a),
                        atol=_EXACT_TOL, rtol=_EXACT_TOL)
    self.assertAllClose(jax.hessian(ours)(a), jax.hessian(matmul)(a),
                        atol=_EXACT_TOL, rtol=_EXACT_TOL)

  @jtu.sample_product(
      name=list(_FUNCTIONS),
      point=["random", "benzene"],
      dtype=[np.float64, np.complex128],
  )
  @jtu.skip_on_flag("jax_enable_x64", False)
  def testGrads(self, name, point, dtype):
    f, _, make = _FUNCTIONS[name]
    rng = self.rng()
    if point == "random":
      a = make(rng, (4, 4), dtype)
    else:
      a = (_DEGENERATE[point] + 3 * np.eye(len(_DEGENERATE[point])))
      a = a.astype(dtype)
    jtu.check_grads(f, (a,), order=2, modes=["fwd", "rev"], atol=1e-5,
                    rtol=1e-5)

  @jtu.skip_on_flag("jax_enable_x64", False)
  def testThirdDerivativeIsFinite(self):
    # Third derivatives fall back to composition: finite at degeneracy, and
    # exact where the eigenvalues are distinct (oracle: A^3 = A @ A @ A).
    third = lambda f: jax.jit(jax.jacfwd(jax.jacfwd(jax.jacrev(f))))
    f = lambda a: jnp.sum(lax_linalg.powm_hermitian(a, 3))
    self.assertTrue(np.all(np.isfinite(third(f)(jnp.eye(3)))))
    a = np.diag([0.1, 0.7, 1.2])
    cube = lambda a: _sym_jnp(a) @ _sym_jnp(a) @ _sym_jnp(a)
    expected = third(lambda a: jnp.sum(cube(a)))(a)
    self.assertAllClose(third(f)(a), expected, atol=1e-8, rtol=1e-8)
    expm_third = third(lambda a: jnp.sum(lax_linalg.expm_hermitian(a)))
    self.assertTrue(np.all(np.isfinite(expm_third(jnp.eye(3)))))

  @jtu.sample_product(dtype=[np.float64, np.complex128])
  @jtu.skip_on_flag("jax_enable_x64", False)
  def testTransposeIsAdjoint(self, dtype):
    # <ct, J e> = <J^T ct, e>, with J the Frechet derivative at a degenerate
    # point, J^T from reverse mode (the transpose rule) and JAX's pairing
    # <x, y> = Re sum(x * y) (J is only R-linear: the input is symmetrized).
    rng = self.rng()
    a = _BENZENE.astype(dtype)
    e = _random_hermitian(rng, a.shape, dtype)
    ct = _random_hermitian(rng, a.shape, dtype) + rng.standard_normal(a.shape)
    f = lax_linalg.expm_hermitian
    _, f_vjp = jax.vjp(f, a)
    jvp_e = jax.jvp(f, (a,), (e,))[1]
    self.assertAllClose(np.real(np.sum(ct * jvp_e)),
                        np.real(np.sum(f_vjp(ct)[0] * e)), atol=1e-12,
                        rtol=1e-12)
    f_t = jax.linear_transpose(lambda e: jax.jvp(f, (a,), (e,))[1], e)
    self.assertAllClose(f_t(ct)[0], f_vjp(ct)[0], atol=1e-12, rtol=1e-12)

  @jtu.sample_product(
      name=["expm", "sqrtm"],
      dtype=[np.float64, np.complex128],
  )
  @jtu.skip_on_flag("jax_enable_x64", False)
  def testBatchedAndVmap(self, name, dtype):
    f, _, make = _FUNCTIONS[name]
    rng = self.rng()
    a = make(rng, (3, 4, 4), dtype)
    a[0] = np.eye(4) * 1.5  # One degenerate member.
    self.assertAllClose(jax.vmap(f)(a), f(a), atol=1e-12, rtol=1e-12)
    loss = lambda a: jnp.real(jnp.sum(jnp.sin(f(a))))
    batch_loss = lambda a: jnp.sum(jax.vmap(loss)(a))
    self.assertAllClose(jax.jit(jax.vmap(jax.grad(loss)))(a),
                        jax.jit(jax.grad(batch_loss))(a), atol=1e-12,
                        rtol=1e-12)
    e = make(rng, (3, 4, 4), dtype)
    batched_hvp = jax.jit(lambda a, e: jax.jvp(jax.grad(batch_loss), (a,),
                                               (e,))[1])
    vmapped_hvp = jax.jit(jax.vmap(lambda a, e: jax.jvp(jax.grad(loss), (a,),
                                                        (e,))[1]))
    self.assertAllClose(batched_hvp(a, e), vmapped_hvp(a, e), atol=1e-11,
                        rtol=1e-11)

  @jtu.skip_on_flag("jax_enable_x64", False)
  def testJit(self):
    rng = self.rng()
    a = _random_pd(rng, (5, 5), np.float64)
    for f, _, _ in _FUNCTIONS.values():
      self.assertAllClose(jax.jit(f)(a), f(a), atol=1e-13, rtol=1e-13)
      g = jax.grad(lambda a: jnp.sum(f(a) ** 2))
      self.assertAllClose(jax.jit(g)(a), g(a), atol=1e-12, rtol=1e-12)

  @jtu.sample_product(name=list(_FUNCTIONS))
  @jtu.skip_on_flag("jax_enable_x64", False)
  def testFloat32(self, name):
    # float32 carries ~1e-7 relative error per operation; eigh and the
    # divided differences keep it within a small multiple of n * eps32.
    f, _, _ = _FUNCTIONS[name]
    a64 = _BENZENE + 3 * np.eye(6)
    a32 = a64.astype(np.float32)
    w = self.rng().standard_normal(a64.shape)
    loss = lambda a: jnp.sum(w.astype(a.dtype) * f(a))
    self.assertEqual(f(a32).dtype, np.float32)
    self.assertAllClose(f(a32), f(a64).astype(np.float32), atol=2e-5,
                        rtol=2e-5)
    derivatives = lambda a: (jax.grad(loss)(a), jax.hessian(loss)(a))
    self.assertAllClose(jax.jit(derivatives)(a32),
                        jax.tree.map(lambda x: x.astype(np.float32),
                                     jax.jit(derivatives)(a64)),
                        atol=1e-4, rtol=1e-4)

  def testBadInputs(self):
    for f in (lax_linalg.expm_hermitian, lax_linalg.logm_hermitian,
              lax_linalg.sqrtm_hermitian,
              partial(lax_linalg.powm_hermitian, p=0.5)):
      with self.assertRaisesRegex(ValueError, r"a\.shape=\(3, 4\)"):
        f(jnp.ones((3, 4)))
      with self.assertRaisesRegex(ValueError, r"a\.shape=\(3,\)"):
        f(jnp.ones(3))
      with self.assertRaisesRegex(ValueError, r"a\.shape=\(2, 3, 4\)"):
        jax.jit(f)(jnp.ones((2, 3, 4)))
      with self.assertRaisesRegex(TypeError, r"a\.dtype=bool"):
        f(jnp.ones((3, 3), dtype=bool))
    # Integer matrices are promoted, as elsewhere in jax.scipy.linalg.
    self.assertAllClose(lax_linalg.expm_hermitian(np.eye(2, dtype=np.int32)),
                        np.e * np.eye(2), check_dtypes=False)
    with self.assertRaisesRegex(TypeError, "p must be a finite real"):
      lax_linalg.powm_hermitian(jnp.eye(2), jnp.array([0.5, 1.5]))
    with self.assertRaisesRegex(TypeError, "p must be a finite real"):
      lax_linalg.powm_hermitian(jnp.eye(2), float("nan"))


if __name__ == "__main__":
  absltest.main(testLoader=jtu.JaxTestLoader())
