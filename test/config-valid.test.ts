// The shipped configs are valid, and the schema (the single source of truth) is sound and documented.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { GENERATED_TYPES_PATH, renderExperimentTypes } from '../src/config/generate-types.ts';
import { SCHEMA_PATH } from '../src/config/schema-path.ts';
import { loadExperiment } from '../src/config/load-experiment.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONFIGS = join(ROOT, 'configs');

type Schema = Record<string, unknown>;
const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as Schema;

/** Every subschema with its JSON pointer inside the schema file. */
function* subschemas(node: unknown, pointer = ''): Generator<[string, Schema]> {
  if (Array.isArray(node)) {
    for (const [index, item] of node.entries()) yield* subschemas(item, `${pointer}/${index}`);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  yield [pointer, node as Schema];
  for (const [key, value] of Object.entries(node)) {
    // `default`, `const` and `enum` hold values, not schemas.
    if (key === 'default' || key === 'const' || key === 'enum') continue;
    yield* subschemas(value, `${pointer}/${key}`);
  }
}

function resolveRef(node: Schema): Schema {
  if (typeof node.$ref !== 'string') return node;
  const target = node.$ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<Schema>((at, segment) => at[segment] as Schema, schema);
  return { ...resolveRef(target), ...node };
}

function strictAjv(): Ajv {
  // Full strict mode (strictRequired and strictTypes included); union types such as [object, boolean] are allowed explicitly.
  const ajv = new Ajv({ strict: true, strictRequired: true, strictTypes: true, allowUnionTypes: true, discriminator: true, allErrors: true });
  // The schema's two annotation keywords: tsType for json-schema-to-typescript, x-fileRelative for the loader.
  ajv.addKeyword({ keyword: 'tsType', schemaType: 'string' });
  ajv.addKeyword({ keyword: 'x-fileRelative', schemaType: 'boolean' });
  return ajv;
}

describe('shipped configs', () => {
  const configs = readdirSync(CONFIGS)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort();

  test('the configs folder has configs', () => assert.ok(configs.length > 0));

  for (const name of configs) {
    test(`configs/${name} validates`, () => {
      const { config } = loadExperiment(join(CONFIGS, name));
      assert.ok(config.name);
    });
  }
});

describe('the experiment schema', () => {
  test('src/config/experiment.generated.ts is up to date (run `npm run gen:types` if not)', async () => {
    assert.equal(readFileSync(GENERATED_TYPES_PATH, 'utf8'), await renderExperimentTypes());
  });

  test('compiles in Ajv strict mode', () => {
    assert.doesNotThrow(() => strictAjv().compile(schema));
  });

  test('every property has a description (editors show it on hover)', () => {
    const missing: string[] = [];
    for (const [pointer, node] of subschemas(schema)) {
      const properties = node.properties;
      if (properties === null || typeof properties !== 'object' || Array.isArray(properties)) continue;
      for (const [key, property] of Object.entries(properties as Record<string, Schema>)) {
        const description = resolveRef(property).description;
        if (typeof description !== 'string' || description.trim() === '') missing.push(`${pointer}/properties/${key}`);
      }
    }
    assert.deepEqual(missing, []);
  });

  test('every default is valid for the schema it sits in', () => {
    const ajv = strictAjv();
    ajv.addSchema(schema);
    const invalid: string[] = [];
    for (const [pointer, node] of subschemas(schema)) {
      if (!('default' in node)) continue;
      const validate = ajv.compile({ $ref: `${String(schema.$id)}#${pointer}` });
      if (!validate(structuredClone(node.default))) invalid.push(`${pointer}: ${ajv.errorsText(validate.errors)}`);
    }
    assert.deepEqual(invalid, []);
  });
});
