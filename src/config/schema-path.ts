import { fileURLToPath } from 'node:url';

export const SCHEMA_PATH = fileURLToPath(new URL('../../schemas/experiment.schema.json', import.meta.url));
