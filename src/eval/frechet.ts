// Frechet distance between two feature sets, each modelled as a Gaussian (mean, covariance): the FID of
// Heusel et al. 2017 when the features are Inception-v3's; here the extractor is whatever the caller
// used (e.g. the Fashion-MNIST classifier's penultimate layer), and the metric's name should say which.
//   FD = ||mu1 - mu2||^2 + Tr(C1) + Tr(C2) - 2 Tr((C1 C2)^(1/2))
// Tr((C1 C2)^(1/2)) comes from the eigenvalues of C1^(1/2) C2 C1^(1/2), a symmetric PSD matrix with the
// same spectrum as C1 C2 (Jacobi eigen-solver, Float64): no complex square roots, no eps fudge on the
// diagonal as scipy.linalg.sqrtm-based implementations need for singular covariances.
import { type Features, meanAndCovariance, trace, traceSqrtProduct } from './linalg.ts';

export interface FeatureStats {
  count: number;
  dim: number;
  mean: Float64Array;
  /** Unbiased (n - 1) covariance, dim x dim, row-major. */
  cov: Float64Array;
}

export function featureStats(set: Features): FeatureStats {
  const { mean, cov } = meanAndCovariance(set);
  return { count: set.count, dim: set.dim, mean, cov };
}

export interface FrechetParts {
  /** The distance: mean + covariance terms, >= 0 (round-off below zero is returned as 0). */
  distance: number;
  /** ||mu1 - mu2||^2. */
  meanTerm: number;
  /** Tr(C1) + Tr(C2) - 2 Tr((C1 C2)^(1/2)). */
  covarianceTerm: number;
}

export function frechetFromStats(a: FeatureStats, b: FeatureStats): FrechetParts {
  if (a.dim !== b.dim) throw new RangeError(`feature dimensions differ: ${a.dim} and ${b.dim}`);
  const d = a.dim;
  let meanTerm = 0;
  for (let k = 0; k < d; k++) meanTerm += (a.mean[k] - b.mean[k]) ** 2;
  const covarianceTerm = trace(a.cov, d) + trace(b.cov, d) - 2 * traceSqrtProduct(a.cov, b.cov, d);
  return { distance: Math.max(0, meanTerm + covarianceTerm), meanTerm, covarianceTerm };
}

/** The Frechet distance between the Gaussians fitted to two feature sets (rows of the same dimension). */
export function frechetDistance(a: Features, b: Features): number {
  return frechetFromStats(featureStats(a), featureStats(b)).distance;
}
