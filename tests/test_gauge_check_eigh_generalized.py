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

"""The gauge check (jax_linalg_gauge_check, package-only) on the generalized
eigenproblem eigh(a, b): its test cases come from upstream_tests/."""

import importlib.util
import pathlib

from absl.testing import absltest
import numpy as np
import scipy.linalg as osp_linalg

import jax
from jax.experimental import checkify
import jax.numpy as jnp
from jax.scipy import linalg as jsp_linalg
from jax._src import config
from jax._src import test_util as jtu

import jax_patch

_spec = importlib.util.spec_from_file_location(
    "_eigh_generalized_cases", pathlib.Path(__file__).resolve().parent.parent
    / "upstream_tests" / "eigh_generalized_test.py")
_cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_cases)
_methane, _clusters = _cases._methane, _cases._clusters

_was_installed = False


def setUpModule():
  # Run alone or first, nothing else has installed the patch.
  global _was_installed
  _was_installed = jax_patch.is_installed()
  jax_patch.install()


def tearDownModule():
  if not _was_installed:
    jax_patch.uninstall()


float_types = jtu.dtypes.floating
complex_types = jtu.dtypes.complex


class EighGeneralizedGaugeCheckTest(jtu.JaxTestCase):

  @jtu.sample_product(dtype=float_types + complex_types, type=[1, 2, 3])
  def testGaugeCheck(self, dtype, type):
    # One eigenvector of a threefold level depends on the basis eigh picks
    # in it; the level's projector (in the b metric) does not.
    h, s = _methane(dtype)
    w = osp_linalg.eigh(h, s, type=type, eigvals_only=True)
    labels = _clusters(w)
    level = np.flatnonzero(np.bincount(labels) == 3)[0]
    idx = np.flatnonzero(labels == level)
    weights = self.rng().randn(8, 8).astype(dtype)
    def one_vector(a, b):
      v = jsp_linalg.eigh(a, b, type=type)[1][:, idx[0]]
      return jnp.real(jnp.sum(weights * jnp.outer(v, jnp.conj(v))))
    def projector(a, b):
      v = jsp_linalg.eigh(a, b, type=type)[1][:, idx]
      return jnp.real(jnp.sum(weights * (v @ jnp.conj(v).T)))
    grad = lambda f: jax.jit(jax.grad(f, (0, 1)))
    with config.linalg_gauge_check("raise"):
      # Under jit, "raise" is a checkify.check.
      err, gs = checkify.checkify(grad(projector))(h, s)
      self.assertIsNone(err.get())
      for g in gs:
        self.assertTrue(np.all(np.isfinite(g)))
      err, _ = checkify.checkify(grad(one_vector))(h, s)
      self.assertIn("depends on the arbitrary basis", err.get())
    with config.linalg_gauge_check("nan"):
      for g in grad(one_vector)(h, s):
        self.assertTrue(np.any(np.isnan(g)))
      for g in grad(projector)(h, s):
        self.assertTrue(np.all(np.isfinite(g)))
    for g in grad(one_vector)(h, s):  # "ignore": the gauge-fixed gradient.
      self.assertTrue(np.all(np.isfinite(g)))


if __name__ == "__main__":
  absltest.main(testLoader=jtu.JaxTestLoader())
