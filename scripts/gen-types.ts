// Generates src/config/experiment.generated.ts from schemas/experiment.schema.json, the single source of
// truth for the config's shape. `npm run gen:types` rewrites it; a test fails when it is stale.
import { writeFileSync } from 'node:fs';
import { renderExperimentTypes, GENERATED_TYPES_PATH } from '../src/config/generate-types.ts';

writeFileSync(GENERATED_TYPES_PATH, await renderExperimentTypes());
console.log(`wrote ${GENERATED_TYPES_PATH}`);
