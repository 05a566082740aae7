// $DCGAN_RUN_REQUIRE turns the skip of a missing part into a failure (CI names the parts it installs).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from './support/tiny-config.ts';

/** Runs a test file that needs a missing "torch" under node --test, with $DCGAN_RUN_REQUIRE set to `require`. */
function runWith(require: string | undefined): { status: number | null; output: string } {
  const file = join(mkdtempSync(join(tmpdir(), 'dcgan-run-require-')), 'needs.test.ts');
  writeFileSync(
    file,
    `import { test } from 'node:test';\nimport { needs } from ${JSON.stringify(join(PROJECT_ROOT, 'test/support/requirements.ts'))};\n` +
      `test('uses torch', { skip: needs('torch', 'no torch on this machine') }, () => {});\n`,
  );
  // Not CI's own list, nor the runner's marker that would make the child skip its tests as nested.
  const { DCGAN_RUN_REQUIRE: _ci, NODE_TEST_CONTEXT: _nested, ...env } = process.env;
  const result = spawnSync(process.execPath, ['--import', 'tsx', file], {
    cwd: PROJECT_ROOT,
    env: require === undefined ? env : { ...env, DCGAN_RUN_REQUIRE: require },
    encoding: 'utf8',
  });
  return { status: result.status, output: result.stdout + result.stderr };
}

test('a missing part skips its tests, with the reason', () => {
  const { status, output } = runWith(undefined);
  assert.equal(status, 0, output);
  assert.match(output, /ok 1 - uses torch # SKIP no torch on this machine/);
});

test('a missing part that DCGAN_RUN_REQUIRE names fails, with the reason', () => {
  const { status, output } = runWith('tensorflow torch');
  assert.equal(status, 1, output);
  assert.match(output, /not ok \d+ - torch is required here \(\$DCGAN_RUN_REQUIRE=tensorflow torch\) but missing/);
  assert.match(output, /no torch on this machine/);
});

test('an unknown part in DCGAN_RUN_REQUIRE is an error naming the parts', () => {
  const { status, output } = runWith('tensorflow pytorch');
  assert.equal(status, 1, output);
  assert.match(output, /\$DCGAN_RUN_REQUIRE: unknown part pytorch \(the parts are tensorflow, wasm, webgpu, torch, optuna, chromium, redis\)/);
});
