import { stringify } from 'yaml';
import { useBackend } from '../backend/select.ts';
import { loadExperiment } from '../config/load-experiment.ts';
import { buildDiscriminator, buildGenerator } from '../model/build.ts';
import { describeModel, formatModelDescription } from '../model/summary.ts';
import { planExperiment } from '../plan/index.ts';
import { countTrials, sweepTrials } from '../config/sweep-expand.ts';
import { redactCredentials } from '../track/redact.ts';

/** How many trials plan lists; a bigger sweep's count is given, and its first ones. */
const TRIALS_SHOWN = 20;

export async function planCommand(file: string, overrides: string[], options: { set: string[] }): Promise<void> {
  const { config } = loadExperiment(file, [...options.set, ...overrides]);
  // Layer summaries only: the cpu backend builds the models at once, with no native start-up.
  await useBackend('cpu');
  const { channels } = planExperiment(config).images;
  const out: string[] = ['# Resolved config (defaults filled)', redactCredentials(stringify(config)).trimEnd(), ''];
  for (const [title, build] of [
    ['Generator', buildGenerator],
    ['Discriminator', buildDiscriminator],
  ] as const) {
    const model = build(config.model, channels, config.seed);
    const heading = `# ${title} (${channels === 1 ? 'grayscale' : 'RGB'} ${config.model.imageSize}x${config.model.imageSize})`;
    out.push(formatModelDescription(heading, describeModel(model)), '');
    model.dispose();
  }
  if (config.sweep) {
    const count = countTrials(config.sweep);
    out.push(`# Sweep: ${config.sweep.strategy}, ${count} trial${count === 1 ? '' : 's'}, ${config.sweep.parallel} at a time`);
    for (const trial of sweepTrials(config)) {
      if (trial.index === TRIALS_SHOWN) break;
      out.push(
        `  ${trial.name}: ${Object.entries(trial.values)
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join('  ')}`,
      );
    }
    if (count > TRIALS_SHOWN) out.push(`  ... and ${count - TRIALS_SHOWN} more`);
  } else {
    out.push('# Runs: 1 (no sweep)');
  }
  process.stdout.write(`${out.join('\n')}\n`);
}
