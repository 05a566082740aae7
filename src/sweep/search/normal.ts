// The standard normal's CDF and the log of its mass on an interval, accurate to a few ulps over the whole line:
// TPE's truncated kernels need log-masses far into the tails, where 1 - Phi(x) underflows.

const SQRT2 = Math.SQRT2;
const LOG_SQRT_PI = 0.5 * Math.log(Math.PI);
const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** erf(x) for 0 <= x < 2 from the series 2/sqrt(pi) e^(-x^2) sum 2^n x^(2n+1) / (1*3*...*(2n+1)): all terms positive, no cancellation. */
function erfSeries(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; term > sum * 1e-17; n++) {
    term *= (2 * x * x) / (2 * n + 1);
    sum += term;
  }
  return (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
}

/** log(erfc(x)) for x >= 2 from erfc's continued fraction (modified Lentz), without forming e^(-x^2). */
function logErfcFraction(x: number): number {
  // erfc(x) = e^(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 500; k++) {
    const a = k / 2;
    d = x + a * d;
    d = 1 / (Math.abs(d) < tiny ? tiny : d);
    c = x + a / c;
    if (Math.abs(c) < tiny) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return -x * x - LOG_SQRT_PI - Math.log(f);
}

/** erfc(x) for x >= 0. */
function erfcPositive(x: number): number {
  return x < 2 ? 1 - erfSeries(x) : Math.exp(logErfcFraction(x));
}

/** Phi(a), the standard normal CDF. */
export function ndtr(a: number): number {
  const x = a / SQRT2;
  return x < 0 ? 0.5 * erfcPositive(-x) : 1 - 0.5 * erfcPositive(x);
}

/** log Phi(a), finite for every finite a. */
export function logNdtr(a: number): number {
  if (a > 6) return Math.log1p(-ndtr(-a));
  const x = -a / SQRT2;
  if (x < 2) return Math.log(ndtr(a));
  return Math.log(0.5) + logErfcFraction(x);
}

/** log(e^p - e^q) for p > q. */
const logDiff = (p: number, q: number): number => p + Math.log1p(-Math.exp(q - p));

/** log of the standard normal's mass on [a, b], a < b; taken on the side away from the mode, where it is small. */
export function logGaussMass(a: number, b: number): number {
  if (b <= 0) return logDiff(logNdtr(b), logNdtr(a));
  if (a > 0) return logGaussMass(-b, -a);
  return Math.log1p(-ndtr(a) - ndtr(-b));
}

/** log density of the standard normal at z. */
export const logNormalPdf = (z: number): number => -0.5 * z * z - LOG_SQRT_2PI;
