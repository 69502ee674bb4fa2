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

"""Bazel main for the pytest-style project tests in tests/.

  python ci/pytest_main.py tests/test_foo.py [pytest args]

Exits with pytest's status; "no tests ran" (5) counts as a failure.
"""

import sys

import pytest


def main() -> int:
  status = pytest.main(["-q", "-p", "no:cacheprovider", *sys.argv[1:]])
  return int(status)


if __name__ == "__main__":
  sys.exit(main())
