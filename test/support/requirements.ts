// Parts a test needs that a machine may lack: a TensorFlow.js backend, PyTorch, Chromium, Debian's redis-server. Where one is missing,
// its tests skip with the reason; where $DCGAN_RUN_REQUIRE names it (.ci/run names what CI installs), a missing
// part is a failing test instead, so a failed install cannot leave CI green with a whole backend unchecked.
import { test } from 'node:test';
import { availableBackends, type BackendName } from '../../src/backend/select.ts';

const PARTS = ['tensorflow', 'wasm', 'webgpu', 'torch', 'optuna', 'chromium', 'redis'] as const;
export type Part = (typeof PARTS)[number];

export const REQUIRE_ENV = 'DCGAN_RUN_REQUIRE';

function requiredParts(): Set<Part> {
  const named = (process.env[REQUIRE_ENV] ?? '').split(/[\s,]+/).filter(Boolean);
  const unknown = named.filter((name) => !(PARTS as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`$${REQUIRE_ENV}: unknown part ${unknown.join(', ')} (the parts are ${PARTS.join(', ')})`);
  return new Set(named as Part[]);
}

const required = requiredParts();
const failed = new Set<Part>();

/** node:test's skip option for tests that need `part`: false when it is there, else why not (and a failure where it is required). */
export function needs(part: Part, missing: string | false): string | false {
  if (!missing) return false;
  if (required.has(part) && !failed.has(part)) {
    failed.add(part);
    test(`${part} is required here ($${REQUIRE_ENV}=${process.env[REQUIRE_ENV]}) but missing`, () => {
      throw new Error(missing);
    });
  }
  return missing;
}

let loaded: Promise<BackendName[]> | undefined;

/** The skip option for tests on `backend`. */
export async function needsBackend(backend: Exclude<BackendName, 'cpu'>, reason?: string): Promise<string | false> {
  loaded ??= availableBackends();
  const missing = (await loaded).includes(backend) ? false : (reason ?? `the ${backend} backend does not load here`);
  return needs(backend, missing);
}
