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

from jax_patch._src.scipy.linalg import (
  eigh as eigh,
  expm_hermitian as expm_hermitian,
  funm_hermitian as funm_hermitian,
  logm_hermitian as logm_hermitian,
  powm_hermitian as powm_hermitian,
  solve_sylvester as solve_sylvester,
  sqrtm_hermitian as sqrtm_hermitian,
  sylvester_factor as sylvester_factor,
  sylvester_solve as sylvester_solve,
)
