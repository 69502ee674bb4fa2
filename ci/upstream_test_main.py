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

"""Runs one upstream_tests/ module under stock JAX, with jax_patch installed.

  python ci/upstream_test_main.py upstream_tests/foo_test.py [absl flags]

The upstream tests never import jax_patch (they are copied into JAX as they
are), so under stock JAX something must call `jax_patch.install()` first:
pytest does it in upstream_tests/conftest.py, Bazel through this main. The
module then runs as `__main__`, i.e. its `absltest.main(...)`.
"""

import os
import runpy
import sys
import warnings


def _install() -> None:
  try:
    import jax_patch
  except ImportError as e:
    warnings.warn(f"jax_patch is not importable ({e}); running the test "
                  "against stock JAX")
    return
  install = getattr(jax_patch, "install", None)
  if install is None:
    warnings.warn("jax_patch has no install() yet; running the test against "
                  "stock JAX")
    return
  install()


def main() -> None:
  if len(sys.argv) < 2:
    sys.exit(f"usage: {sys.argv[0]} TEST_MODULE.py [ARGS...]")
  path = os.path.abspath(sys.argv.pop(1))
  _install()
  sys.argv[0] = path
  sys.path.insert(0, os.path.dirname(path))
  runpy.run_path(path, run_name="__main__")


if __name__ == "__main__":
  main()
