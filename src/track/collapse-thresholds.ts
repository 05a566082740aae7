// How varied a run's fixed-noise grid must stay, as shares of the same measures on real images (the epoch lines'
// sampleSpread): below either a run warns of mode collapse (src/train/health.ts), and its report draws them as
// lines (src/report/). Here, under both, so that neither imports the other.

/** Generated images whose pixel spread is below this share of real images' count as collapsed. */
export const COLLAPSE_RATIO = 0.25;
/**
 * The same for the spread of their foreground colours. Generators that collapse on sprites keep drawing blobs of
 * different sizes and places in one colour scheme, which pixel distances count as varied: the first stable recipe's
 * near-copies after 30 epochs had 56% of real images' pixel spread and 34% of their colour spread (docs/results.md).
 */
export const COLOUR_COLLAPSE_RATIO = 0.4;
