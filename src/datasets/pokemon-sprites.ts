// The Pokemon box sprites of the npm package pokesprite-images, found from wherever dcgan-run is installed
// (a project's node_modules, a global install, npx's cache), not from the current folder.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { PokemonSpritesSource } from '../config/experiment.generated.ts';
import { UserError } from '../errors.ts';

const PACKAGE = 'pokesprite-images';

/** Every sprite set the package has. */
export const ALL_SPRITES: Pick<PokemonSpritesSource, 'generations' | 'variants'> = { generations: ['gen8', 'gen7x'], variants: ['regular', 'shiny'] };

/** The package's folder, resolved as `from` (a file URL or path; default this module) would import it. */
export function pokespriteDir(from: string = import.meta.url): string {
  try {
    return dirname(createRequire(from).resolve(`${PACKAGE}/package.json`));
  } catch {
    throw new UserError(
      `data.source (pokemonSprites): the npm package ${PACKAGE} is not installed where dcgan-run is (it is a dependency of dcgan-run): ` +
        `run \`npm install ${PACKAGE}\` in the folder dcgan-run is installed in, or reinstall dcgan-run`,
    );
  }
}

/** The sprite folders of the chosen generations and variants, in that order (female forms are sub-folders of each). */
export function pokemonSpriteRoots(source: Pick<PokemonSpritesSource, 'generations' | 'variants'>, from?: string): [string, ...string[]] {
  const dir = pokespriteDir(from);
  const [first, ...rest] = source.generations.flatMap((generation) => source.variants.map((variant) => join(dir, `pokemon-${generation}`, variant)));
  const roots: [string, ...string[]] = [first, ...rest];
  const missing = roots.find((root) => !existsSync(root));
  if (missing)
    throw new UserError(
      `data.source (pokemonSprites): ${missing} is missing: the ${PACKAGE} package there is not the one dcgan-run expects (2.x); reinstall it`,
    );
  return roots;
}
