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

"""Hypothesis strategies for Hermitian matrices with clustered spectra.

An example is drawn as a small structural description (cluster sizes,
within-cluster splittings, gaps, scale, shift, a seed); `build_spectral` and
`build_sylvester` turn it into float64 matrices A = Q diag(λ) Q^H from a
known random unitary Q, cast to the example's dtype, together with the known
Q and λ that the oracles (fuzz_oracles.py) use. Nothing here imports
jax_patch.

Spectra, in units of the spread (max λ - min λ = 1 when there are two or
more clusters):

* K clusters of sizes 1..n, in ascending order. Within a cluster of size m
  the m - 1 adjacent gaps are δ r_i with r_i uniform in [1, 2], so δ is the
  smallest adjacent splitting and 2 δ (m - 1) the cluster's width. δ is
  drawn as exactly 0, log-uniform in [1e-17, 1e-6], log-uniform in
  [1e-15, 1e-12] (the splittings that rounding leaves in symmetric
  Hamiltonians built in floating point), or log-uniform in
  [tau / 3, 3 tau], tau = sqrt(eps) of the dtype: on both sides of the edge
  tau * spread of the near-degenerate band that
  jax_linalg_degeneracy_rtol="sqrt_eps" opts into. By default the eigh
  rule treats only ties as degenerate, gaps up to 16 sqrt(n) eps max|λ|:
  with the shifts below, about 2e-15 to 3e-14 of the spread in double
  precision and 1e-6 to 2e-5 in single.
* Gaps between neighbouring clusters (from the top of one to the bottom of
  the next) are at least MIN_GAP = 1e-2 of the spread. Why: every loss
  checked here depends on the eigenvectors through projectors onto whole
  clusters, whose derivative is of size |Ȧ| / gap, and the rounding of A
  (the cast to float32 included) and the backward error of eigh move those
  projectors by about eps |A| / gap. With |A| <= 2 spread (the shift below)
  that is at most 200 eps: 2.4e-5 in float32, far inside the 1e-2 target,
  and MIN_GAP is 29 times the float32 band, sqrt(eps) = 3.5e-4 of the
  spread, so the inter-cluster pairs are never treated as degenerate, with
  the band or without. The rest of the
  spread is shared out by log-uniform weights, so gaps range from MIN_GAP
  to about 1.
* The eigh family (projectors, eigenvalue sums, gauge check, stock rule)
  uses λ = scale (ν + shift), scale log-uniform in [1e-8, 1e8] and shift
  uniform in [-2, 1]. Matrix logarithm, square root, power and the
  Sylvester A use λ = scale (ν + offset), offset log-uniform in
  [1e-2, 10] (positive definite, condition number <= 101). The matrix
  exponential uses λ = exp_scale (ν + shift), exp_scale log-uniform in
  [1e-8, 10] (|λ| <= 20), and funm(tanh) λ = exp_scale (ν + shift) / 5
  (|λ| <= 4): JAX differentiates tanh as 1 - tanh², which keeps
  eps cosh²(λ) relative accuracy, 1e-4 in float32 at |λ| = 4 and nothing
  beyond |λ| = 9, where tanh rounds to 1 (measured: relative error 1.0 of
  the float32 Fréchet derivative at λ in [9.5, 19.5], where the scalar
  derivative is already 0).
* With a single cluster (K = 1) the spread is the cluster's own width; its
  splittings are then relative to `scale`.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from hypothesis import strategies as st

DTYPES = (np.float32, np.float64, np.complex64, np.complex128)
MAX_N = 16
MIN_GAP = 1e-2
# Batched examples use a few sizes only: JAX compiles once per shape, and a
# bundle of all spectral checks takes seconds to compile.
BATCH_SHAPES = ((3,), (2, 2))
BATCHED_SIZES = (2, 5, 9, 16)
# The Schur-based solve_sylvester takes 10-25 s to compile per shape on this
# machine (the Schur decomposition and the recursive triangular kernel), so
# its sizes are few; method="eigh" compiles in about a second.
SYLVESTER_SCHUR_SIZES = (1, 3, 8)
SYLVESTER_EIGH_SIZES = (1, 2, 4, 7, 12, 16)


def is_complex(dtype) -> bool:
  return np.issubdtype(dtype, np.complexfloating)


def real_dtype(dtype):
  return np.finfo(dtype).dtype.type


def threshold(dtype) -> float:
  """tau = sqrt(eps): with jax_linalg_degeneracy_rtol="sqrt_eps", pairs
  closer than tau * spread are degenerate for the eigh rule (by default only
  ties are, see fuzz_oracles.degeneracy_tolerance)."""
  return float(np.sqrt(np.finfo(dtype).eps))


def _log_uniform(lo: float, hi: float) -> st.SearchStrategy[float]:
  return st.floats(math.log10(lo), math.log10(hi)).map(lambda e: 10.0 ** e)


def splittings(dtype) -> st.SearchStrategy[float]:
  """The smallest adjacent gap δ within a cluster, relative to the spread."""
  tau = threshold(dtype)
  return st.one_of(
      st.just(0.0),
      _log_uniform(1e-17, 1e-6),
      _log_uniform(1e-15, 1e-12),
      _log_uniform(tau / 3, 3 * tau),
  )


@dataclasses.dataclass(frozen=True)
class Spectrum:
  """A clustered spectrum; all matrices of one example member share Q."""
  sizes: tuple[int, ...]          # cluster sizes, ascending eigenvalues
  splittings: tuple[float, ...]   # δ per cluster (ignored for size 1)
  gap_weights: tuple[float, ...]  # K - 1 weights of the inter-cluster gaps
  scale: float
  shift: float
  offset: float
  exp_scale: float
  seed: int

  @property
  def n(self) -> int:
    return sum(self.sizes)


@st.composite
def spectra(draw, n: int, dtype) -> Spectrum:
  cuts = sorted(draw(st.sets(st.integers(1, n - 1))) if n > 1 else ())
  bounds = [0, *cuts, n]
  sizes = tuple(b - a for a, b in zip(bounds[:-1], bounds[1:]))
  split = tuple(draw(splittings(dtype)) if m > 1 else 0.0 for m in sizes)
  weights = tuple(draw(_log_uniform(1e-3, 1.0)) for _ in sizes[1:])
  return Spectrum(
      sizes=sizes, splittings=split, gap_weights=weights,
      scale=draw(_log_uniform(1e-8, 1e8)),
      # No subnormal or tiny nonzero shifts: with a single cluster they
      # would put all eigenvalues below the scale range.
      shift=draw(st.one_of(st.just(0.0), st.floats(-2.0, -1e-3),
                           st.floats(1e-3, 1.0))),
      offset=draw(_log_uniform(1e-2, 10.0)),
      exp_scale=draw(_log_uniform(1e-8, 10.0)),
      seed=draw(st.integers(0, 2**32 - 1)))


def normalized_eigenvalues(spec: Spectrum) -> tuple[np.ndarray, np.ndarray]:
  """ν in [0, 1] (ascending) and the cluster index of each eigenvalue."""
  rng = np.random.default_rng([spec.seed, 0])
  offsets = []
  for m, delta in zip(spec.sizes, spec.splittings):
    steps = delta * rng.uniform(1.0, 2.0, m - 1)
    offsets.append(np.concatenate([[0.0], np.cumsum(steps)]))
  widths = [o[-1] for o in offsets]
  k = len(spec.sizes)
  if k > 1:
    free = 1.0 - sum(widths) - (k - 1) * MIN_GAP
    assert free > 0, spec
    w = np.asarray(spec.gap_weights)
    gaps = MIN_GAP + free * w / w.sum()
  else:
    gaps = np.zeros(0)
  nu, start = [], 0.0
  for i, o in enumerate(offsets):
    nu.append(start + o)
    if i < k - 1:
      start = start + o[-1] + gaps[i]
  nu = np.concatenate(nu)
  cluster = np.repeat(np.arange(k), spec.sizes)
  return nu, cluster


def random_unitary(rng: np.random.Generator, n: int, complex_: bool
                   ) -> np.ndarray:
  """A Haar-distributed orthogonal or unitary matrix, in float64."""
  z = rng.standard_normal((n, n))
  if complex_:
    z = z + 1j * rng.standard_normal((n, n))
  q, r = np.linalg.qr(z)
  d = np.diagonal(r)
  return q * (d / np.abs(d))


def random_matrix(rng: np.random.Generator, shape, complex_: bool
                  ) -> np.ndarray:
  z = rng.standard_normal(shape)
  if complex_:
    z = z + 1j * rng.standard_normal(shape)
  return z


def random_hermitian(rng: np.random.Generator, n: int, complex_: bool
                     ) -> np.ndarray:
  z = random_matrix(rng, (n, n), complex_)
  return (z + z.conj().T) / 2


def from_eigenbasis(q: np.ndarray, lam: np.ndarray) -> np.ndarray:
  a = (q * lam) @ q.conj().T
  return (a + a.conj().T) / 2


@dataclasses.dataclass(frozen=True)
class SpectralExample:
  dtype: type
  batch: tuple[int, ...]
  members: tuple[Spectrum, ...]   # prod(batch) of them, row-major

  @property
  def n(self) -> int:
    return self.members[0].n

  @property
  def key(self):
    return ("spectral", np.dtype(self.dtype).name, self.n, self.batch)


@st.composite
def spectral_examples(draw, dtypes=DTYPES, sizes=None, batch_shapes=None
                      ) -> SpectralExample:
  """Examples for the eigh and matrix-function checks.

  `sizes` and `batch_shapes` restrict the shapes (the default profile uses
  a few, to compile a few times); by default n is 1..MAX_N unbatched and
  BATCHED_SIZES for the BATCH_SHAPES.
  """
  dtype = draw(st.sampled_from(dtypes))
  batch = draw(st.sampled_from(
      batch_shapes if batch_shapes is not None else ((),) + BATCH_SHAPES))
  if sizes is None:
    sizes = tuple(range(1, MAX_N + 1)) if batch == () else BATCHED_SIZES
  n = draw(st.sampled_from(sizes))
  count = math.prod(batch)
  members = [draw(spectra(n, dtype)) for _ in range(count)]
  if count > 1 and n > 1 and draw(st.booleans()):
    # A batch that mixes an exactly degenerate member with a generic one.
    members[0] = dataclasses.replace(
        members[0], sizes=(n,), splittings=(0.0,), gap_weights=())
    members[1] = dataclasses.replace(
        members[1], sizes=(1,) * n, splittings=(0.0,) * n,
        gap_weights=tuple(draw(_log_uniform(1e-3, 1.0))
                          for _ in range(n - 1)))
  return SpectralExample(dtype=dtype, batch=batch, members=tuple(members))


@dataclasses.dataclass
class Member:
  """The arrays of one matrix of an example, float64 / complex128 unless
  said, with everything the oracles need."""
  spec: Spectrum
  q: np.ndarray            # the known eigenbasis
  cluster: np.ndarray      # cluster index of each eigenvalue
  lam: np.ndarray          # eigh family
  lam_exp: np.ndarray      # expm
  lam_tanh: np.ndarray     # funm(tanh)
  lam_pd: np.ndarray       # logm, sqrtm, powm
  a: np.ndarray            # the inputs, cast to the example's dtype
  a_exp: np.ndarray
  a_tanh: np.ndarray
  a_pd: np.ndarray
  e: np.ndarray            # Hermitian tangent direction (dtype)
  w: np.ndarray            # cotangent weights of the losses (dtype)
  proj_mask: np.ndarray | None   # whole clusters, None when K == 1
  cluster_weights: np.ndarray    # weight of each eigenvalue, per cluster
  cut: int | None                # the first index after a cut in a cluster


def build_member(spec: Spectrum, dtype) -> Member:
  complex_ = is_complex(dtype)
  nu, cluster = normalized_eigenvalues(spec)
  n = len(nu)
  rng = np.random.default_rng([spec.seed, 1])
  q = random_unitary(rng, n, complex_)
  lam = spec.scale * (nu + spec.shift)
  lam_exp = spec.exp_scale * (nu + spec.shift)
  lam_tanh = lam_exp / 5
  lam_pd = spec.scale * (nu + spec.offset)
  cast = lambda x: x.astype(dtype)
  k = len(spec.sizes)
  proj_mask = None
  if k > 1:
    chosen = rng.permutation(k)[:rng.integers(1, k)]
    proj_mask = np.isin(cluster, chosen).astype(np.float64)
  cluster_weights = rng.standard_normal(k)[cluster]
  cut = None
  big = [i for i, m in enumerate(spec.sizes) if m > 1]
  if big:
    c = big[rng.integers(len(big))]
    start = int(np.sum(spec.sizes[:c]))
    cut = start + int(rng.integers(1, spec.sizes[c]))
  return Member(
      spec=spec, q=q, cluster=cluster, lam=lam, lam_exp=lam_exp,
      lam_tanh=lam_tanh, lam_pd=lam_pd, a=cast(from_eigenbasis(q, lam)),
      a_exp=cast(from_eigenbasis(q, lam_exp)),
      a_tanh=cast(from_eigenbasis(q, lam_tanh)),
      a_pd=cast(from_eigenbasis(q, lam_pd)),
      e=cast(random_hermitian(rng, n, complex_)),
      w=cast(random_matrix(rng, (n, n), complex_)),
      proj_mask=proj_mask, cluster_weights=cluster_weights, cut=cut)


def build_spectral(example: SpectralExample) -> list[Member]:
  return [build_member(s, example.dtype) for s in example.members]


# Sylvester equations A X + X B = C.

@dataclasses.dataclass(frozen=True)
class SylvesterExample:
  dtype: type
  method: str                     # "schur" or "eigh"
  batch: tuple[int, ...]
  a_members: tuple[Spectrum, ...]
  b_members: tuple[Spectrum, ...]  # used by method="eigh"
  seed: int

  @property
  def n(self) -> int:
    return self.a_members[0].n

  @property
  def key(self):
    return ("sylvester", np.dtype(self.dtype).name, self.method, self.n,
            self.batch)


@st.composite
def sylvester_examples(draw, dtypes=DTYPES, methods=("schur", "eigh"),
                       schur_sizes=SYLVESTER_SCHUR_SIZES,
                       eigh_sizes=SYLVESTER_EIGH_SIZES,
                       batch_shapes=((), (2,))) -> SylvesterExample:
  """A: Hermitian positive definite with a clustered spectrum (λ_pd).

  method="schur": B = scale (I + R / (2 sqrt(n))), R Gaussian (complex for
  complex dtypes), eigenvalues within about scale / 2 of scale, so every
  λ_i(A) + μ_j(B) has real part >= scale (offset + 1/2) and the equation is
  well conditioned; the directions of A and B are general matrices.
  method="eigh": B Hermitian positive definite with its own clustered
  spectrum, and Hermitian directions (the method reads the Hermitian part).
  """
  dtype = draw(st.sampled_from(dtypes))
  method = draw(st.sampled_from(methods))
  batch = draw(st.sampled_from(batch_shapes))
  n = draw(st.sampled_from(schur_sizes if method == "schur" else eigh_sizes))
  count = math.prod(batch)
  a_members = tuple(draw(spectra(n, dtype)) for _ in range(count))
  b_members = tuple(
      dataclasses.replace(draw(spectra(n, dtype)), scale=a.scale)
      for a in a_members) if method == "eigh" else ()
  return SylvesterExample(dtype=dtype, method=method, batch=batch,
                          a_members=a_members, b_members=b_members,
                          seed=draw(st.integers(0, 2**32 - 1)))


@dataclasses.dataclass
class SylvesterMember:
  a: np.ndarray   # inputs and directions, in the example's dtype
  b: np.ndarray
  c: np.ndarray
  da: np.ndarray
  db: np.ndarray
  dc: np.ndarray
  w: np.ndarray   # cotangent weights of Re sum(W * X)


def build_sylvester(example: SylvesterExample) -> list[SylvesterMember]:
  dtype, n = example.dtype, example.n
  complex_ = is_complex(dtype)
  out = []
  for i, spec in enumerate(example.a_members):
    rng = np.random.default_rng([example.seed, i])
    nu, _ = normalized_eigenvalues(spec)
    a = from_eigenbasis(random_unitary(rng, n, complex_),
                        spec.scale * (nu + spec.offset))
    if example.method == "eigh":
      spec_b = example.b_members[i]
      nu_b, _ = normalized_eigenvalues(spec_b)
      b = from_eigenbasis(random_unitary(rng, n, complex_),
                          spec_b.scale * (nu_b + spec_b.offset))
      da = random_hermitian(rng, n, complex_)
      db = random_hermitian(rng, n, complex_)
    else:
      r = random_matrix(rng, (n, n), complex_)
      b = spec.scale * (np.eye(n) + r / (2 * np.sqrt(n)))
      da = random_matrix(rng, (n, n), complex_)
      db = random_matrix(rng, (n, n), complex_)
    c = random_matrix(rng, (n, n), complex_)
    dc = random_matrix(rng, (n, n), complex_)
    w = random_matrix(rng, (n, n), complex_)
    # Directions scaled like their matrices, so no term of the tangent
    # dominates the others by the scale alone.
    out.append(SylvesterMember(*(
        x.astype(dtype) for x in (a, b, c, spec.scale * da, spec.scale * db,
                                  dc, w))))
  return out


# General (non-normal) matrices A = X diag(λ) X^-1, for the eig group.
#
# An example member is drawn as an EigSpectrum: clusters of eigenvalues with
# their multiplicities and within-cluster splittings, the condition number
# of the eigenbasis X and a seed; build_eig turns it into float64 / complex128
# matrices from a known X and λ, cast to the dtype. Real dtypes also get
# clusters of repeated complex-conjugate pairs a ± ib, from real 2 x 2
# blocks [[a, b], [-b, a]] (eigenvectors X [1, ±i] / sqrt 2), so that A and
# X stay real.
#
# * Cluster centres are points in [-1, 1] (real clusters) or the square
#   [-1, 1] x [-1, 1] (complex, and a ± ib with b > 0 for pairs), at least
#   EIG_MIN_GAP apart (conjugates included), rescaled so that the spread
#   (the largest distance between two centres) is 1: the square's diameter
#   is 2 sqrt 2, so neighbouring clusters are at least EIG_MIN_GAP /
#   (2 sqrt 2) = 0.018 of the spread apart. Within a cluster of
#   multiplicity m the m - 1 steps are δ r_i, r_i uniform in [1, 2], along a
#   random direction (real for real clusters of a real matrix); the
#   conjugate cluster of a pair mirrors its partner. δ is exactly 0,
#   log-uniform in [1e-17, 1e-6], or (double precision, where it lies below
#   1e-6) log-uniform in [tau / 3, 3 tau], tau = sqrt(eps): both sides of the
#   edge of jax_linalg_degeneracy_rtol="sqrt_eps"'s band. In single precision
#   every δ <= 1e-6 lies inside that band (tau = 3.5e-4).
# * λ = scale (ν + shift), scale log-uniform in [1e-3, 1e3], shift 0 or
#   uniform in [-2, 1] (real, in units of the spread).
# * X = U diag(s) W^H, U and W Haar, s_1 = 1, s_n = cond(X), the others
#   log-uniform between: cond(X) is 1 (A normal) or log-uniform in
#   [1, 10^EIG_MAX_LOG_COND].
# * Why gaps of a few percent of the spread: the derivative of a cluster's
#   projector is of size kappa^2 |E| / gap, and the rounding of A to the
#   dtype (and eig's backward error) moves it, relative to its size, by
#   about eps kappa |A|_F / gap (fuzz_campaign.eig_tolerance), which with
#   kappa |A|_F up to about 1e6 of the spread (cond(X) = 1e3) leaves single
#   precision little to resolve below such gaps.

EIG_MAX_N = 12
EIG_BATCHED_SIZES = (3, 6)
EIG_MIN_GAP = 0.05
EIG_MAX_LOG_COND = 3.0


def eig_splittings(dtype) -> st.SearchStrategy[float]:
  tau = threshold(dtype)
  options = [st.just(0.0), _log_uniform(1e-17, 1e-6)]
  if 3 * tau <= 1e-6:
    options.append(_log_uniform(tau / 3, 3 * tau))
  return st.one_of(*options)


@dataclasses.dataclass(frozen=True)
class EigSpectrum:
  """A clustered spectrum of a general matrix."""
  sizes: tuple[int, ...]          # multiplicity of each cluster
  pairs: tuple[bool, ...]         # a conjugate pair of clusters (real A)
  splittings: tuple[float, ...]   # δ per cluster (ignored for size 1)
  log_cond: float                 # log10 cond(X)
  scale: float
  shift: float
  seed: int

  @property
  def n(self) -> int:
    return sum(m * (2 if p else 1) for m, p in zip(self.sizes, self.pairs))


@st.composite
def eig_spectra(draw, n: int, dtype) -> EigSpectrum:
  """Clusters of multiplicity 1 to n // 2 + 1; about one member in four has
  only simple eigenvalues (where the default rule is the stock one)."""
  real = not is_complex(dtype)
  distinct = draw(st.integers(0, 3)) == 0
  cap = 1 if distinct else n // 2 + 1
  sizes, pairs = [], []
  left = n
  while left:
    pair = real and left >= 2 and draw(st.booleans())
    most = min(cap, left // 2 if pair else left)
    m = draw(st.integers(1, most))
    sizes.append(m)
    pairs.append(pair)
    left -= m * (2 if pair else 1)
  split = tuple(draw(eig_splittings(dtype)) if m > 1 else 0.0 for m in sizes)
  return EigSpectrum(
      sizes=tuple(sizes), pairs=tuple(pairs), splittings=split,
      log_cond=draw(st.one_of(st.just(0.0),
                              st.floats(0.0, EIG_MAX_LOG_COND))),
      scale=draw(_log_uniform(1e-3, 1e3)),
      shift=draw(st.one_of(st.just(0.0), st.floats(-2.0, 1.0))),
      seed=draw(st.integers(0, 2**32 - 1)))


def _eig_centres(rng, pairs, real):
  """Cluster centres at least EIG_MIN_GAP apart before rescaling: points
  drawn one by one, each redrawn until it (and its conjugate) keeps the
  distance; the boxes hold many more points than EIG_MAX_N."""
  points = []   # every centre, conjugates included
  centres = []
  for pair in pairs:
    for _ in range(10000):
      if pair:
        c = rng.uniform(-1, 1) + 1j * rng.uniform(EIG_MIN_GAP / 2, 1)
        new = [c, c.conjugate()]
      elif real:
        c = complex(rng.uniform(-1, 1))
        new = [c]
      else:
        c = rng.uniform(-1, 1) + 1j * rng.uniform(-1, 1)
        new = [c]
      if all(abs(p - q) >= EIG_MIN_GAP for p in new for q in points):
        break
    else:
      raise AssertionError(f"no room for {len(pairs)} clusters")
    points += new
    centres.append(c)
  return np.asarray(centres)


def random_conditioned(rng, n, log_cond, complex_):
  """X = U diag(s) W^H with singular values 1 = s_1 <= ... <= s_n =
  10^log_cond, the others log-uniform between."""
  t = np.concatenate([[0.0, 1.0], rng.uniform(0, 1, max(n - 2, 0))])[:n]
  s = 10.0 ** (log_cond * t)
  u = random_unitary(rng, n, complex_)
  w = random_unitary(rng, n, complex_)
  return (u * s) @ w.conj().T


@dataclasses.dataclass(frozen=True)
class EigExample:
  dtype: type
  batch: tuple[int, ...]
  members: tuple[EigSpectrum, ...]

  @property
  def n(self) -> int:
    return self.members[0].n

  @property
  def key(self):
    return ("eig", np.dtype(self.dtype).name, self.n, self.batch)


@st.composite
def eig_examples(draw, dtypes=DTYPES, sizes=None, batch_shapes=None
                 ) -> EigExample:
  """n is 2..EIG_MAX_N unbatched and EIG_BATCHED_SIZES for BATCH_SHAPES
  unless `sizes` and `batch_shapes` say otherwise."""
  dtype = draw(st.sampled_from(dtypes))
  batch = draw(st.sampled_from(
      batch_shapes if batch_shapes is not None else ((),) + BATCH_SHAPES))
  if sizes is None:
    sizes = (tuple(range(2, EIG_MAX_N + 1)) if batch == ()
             else EIG_BATCHED_SIZES)
  n = draw(st.sampled_from(sizes))
  members = tuple(draw(eig_spectra(n, dtype))
                  for _ in range(math.prod(batch)))
  return EigExample(dtype=dtype, batch=batch, members=members)


@dataclasses.dataclass
class EigMember:
  """One matrix of an eig example: the known eigenbasis and eigenvalues
  (complex128), the inputs in the example's dtype, and the cluster D whose
  spectral projector P_D = X[:, D] X^-1[D, :] the losses read."""
  spec: EigSpectrum
  x: np.ndarray            # the known eigenvectors, columns (complex128)
  x_inv: np.ndarray
  lam: np.ndarray          # the known eigenvalues (complex128)
  cluster: np.ndarray      # cluster index of each eigenvalue
  a: np.ndarray            # inputs, cast to the example's dtype
  e: np.ndarray            # tangent direction
  g: np.ndarray            # weights of the projector loss (complex dtype)
  wv: np.ndarray           # weights of the eigenvector loss (complex dtype)
  cw: np.ndarray           # weights of the eigenvalues in that loss
  cd: np.ndarray           # weight of the sum of D's eigenvalues (a scalar)
  mask: np.ndarray         # 1.0 on D (known order)
  centre: np.ndarray       # the centre of D (complex dtype, a scalar)
  radius: np.ndarray       # half its distance to the rest (real dtype)


def _eig_complex_dtype(dtype):
  return np.result_type(dtype, np.complex64).type


def build_eig_member(spec: EigSpectrum, dtype) -> EigMember:
  complex_ = is_complex(dtype)
  rng = np.random.default_rng([spec.seed, 2])
  centres = _eig_centres(rng, spec.pairs, not complex_)
  every = np.concatenate([centres, np.conj(centres[list(spec.pairs)])])
  spread = np.max(np.abs(every[:, None] - every[None, :]))
  spread = spread if spread > 0 else 1.0   # one real cluster
  lam, cluster = [], []
  k = len(spec.sizes)
  for c, (m, pair, delta) in enumerate(zip(spec.sizes, spec.pairs,
                                           spec.splittings)):
    steps = np.concatenate([[0.0], np.cumsum(delta * rng.uniform(1, 2,
                                                                 m - 1))])
    if complex_ or pair:
      steps = steps * np.exp(2j * np.pi * rng.uniform())
    nu = centres[c] / spread + steps + spec.shift
    vals = spec.scale * nu
    lam.append(vals)
    cluster.append(np.full(m, c))
    if pair:  # Cluster k + c: the conjugates of cluster c.
      lam.append(np.conj(vals))
      cluster.append(np.full(m, k + c))
  n = spec.n
  x = random_conditioned(rng, n, spec.log_cond, complex_)
  if complex_:
    lam = np.concatenate(lam)
    cluster = np.concatenate(cluster)
    x_c = x
    a = (x * lam) @ np.linalg.inv(x)
  else:
    # Real A = X B X^-1, B block diagonal: 1 x 1 blocks for real eigenvalues,
    # [[a, b], [-b, a]] for each pair a ± ib, whose eigenvectors are
    # [1, ±i] / sqrt 2; X_c = X T is the complex eigenbasis.
    b = np.zeros((n, n))
    t = np.zeros((n, n), complex)
    lam_c, cluster_c = [], []
    i = pos = 0
    for c, pair in enumerate(spec.pairs):
      vals = lam[pos]
      pos += 2 if pair else 1
      for v in vals:
        if pair:
          b[i:i + 2, i:i + 2] = [[v.real, v.imag], [-v.imag, v.real]]
          t[i:i + 2, i] = np.array([1, 1j]) / np.sqrt(2)
          t[i:i + 2, i + 1] = np.array([1, -1j]) / np.sqrt(2)
          lam_c += [v, np.conj(v)]
          cluster_c += [c, k + c]
          i += 2
        else:
          b[i, i] = v.real
          t[i, i] = 1
          lam_c.append(complex(v.real))
          cluster_c.append(c)
          i += 1
    lam = np.asarray(lam_c)
    cluster = np.asarray(cluster_c)
    x_c = x @ t
    a = x @ b @ np.linalg.inv(x)
  x_inv = np.linalg.inv(x_c)
  # The cluster D: one of those with two or more eigenvalues when there are
  # several clusters, else one at random; never the whole spectrum.
  ids, counts = np.unique(cluster, return_counts=True)
  many = ids[counts > 1] if len(ids) > 1 else ids[:0]
  choices = many if len(many) else ids
  d = choices[rng.integers(len(choices))] if len(ids) > 1 else None
  if d is None:
    mask = np.zeros(n)
    centre, radius = 0.0, -1.0   # selects nothing
  else:
    mask = (cluster == d).astype(np.float64)
    centre = np.mean(lam[cluster == d])
    radius = np.min(np.abs(lam[cluster != d] - centre)) / 2
  cdt = _eig_complex_dtype(dtype)
  rdt = real_dtype(dtype)
  return EigMember(
      spec=spec, x=x_c, x_inv=x_inv, lam=lam, cluster=cluster,
      a=a.real.astype(dtype) if not complex_ else a.astype(dtype),
      e=random_matrix(rng, (n, n), complex_).astype(dtype),
      g=random_matrix(rng, (n, n), True).astype(cdt),
      wv=random_matrix(rng, (n, n), True).astype(cdt),
      cw=random_matrix(rng, (n,), True).astype(cdt),
      cd=random_matrix(rng, (), True).astype(cdt),
      mask=mask, centre=np.asarray(centre, cdt),
      radius=np.asarray(radius, rdt))


def build_eig(example: EigExample) -> list[EigMember]:
  return [build_eig_member(s, example.dtype) for s in example.members]
