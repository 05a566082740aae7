// The facts that describe a run beside its config and summary (where its config came from, its dataset size, git
// commit and user): looked up when the run starts and kept in run-info.json, so `dcgan-run sync` describes the
// run later as the live tracker did.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '../io/atomic.ts';
import { osUser } from '../io/os-user.ts';
import { readRunConfig } from './run-dir.ts';
import type { RunInfo, RunSummary } from './run-types.ts';

/** Facts about a run that are not in config.yaml or summary.json, written at start so `sync` can describe the run later. */
export const RUN_INFO_FILE = 'run-info.json';

/** What a run's params and tags are made from: its RunInfo, with what sync can only sometimes recover. */
export interface RunFacts extends Omit<RunInfo, 'experiment' | 'datasetSize'> {
  /** Images in the dataset; unknown for a run directory written before run-info.json existed. */
  datasetSize?: number;
  gitCommit?: string;
  user?: string;
}

/** HEAD of the git checkout holding `folder`, or undefined (not a checkout, no git). */
function gitCommit(folder: string): string | undefined {
  try {
    const out = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: folder, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5_000 }).trim();
    return /^[0-9a-f]{40,64}$/.test(out) ? out : undefined;
  } catch {
    return undefined;
  }
}

interface RunInfoFile {
  configFile: string;
  datasetSize: number;
  parentRunId?: string;
  gitCommit?: string;
  user?: string;
}

/** The facts of a starting run (git commit and user looked up now), also written to run-info.json in the run directory. */
export function recordRunFacts(info: RunInfo): RunFacts {
  const facts: RunFacts = {
    runId: info.runId,
    runDir: info.runDir,
    config: info.config,
    configFile: resolve(info.configFile),
    backend: info.backend,
    versions: info.versions,
    datasetSize: info.datasetSize,
    parentRunId: info.parentRunId,
    gitCommit: gitCommit(dirname(resolve(info.configFile))),
    user: osUser(),
  };
  const file: RunInfoFile = {
    configFile: facts.configFile,
    datasetSize: info.datasetSize,
    ...(facts.parentRunId ? { parentRunId: facts.parentRunId } : {}),
    ...(facts.gitCommit ? { gitCommit: facts.gitCommit } : {}),
    ...(facts.user ? { user: facts.user } : {}),
  };
  writeFileAtomic(join(info.runDir, RUN_INFO_FILE), `${JSON.stringify(file, null, 2)}\n`);
  return facts;
}

/**
 * The facts of a finished (or crashed) run, from its directory: config.yaml, summary.json and, when
 * present, run-info.json. Without run-info.json the config file is the run's config.yaml and the
 * dataset size is unknown.
 */
export function readRunFacts(runDir: string, summary: RunSummary): RunFacts {
  const config = readRunConfig(runDir);
  const infoPath = join(runDir, RUN_INFO_FILE);
  const info: Partial<RunInfoFile> = existsSync(infoPath) ? (JSON.parse(readFileSync(infoPath, 'utf8')) as RunInfoFile) : {};
  return {
    runId: summary.runId,
    runDir: resolve(runDir),
    config,
    configFile: info.configFile ?? resolve(runDir, 'config.yaml'),
    backend: summary.backend,
    versions: summary.versions,
    datasetSize: info.datasetSize,
    parentRunId: info.parentRunId,
    gitCommit: info.gitCommit,
    user: info.user ?? osUser(),
  };
}
