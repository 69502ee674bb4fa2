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

"""jax_patch's JAX options: jax_linalg_degeneracy_rtol and
jax_linalg_gauge_check, from `import jax_patch` on."""

import os
import subprocess
import sys
import threading

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jax_patch


@pytest.fixture(autouse=True)
def _restore():
  was = jax_patch.is_installed()
  yield
  jax.config.update("jax_linalg_degeneracy_rtol", None)
  jax.config.update("jax_linalg_gauge_check", "ignore")
  # Restore what the other tests of the session expect (upstream_tests'
  # conftest installs jax_patch once).
  if was:
    jax_patch.install()
  else:
    jax_patch.uninstall()


def _pair_coefficient():
  # Y_01 of the eigh JVP at diag(1, 1 + 1e-4, 3): 1 / 1e-4 without the
  # band, 0 inside a band of 1e-3 of the spread.
  a = np.diag([1., 1. + 1e-4, 3.]).astype(np.float32)
  e = np.ones((3, 3), np.float32)
  return float(jax.jvp(jnp.linalg.eigh, (a,), (e,))[1][1][0, 1])


def test_options_exist_before_install():
  # A fresh process: import jax_patch, then jax.config.update, then
  # install(); before, the update raised AttributeError (unknown option).
  code = (
      "import jax, jax.numpy as jnp, numpy as np, jax_patch\n"
      "jax.config.update('jax_linalg_degeneracy_rtol', 1e-3)\n"
      "jax.config.update('jax_linalg_gauge_check', 'nan')\n"
      "assert not jax_patch.is_installed()\n"
      "jax_patch.install()\n"
      "a = np.diag([1., 1. + 1e-4, 3.]).astype(np.float32)\n"
      "e = np.ones((3, 3), np.float32)\n"
      "y = jax.jvp(jnp.linalg.eigh, (a,), (e,))[1][1]\n"
      "assert y[0, 1] == 0, y\n")
  subprocess.run([sys.executable, "-c", code], check=True)


def test_environment_variable():
  code = ("import jax, jax_patch\n"
          "print(jax.config.jax_linalg_degeneracy_rtol)\n")
  env = dict(os.environ, JAX_LINALG_DEGENERACY_RTOL="sqrt_eps")
  out = subprocess.run([sys.executable, "-c", code], check=True, env=env,
                       capture_output=True, text=True).stdout
  assert out.strip() == "sqrt_eps"


def test_install_and_scopes():
  jax_patch.install()
  assert _pair_coefficient() == pytest.approx(1e4, rel=1e-2)
  with jax_patch.linalg_degeneracy_rtol(1e-3):
    assert _pair_coefficient() == 0
  with jax_patch.patched(degeneracy_rtol=1e-3):
    assert _pair_coefficient() == 0
  assert _pair_coefficient() != 0
  jax_patch.install(degeneracy_rtol=1e-3)
  assert _pair_coefficient() == 0
  with jax_patch.linalg_degeneracy_rtol(None):  # Back to ties only.
    assert _pair_coefficient() != 0


def test_scopes_are_thread_local():
  jax_patch.install()
  seen = {}
  inside, done = threading.Event(), threading.Event()
  def banded():
    with jax_patch.patched(degeneracy_rtol=1e-3):
      seen["banded"] = _pair_coefficient()
      inside.set()
      done.wait(60)
  t = threading.Thread(target=banded)
  t.start()
  inside.wait(60)
  seen["main"] = _pair_coefficient()
  done.set()
  t.join()
  assert seen["banded"] == 0 and seen["main"] != 0


@pytest.mark.parametrize("bad", [-1e-3, 1.0, "sqrt", float("nan"), True])
def test_bad_values_raise_before_any_change(bad):
  installed = jax_patch.is_installed()
  with pytest.raises(ValueError, match="jax_linalg_degeneracy_rtol"):
    jax_patch.install(degeneracy_rtol=bad)
  assert jax_patch.is_installed() == installed
  with pytest.raises(ValueError, match="jax_linalg_degeneracy_rtol"):
    with jax_patch.patched(degeneracy_rtol=bad):
      pass
  with pytest.raises(ValueError, match="jax_linalg_degeneracy_rtol"):
    jax.config.update("jax_linalg_degeneracy_rtol", bad)


def test_uninstall_keeps_options_without_effect():
  jax_patch.install(degeneracy_rtol=1e-3)
  jax_patch.uninstall()
  # Stock JAX's rule ignores the option: no zero coefficient.
  assert jax.config.jax_linalg_degeneracy_rtol == 1e-3
  assert _pair_coefficient() != 0
