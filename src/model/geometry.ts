// The builder's side of the planner's geometry: a network it can build, or a UserError for one it cannot
// (the builder is also called on configs the validator has not seen).
import type { Model } from '../config/experiment.generated.ts';
import { UserError } from '../errors.ts';
import { networkGeometry, type NetworkName } from '../plan/geometry.ts';

/** startSize and the channels of each block of `net`, checked. */
export function requireGeometry(model: Model, net: NetworkName): { startSize: number; channels: number[] } {
  const { startSize, channels } = networkGeometry(model, net);
  const { blocks } = model[net];
  if (startSize === null) {
    throw new UserError(
      `model.${net}.blocks: imageSize ${model.imageSize} is not startSize * 2^${blocks} for an integer startSize >= 1 ` + `(e.g. 64 = 4 * 2^4, 28 = 7 * 2^2)`,
    );
  }
  if (channels.length !== blocks) {
    throw new UserError(`model.${net}.channels: ${channels.length} entries for ${blocks} blocks; give one per block`);
  }
  return { startSize, channels };
}
