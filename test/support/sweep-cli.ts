// Runs the dcgan-run CLI as a child process, for the sweep tests (sweeps fork workers, signals, exit codes).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SweepManifest } from '../../src/track/sweep-manifest.ts';
import { PROJECT_ROOT } from './tiny-config.ts';

export const CLI = join(PROJECT_ROOT, 'bin/dcgan-run.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcess;
  done: Promise<CliResult>;
  output(): string;
}

/** Without MLFLOW_TRACKING_URI from the developer's shell, unless the test sets it. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { MLFLOW_TRACKING_URI: _unset, ...env } = process.env;
  return { ...env, ...extra };
}

export function startCli(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, env: options.env ?? cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done, output: () => `--- stdout\n${stdout}\n--- stderr\n${stderr}` };
}

export function runCli(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<CliResult> {
  return startCli(args, options).done;
}

export function sweepDirs(runsDir: string, experiment: string): string[] {
  const folder = join(runsDir, experiment);
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((name) => name.startsWith('sweep-'))
    .sort()
    .map((name) => join(folder, name));
}

export function readManifest(sweepDir: string): SweepManifest {
  return JSON.parse(readFileSync(join(sweepDir, 'manifest.json'), 'utf8')) as SweepManifest;
}

/** The only sweep directory of an experiment's runs folder, or undefined before it exists. */
export function onlySweepDir(runsDir: string, experiment: string): string | undefined {
  const dirs = sweepDirs(runsDir, experiment);
  if (dirs.length > 1) throw new Error(`expected one sweep directory, found ${dirs.join(', ')}`);
  return dirs[0];
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 60_000, describe: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let value: T | undefined | false;
    try {
      value = probe();
    } catch {
      value = undefined;
    }
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Ends CLI processes a test started: SIGTERM (a worker puts its running trials back in the queue), then SIGKILL after 10 s. */
export async function endProcesses(processes: CliProcess[]): Promise<void> {
  for (const process of processes.splice(0)) {
    if (process.child.exitCode === null) process.child.kill('SIGTERM');
    await Promise.race([process.done, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    if (process.child.exitCode === null) process.child.kill('SIGKILL');
  }
}
