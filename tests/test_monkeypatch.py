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

"""install(), uninstall(), patched(), is_installed() and the CLI."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import jax
import jax.numpy as jnp
from jax._src.interpreters import ad
from jax._src.lax import linalg as lax_linalg

import jax_patch
from jax_patch._src import compat
from jax_patch import monkeypatch
from jax_patch._src.lax import linalg as ours_lax


@pytest.fixture(autouse=True)
def _restore_state():
  was = jax_patch.is_installed()
  jax_patch.install()  # Registers jax_linalg_gauge_check.
  mode = jax.config.jax_linalg_gauge_check
  jax_patch.uninstall()
  yield
  jax_patch.uninstall()
  jax.config.update("jax_linalg_gauge_check", mode)
  if was:
    jax_patch.install()


def _snapshot():
  mods = [lax_linalg, jax.lax.linalg, jax.scipy.linalg,
          sys.modules["jax._src.scipy.linalg"], sys.modules["jax._src.config"]]
  return ([dict(vars(m)) for m in mods],
          ad.primitive_jvps[lax_linalg.eigh_p],
          ad.primitive_jvps[lax_linalg.svd_p])


def _projector_grad(a):
  def loss(a):
    _, v = jnp.linalg.eigh(a)
    return jnp.sum(v[:, :2] @ v[:, :2].T * jnp.arange(9.).reshape(3, 3))
  return jax.grad(loss)(a)


def test_import_changes_nothing():
  code = textwrap.dedent("""
      import jax, jax.scipy.linalg
      from jax._src.interpreters import ad
      from jax._src.lax import linalg
      state = lambda: (dict(vars(linalg)), dict(vars(jax.lax.linalg)),
                       dict(vars(jax.scipy.linalg)),
                       ad.primitive_jvps[linalg.eigh_p],
                       ad.primitive_jvps[linalg.svd_p])
      before = state()
      import jax_patch, jax_patch.lax.linalg, jax_patch.scipy.linalg
      after = state()
      assert before == after, "import changed JAX"
      assert not hasattr(jax.lax.linalg, "sylvester_solve")
      # The one thing import does: register jax_patch's options, so that
      # jax.config.update works before install(). They have no effect on
      # stock JAX's rules.
      assert jax.config.values["jax_linalg_gauge_check"] == "ignore"
      assert jax.config.values["jax_linalg_degeneracy_rtol"] is None
      print("unchanged")
  """)
  out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True, check=True)
  assert "unchanged" in out.stdout


def test_install_uninstall_restores_exactly():
  before = _snapshot()
  jax_patch.install()
  assert jax_patch.is_installed()
  assert jax.lax.linalg.sylvester_solve is jax_patch.lax.linalg.sylvester_solve
  assert (jax.lax.linalg.sylvester_solve_p
          is jax_patch.lax.linalg.sylvester_solve_p)
  assert (jax.scipy.linalg.solve_sylvester.__module__
          != before[0][2]["solve_sylvester"].__module__)
  assert hasattr(jax.lax.linalg, "expm_hermitian")
  assert not hasattr(jax.scipy.linalg, "expm_hermitian")
  assert ad.primitive_jvps[lax_linalg.eigh_p] is not before[1]
  assert ad.primitive_jvps[lax_linalg.svd_p] is not before[2]
  assert (ad.primitive_jvps[lax_linalg.svd_p]
          is lax_linalg._svd_jvp_rule is ours_lax._svd_jvp_rule)
  jax_patch.install()  # Idempotent: nothing is saved twice.
  jax_patch.uninstall()
  assert not jax_patch.is_installed()
  assert _snapshot() == before
  jax_patch.uninstall()  # Idempotent too.
  assert _snapshot() == before


def test_patched_context_manager_and_gauge_mode():
  before = _snapshot()
  with jax_patch.patched(gauge_check="raise"):
    assert jax_patch.is_installed()
    assert jax.config.jax_linalg_gauge_check == "raise"
    with jax_patch.patched():
      assert jax_patch.is_installed()
    assert jax_patch.is_installed()  # The outer scope is still installed.
  assert not jax_patch.is_installed()
  assert jax.config.jax_linalg_gauge_check == "ignore"
  assert _snapshot() == before


def test_scipy_eigh_is_replaced_and_numpy_eigh_is_not():
  stock_scipy_eigh, numpy_eigh = jax.scipy.linalg.eigh, jnp.linalg.eigh
  a, b = np.diag([1., 2.]), np.diag([2., 8.])
  try:  # Stock JAX implements eigh(a, b) from 0.12 on; before, it raises.
    stock = jax.scipy.linalg.eigh(a, b, eigvals_only=True)
    np.testing.assert_allclose(stock, [0.25, 0.5])
  except NotImplementedError:
    assert compat.jax_version() < (0, 12)
  jax_patch.install()
  assert jax.scipy.linalg.eigh is jax_patch.scipy.linalg.eigh
  assert (sys.modules["jax._src.scipy.linalg"].eigh
          is jax_patch.scipy.linalg.eigh)
  assert jnp.linalg.eigh is numpy_eigh
  np.testing.assert_allclose(
      jax.scipy.linalg.eigh(a, b, eigvals_only=True), [0.25, 0.5])
  jax_patch.uninstall()
  assert jax.scipy.linalg.eigh is stock_scipy_eigh


def _polar_grad(a):
  def loss(a):
    u, _, vh = jnp.linalg.svd(a)
    return jnp.sum(u @ vh * jnp.arange(9.).reshape(3, 3))
  return jax.grad(loss)(a)


@pytest.mark.parametrize("grad", [_projector_grad, _polar_grad])
def test_install_clears_caches_for_already_jitted_functions(grad):
  a = np.diag([1., 1., 2.]).astype(np.float32)
  f = jax.jit(grad)
  assert np.isnan(np.asarray(f(a))).any()  # Stock rule: NaN.
  jax_patch.install()
  assert np.all(np.isfinite(np.asarray(f(a))))
  jax_patch.uninstall()
  assert np.isnan(np.asarray(f(a))).any()


def test_unsupported_version_is_refused(monkeypatch_):
  monkeypatch_.setattr(jax, "__version__", "0.9.3")
  with pytest.raises(RuntimeError,
                     match=r"needs JAX 0\.10\.0 or newer .*found jax 0\.9\.3"):
    jax_patch.install()
  assert not jax_patch.is_installed()


@pytest.fixture
def monkeypatch_(monkeypatch):
  return monkeypatch


def test_bad_gauge_mode():
  with pytest.raises(ValueError):
    jax_patch.install(gauge_check="sometimes")
  assert not jax_patch.is_installed()


def test_public_names_are_the_reexports():
  assert monkeypatch._public_names(jax_patch.lax.linalg) == [
      "expm_hermitian", "funm_hermitian", "logm_hermitian", "powm_hermitian",
      "sqrtm_hermitian", "sylvester_solve", "sylvester_solve_p",
      "triangular_sylvester_solve_p"]


# What stock JAX gives in two of the demo's cases, measured on each release
# the suite ran on (docs/versions.md): the benzene reverse-mode derivative
# (reference -1.533504658) and the SVD polar factor's (reference
# 0.6273110139). The polar factor's is NaN where the computed singular values
# of the cluster tie exactly (0.10.2) and finite but wrong where they do not.
STOCK_IN_DEMO = {
    "0.10.2": ("-1.913791311", "nan"),
    "0.11.2": ("-1.913791311", "0.008100481515"),
    "0.12.1": ("-1.848138717", "-0.9201159351"),
}


def test_cli_demo_runs():
  out = subprocess.run([sys.executable, "-m", "jax_patch", "demo"],
                       capture_output=True, text=True, check=True,
                       timeout=600)
  text = out.stdout
  assert text.startswith(f"jax {jax.__version__}, jax_patch ")
  assert f"(stock JAX below is jax {jax.__version__}, as measured now)" in (
      text.splitlines()[0])
  # The seed's benzene case: ours is right in both modes.
  assert "benzene" in text
  assert text.count("jax_patch : -1.533504658") == 2
  benzene = text[text.index("reverse mode (grad)"):].splitlines()[1]
  # The SVD section's first case: ours equal to the central difference and
  # the closed form (to the 10 digits printed).
  lines = text[text.index("(the polar factor) at singular values"):]
  stock, ours, reference = lines.splitlines()[1:4]
  value = ours.split(" : ")[1]
  assert reference.split(" : ")[1].split(" (")[0] == value
  assert f"{value} (closed form)" in reference
  # The eig section: ours, forward and reverse, equal to the Richardson
  # central difference of SciPy's eig to 1e-8 relative (the printed 10
  # digits, and the difference's error of about 1e-10 here); stock's
  # forward derivative of the first case is off by more than 1%.
  eig_lines = text[text.index("spectral projector: jvp, grad"):].split(
      "\n\n")[0].splitlines()
  rows = [i for i, l in enumerate(eig_lines) if l.startswith("    jax_patch")]
  assert len(rows) == 5
  for i in rows:
    ours = [float(x) for x in eig_lines[i].split(" : ")[1].split(", ")]
    ref = float(eig_lines[i + 1].split(" : ")[1].split(" (")[0])
    np.testing.assert_allclose(ours, [ref, ref], rtol=1e-8)
  stock_eig = float(eig_lines[rows[0] - 1].split(" : ")[1].split(", ")[0])
  ref_eig = float(eig_lines[rows[0] + 1].split(" : ")[1].split(" (")[0])
  assert abs(stock_eig / ref_eig - 1) > 1e-2
  # Stock JAX, on the releases where it was measured: wrong in both cases.
  if jax.__version__ in STOCK_IN_DEMO:
    assert (benzene.split(" : ")[1], stock.split(" : ")[1]) == (
        STOCK_IN_DEMO[jax.__version__])


def test_cli_rejects_unknown_command():
  out = subprocess.run([sys.executable, "-m", "jax_patch", "nope"],
                       capture_output=True, text=True)
  assert out.returncode == 2
