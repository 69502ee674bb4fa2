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

# The names the upstream patch adds to jax/lax/linalg.py; install() sets them
# on jax.lax.linalg (and jax._src.lax.linalg).

# Note: import <name> as <name> is required for names to be exported.
# See PEP 484 & https://github.com/jax-ml/jax/issues/7570

from jax_patch._src.lax.linalg import (
  sylvester_solve_p as sylvester_solve_p,
)
from jax_patch._src.lax.sylvester import (
  sylvester_solve as sylvester_solve,
  triangular_sylvester_solve_p as triangular_sylvester_solve_p,
)

from jax_patch._src.lax.hermitian_funm import (
  expm_hermitian as expm_hermitian,
  funm_hermitian as funm_hermitian,
  logm_hermitian as logm_hermitian,
  powm_hermitian as powm_hermitian,
  sqrtm_hermitian as sqrtm_hermitian,
)
