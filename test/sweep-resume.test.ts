// Resuming: a sweep process killed mid-way is picked up by the same command (finished trials kept, the
// interrupted one resumed from its checkpoint); a changed definition is refused on --resume; --new starts afresh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { join } from 'node:path';
import type { RunSummary } from '../src/track/run-types.ts';
import { onlySweepDir, readManifest, runCli, startCli, sweepDirs, waitFor } from './support/sweep-cli.ts';
import { tinyExperiment } from './support/tiny-config.ts';

const LR = 'train.optimizers.generator.learningRate';
const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const runSummary = (runDir: string) => JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as RunSummary;

test('a killed sweep resumes: finished trials are kept, the interrupted one goes on from its checkpoint, all end finished', async (t) => {
  const { file, dir } = tinyExperiment({
    name: 'resume',
    train: { epochs: 2, samples: { count: 4 }, logEvery: 1, backend: 'auto' },
    tracking: { runsDir: 'runs' },
    sweep: { parallel: 1, parameters: { [LR]: [0.001, 0.002, 0.003] } },
  });
  const runs = join(dir, 'runs');
  const first = startCli(['run', file], { cwd: dir });
  const atKill = await waitFor(
    'one finished trial and one training',
    () => {
      const sweepDir = onlySweepDir(runs, 'resume');
      const manifest = sweepDir ? readManifest(sweepDir) : undefined;
      const training = (t: { status: string; pid?: number | null; runDir: string | null }) =>
        t.status === 'running' && t.pid && existsSync(join(t.runDir!, 'metrics.jsonl'));
      return manifest && manifest.trials.some((t) => t.status === 'finished') && manifest.trials.some(training) && manifest;
    },
    60_000,
    first.output,
  );
  first.child.kill('SIGKILL');
  const killed = await first.done;
  assert.equal(killed.signal, 'SIGKILL');
  const sweepDir = onlySweepDir(runs, 'resume')!;
  const before = readManifest(sweepDir);
  const finishedBefore = before.trials.filter((t) => t.status === 'finished');
  const interrupted = before.trials.filter((t) => t.status === 'running');
  assert.ok(finishedBefore.length >= 1 && interrupted.length === 1, JSON.stringify(before.trials.map((t) => t.status)));
  assert.ok(atKill.owner, 'the killed process still owns the manifest');

  const started = Date.now();
  const second = await runCli(['run', file], { cwd: dir });
  t.diagnostic(`resume ran ${3 - finishedBefore.length} trials in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  assert.equal(second.code, 0, `--- stdout\n${second.stdout}\n--- stderr\n${second.stderr}`);
  assert.deepEqual(sweepDirs(runs, 'resume'), [sweepDir], 'the same sweep directory was resumed');
  assert.match(second.stderr, new RegExp(`resuming: ${finishedBefore.length} finished \\(skipped\\), ${3 - finishedBefore.length} to run`));
  const afterwards = readManifest(sweepDir);
  assert.deepEqual(
    afterwards.trials.map((t) => t.status),
    ['finished', 'finished', 'finished'],
  );
  for (const old of finishedBefore) {
    const now = afterwards.trials[old.index];
    assert.equal(now.runId, old.runId, `${old.name} was not rerun`);
    assert.equal(now.attempts, 1);
    assert.doesNotMatch(second.stderr, new RegExp(`\\[${old.name}\\] started`));
  }
  // The worker of the killed sweep lost its parent and stopped after its step, with a checkpoint; the trial went on from it.
  const rerun = afterwards.trials[interrupted[0].index];
  const orphan = interrupted[0];
  assert.ok(orphan.pid && !isAlive(orphan.pid));
  assert.equal(rerun.runId, orphan.runId, 'the interrupted trial went on with its run');
  assert.equal(rerun.runDir, orphan.runDir);
  assert.equal(rerun.attempts, 2);
  assert.equal(rerun.earlierRuns, undefined);
  assert.match(second.stderr, new RegExp(`\\[${rerun.name}\\] resumed from its checkpoint: run ${rerun.runId} \\(attempt 2\\)`));
  assert.match(second.stderr, /resuming from epoch-000\d(-step-\d+)?: epoch \d, step \d+\/3/);
  assert.equal(runSummary(rerun.runDir!).status, 'finished');
  const steps = readFileSync(join(rerun.runDir!, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line))
    .filter((r) => r.type === 'step');
  assert.deepEqual(
    steps.map((r) => r.step),
    [1, 2, 3, 4, 5, 6],
    'every step once',
  );

  // Rerunning a finished sweep runs nothing.
  const third = await runCli(['run', file, '--quiet'], { cwd: dir });
  assert.equal(third.code, 0, third.stderr);
  assert.deepEqual(
    readManifest(sweepDir).trials.map((t) => t.runId),
    afterwards.trials.map((t) => t.runId),
  );
  assert.match(third.stdout, /^rank +trial/m);

  // --resume with a changed definition is refused with exit code 2, naming what changed.
  const changed = await runCli(['run', file, '--resume', sweepDir, '--set', 'train.epochs=3'], { cwd: dir });
  assert.equal(changed.code, 2, changed.stderr);
  assert.match(changed.stderr, /cannot resume, the sweep definition changed/);
  assert.match(changed.stderr, /trial 000-learningRate=0\.001 changed: train\.epochs 2 -> 3/);
  const edited = parse(readFileSync(file, 'utf8'));
  edited.sweep.parameters[LR] = [0.001, 0.005];
  writeFileSync(join(dir, 'edited.yaml'), stringify(edited));
  const fewer = await runCli(['run', 'edited.yaml', '--resume', sweepDir], { cwd: dir });
  assert.equal(fewer.code, 2, fewer.stderr);
  assert.match(fewer.stderr, /3 trials in the sweep directory, 2 now/);
  assert.match(fewer.stderr, /trial 001-learningRate=0\.005 is new/);
  assert.match(fewer.stderr, /trial 001-learningRate=0\.002 is gone/);
  assert.deepEqual(
    readManifest(sweepDir).trials.map((t) => t.runId),
    afterwards.trials.map((t) => t.runId),
    'a refused resume changes nothing',
  );

  // --new starts a fresh sweep of the same definition (sweep.parallel is not part of the definition).
  const fresh = await runCli(['run', file, '--new', '--quiet', '--set', 'sweep.parallel=3'], { cwd: dir });
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.equal(sweepDirs(runs, 'resume').length, 2);
  const newest = readManifest(sweepDirs(runs, 'resume')[1]);
  assert.equal(newest.definitionHash, afterwards.definitionHash);
  assert.deepEqual(
    newest.trials.map((t) => t.status),
    ['finished', 'finished', 'finished'],
  );
  assert.doesNotMatch(fresh.stderr, /started: run|^sweep: /m, '--quiet prints only warnings and errors');
});
