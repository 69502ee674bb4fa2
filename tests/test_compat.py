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

"""Which JAX install() patches: refused, warned about, or patched silently.

The version and the internals are mocked; the real ones are what the rest of
the suite runs on (docs/versions.md).
"""

import warnings

import pytest

import jax
from jax._src.interpreters import ad
from jax._src.lax import linalg as lax_linalg

import jax_patch
from jax_patch._src import compat
from jax_patch._src.lax import linalg as ours_lax


@pytest.fixture(autouse=True)
def _restore_state():
  was = jax_patch.is_installed()
  jax_patch.uninstall()
  yield
  jax_patch.uninstall()
  if was:
    jax_patch.install()


def _newer():
  major, minor, _ = compat.NEWEST_TESTED
  return f"{major}.{minor + 1}.0"


@pytest.mark.parametrize("version, expected", [
    ("0.10.2", (0, 10, 2)), ("0.12.0.1", (0, 12, 0)),
    ("0.11.2rc1", (0, 11, 2)), ("0.13.0.dev20260801", (0, 13, 0))])
def test_jax_version(monkeypatch, version, expected):
  monkeypatch.setattr(jax, "__version__", version)
  assert compat.jax_version() == expected


def test_installed_jax_passes_the_checks_without_a_warning():
  problems, checked = compat.internals_problems()
  assert problems == []
  assert any("_eigh_jvp_rule(algorithm, lower, sort_eigenvalues, "
             "subset_by_index)" in c for c in checked)
  assert any("_svd_jvp_rule(" in c for c in checked)
  with warnings.catch_warnings():
    warnings.simplefilter("error")
    jax_patch.install()
  assert ad.primitive_jvps[lax_linalg.eigh_p] is ours_lax._eigh_jvp_rule


def test_older_than_0_10_is_refused(monkeypatch):
  stock = ad.primitive_jvps[lax_linalg.eigh_p]
  monkeypatch.setattr(jax, "__version__", "0.9.3")
  with pytest.raises(RuntimeError, match=r"needs JAX 0\.10\.0 or newer .*"
                     r"found jax 0\.9\.3\. Upgrade JAX"):
    jax_patch.install()
  assert not jax_patch.is_installed()
  assert ad.primitive_jvps[lax_linalg.eigh_p] is stock


def test_newer_release_is_patched_with_a_warning(monkeypatch):
  monkeypatch.setattr(jax, "__version__", _newer())
  with pytest.warns(compat.UntestedJaxWarning) as record:
    jax_patch.install()
  message = str(record[0].message)
  assert f"jax {_newer()} is newer" in message
  assert "ad.primitive_jvps[eigh_p] is jax._src.lax.linalg._eigh_jvp_rule(" in (
      message)
  assert "ad.primitive_jvps[svd_p] is jax._src.lax.linalg._svd_jvp_rule(" in (
      message)
  assert jax_patch.is_installed()
  assert ad.primitive_jvps[lax_linalg.eigh_p] is ours_lax._eigh_jvp_rule
  assert ad.primitive_jvps[lax_linalg.svd_p] is ours_lax._svd_jvp_rule


def _stock_eigh_rule_with(monkeypatch, rule):
  """Makes `rule` JAX's registered, module-level eigh JVP rule."""
  monkeypatch.setattr(lax_linalg, "_eigh_jvp_rule", rule)
  monkeypatch.setitem(ad.primitive_jvps, lax_linalg.eigh_p, rule)


def _assert_refused(match):
  stock = dict(ad.primitive_jvps)
  with pytest.raises(RuntimeError, match=match) as info:
    jax_patch.install()
  assert "so it refuses. Use a JAX release it was tested on" in str(
      info.value)
  assert not jax_patch.is_installed()
  assert ad.primitive_jvps == stock


@pytest.mark.parametrize("newer", [False, True])
def test_new_primitive_parameter_is_refused(monkeypatch, newer):
  if newer:
    monkeypatch.setattr(jax, "__version__", _newer())
  def rule(primals, tangents, *, lower, sort_eigenvalues, subset_by_index,
           algorithm, symmetrize_input):
    del primals, tangents, lower, sort_eigenvalues, subset_by_index
    del algorithm, symmetrize_input
  _stock_eigh_rule_with(monkeypatch, rule)
  with warnings.catch_warnings():
    warnings.simplefilter("error")  # A refusal, not a warning.
    _assert_refused(r"jax._src.lax.linalg._eigh_jvp_rule has parameters "
                    r"\['symmetrize_input'\] that jax_patch's does not take")


def test_removed_primitive_parameter_is_refused(monkeypatch):
  def rule(primals, tangents, *, lower, sort_eigenvalues, subset_by_index):
    del primals, tangents, lower, sort_eigenvalues, subset_by_index
  _stock_eigh_rule_with(monkeypatch, rule)
  _assert_refused(r"lacks parameters \['algorithm'\] that jax_patch's needs")


def test_registered_rule_that_is_not_the_module_rule_is_refused(monkeypatch):
  def wrapped(primals, tangents, **params):
    return lax_linalg._svd_jvp_rule(primals, tangents, **params)
  monkeypatch.setitem(ad.primitive_jvps, lax_linalg.svd_p, wrapped)
  _assert_refused(r"ad.primitive_jvps\[svd_p\] is .*wrapped.*, not "
                  r"jax._src.lax.linalg._svd_jvp_rule")


def test_new_scipy_argument_is_refused(monkeypatch):
  stock = jax.scipy.linalg.solve_sylvester
  def solve_sylvester(A, B, C, *, method="schur", tol=1e-8, assume_a=None):
    del assume_a
    return stock(A, B, C, method=method, tol=tol)
  monkeypatch.setattr(jax.scipy.linalg, "solve_sylvester", solve_sylvester)
  _assert_refused(r"jax.scipy.linalg.solve_sylvester has parameters "
                  r"\['assume_a'\]")


def test_install_when_installed_checks_nothing(monkeypatch):
  # install() replaces nothing more once installed, so a registry changed
  # since (tests/test_fuzz.py swaps the stock rule back in) is not refused.
  jax_patch.install()
  monkeypatch.setitem(ad.primitive_jvps, lax_linalg.eigh_p, lambda *a: a)
  jax_patch.install()
  assert jax_patch.is_installed()
  monkeypatch.undo()
  jax_patch.uninstall()
  assert ad.primitive_jvps[lax_linalg.eigh_p] is lax_linalg._eigh_jvp_rule
  monkeypatch.setitem(ad.primitive_jvps, lax_linalg.eigh_p, lambda *a: a)
  _assert_refused(r"ad.primitive_jvps\[eigh_p\] is <function")


def test_check_runs_once_under_the_install_lock(monkeypatch):
  # Outside the lock, it could see another thread's install() half done
  # (registry swapped, module attribute not yet) and refuse.
  calls = []
  lock = jax_patch.monkeypatch._lock
  monkeypatch.setattr(compat, "check_supported",
                      lambda: calls.append(lock.locked()))
  jax_patch.install()
  jax_patch.install()
  assert calls == [True]
