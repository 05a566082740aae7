import { Command, CommanderError, Option } from 'commander';
import { UserError } from '../errors.ts';

const collect = (value: string, previous: string[]) => [...previous, value];
const setOption = () => new Option('--set <key=value>', 'override a config key (repeatable); the value is read as YAML').argParser(collect).default([]);

// Commands load their modules on use: `validate` should not pay for TensorFlow.js start-up.
const program = new Command('dcgan-run')
  .description('Declarative DCGAN experiments: YAML config in, trained TensorFlow.js models, samples and metrics out.')
  .option('--verbose', "show TensorFlow's own INFO and WARNING log lines (hidden by default)")
  .showHelpAfterError()
  .exitOverride();
// Before any command loads TensorFlow, which reads its log level when it loads (src/backend/select.ts).
program.hook('preAction', () => {
  if (program.opts().verbose) process.env.TF_CPP_MIN_LOG_LEVEL = '0';
});

program
  .command('run', { isDefault: true })
  .description('train the experiment (or run its sweep)')
  .argument('<file>', 'experiment YAML file')
  .argument('[overrides...]', 'key.path=value overrides, like --set')
  .addOption(setOption())
  .option('-q, --quiet', 'print only warnings and errors')
  .option('--fail-fast', 'sweep: stop at the first failed trial (default: run the others, report failures at the end)')
  .option('--resume <dir>', 'go on with this run directory (a sweep: this sweep directory; default: the latest one with the same definition)')
  .option('--new', 'sweep: start a fresh sweep directory instead of resuming')
  .option('--queue <url>', 'sweep: enqueue the trials on Redis (redis://host:port[/db]) for `dcgan-run worker`s and follow them')
  .action(async (...args: Parameters<typeof import('./run.ts').runCommand>) => (await import('./run.ts')).runCommand(...args));

const positive = (v: string) => {
  const n = Number.parseInt(v, 10);
  if (!(n >= 1)) throw new UserError(`expected a whole number of at least 1, got ${v}`);
  return n;
};

program
  .command('worker')
  .description('run sweep trials from a queue, each in its own process, until Ctrl-C')
  .requiredOption('--queue <url>', 'the Redis queue, redis://host:port[/db]')
  .option('--concurrency <n>', 'trials at once', positive, 1)
  .option('--lock-seconds <n>', "a job's lock (renewed while the trial runs); a lost worker's trial is taken up again after about twice this", positive, 30)
  .action(async (...args: Parameters<typeof import('./sweep.ts').workerCommand>) => (await import('./sweep.ts')).workerCommand(...args));

const sweep = program.command('sweep').description('a queued sweep (dcgan-run <sweep.yaml> --queue ...): its state, or cancel it');
sweep
  .command('status')
  .description("a queued sweep's trials (queued, running where, finished, failed, pruned) and its summary table, from any machine")
  .argument('<sweep-id>', 'sweep-<id>, the name of its sweep directory')
  .requiredOption('--queue <url>', 'the Redis queue, redis://host:port[/db]')
  .action(async (...args: Parameters<typeof import('./sweep.ts').sweepStatusCommand>) => (await import('./sweep.ts')).sweepStatusCommand(...args));
sweep
  .command('cancel')
  .description('stop a queued sweep: its queued trials are removed, its running ones stop after their step with a checkpoint')
  .argument('<sweep-id>', 'sweep-<id>, the name of its sweep directory')
  .requiredOption('--queue <url>', 'the Redis queue, redis://host:port[/db]')
  .action(async (...args: Parameters<typeof import('./sweep.ts').sweepCancelCommand>) => (await import('./sweep.ts')).sweepCancelCommand(...args));

program
  .command('resume')
  .description('go on with a stopped, crashed or failed run from its latest checkpoint (--set train.epochs=N extends a finished one)')
  .argument('<run-dir>', 'a run directory, runs/<experiment>/<run-id>')
  .addOption(setOption())
  .option('-q, --quiet', 'print only warnings and errors')
  .action(async (...args: Parameters<typeof import('./resume.ts').resumeCommand>) => (await import('./resume.ts')).resumeCommand(...args));

program
  .command('validate')
  .description('check experiment files; exit 0 if all are valid, 2 otherwise')
  .argument('<files...>', 'experiment YAML files')
  .action(async (...args: Parameters<typeof import('./validate.ts').validateCommand>) => (await import('./validate.ts')).validateCommand(...args));

program
  .command('plan')
  .description('print the resolved config, both networks layer by layer, and the sweep size, without training')
  .argument('<file>', 'experiment YAML file')
  .argument('[overrides...]', 'key.path=value overrides, like --set')
  .addOption(setOption())
  .action(async (...args: Parameters<typeof import('./plan.ts').planCommand>) => (await import('./plan.ts')).planCommand(...args));

program
  .command('sample')
  .description("generate an image grid from a run's latest checkpoint")
  .argument('<run-dir>', 'a run directory, runs/<experiment>/<run-id>')
  .option('--count <n>', 'images in the grid', (v) => Number.parseInt(v, 10), 64)
  .option('--out <file>', 'PNG file to write', 'grid.png')
  .option('--seed <n>', 'noise seed (default: the run config seed)', (v) => Number.parseInt(v, 10))
  .action(async (...args: Parameters<typeof import('./sample.ts').sampleCommand>) => (await import('./sample.ts')).sampleCommand(...args));

program
  .command('eval')
  .description("quality metrics of a run's generator (FD/KID on a classifier for labeled IDX data, patch SWD, precision/recall)")
  .argument('<run-dir>', 'a run directory, runs/<experiment>/<run-id>')
  .option('--checkpoint <name>', 'latest, best, or a folder under checkpoints/ such as epoch-0005', 'latest')
  .option('--samples <n>', 'images per sample (default: train.eval.samples or 1000)', (v) => Number.parseInt(v, 10))
  .option('--metrics <list>', "what to measure, as train.eval.metrics takes it, comma-separated (default: the run config's train.eval.metrics)")
  .action(async (...args: Parameters<typeof import('./eval.ts').evalCommand>) => (await import('./eval.ts')).evalCommand(...args));

program
  .command('report')
  .description('write a static HTML report of a run or a sweep (sample grids, plots, the generator in the page); opens from file://')
  .argument('<dir>', 'a run directory, or a sweep directory (runs/<experiment>/sweep-<id>)')
  .option('--out <dir>', 'the report folder (default: <dir>/report)')
  .option('--open', 'open the report in the default browser')
  .action(async (...args: Parameters<typeof import('./report.ts').reportCommand>) => (await import('./report.ts')).reportCommand(...args));

program
  .command('sync')
  .description('upload a run directory to MLflow: whatever the server does not have yet (safe to repeat)')
  .argument('<run-dir>', 'a run directory, runs/<experiment>/<run-id>')
  .option('--uri <uri>', 'MLflow tracking server (default: the one the run logged to, tracking.mlflow.uri, then MLFLOW_TRACKING_URI)')
  .action(async (...args: Parameters<typeof import('./sync.ts').syncCommand>) => (await import('./sync.ts')).syncCommand(...args));

program
  .command('runs')
  .description('list the runs under a folder, newest first: status (crashed included), epochs, last metric, age')
  .argument('[dir]', 'a folder of runs', 'runs')
  .action(async (...args: Parameters<typeof import('./runs.ts').runsCommand>) => (await import('./runs.ts')).runsCommand(...args));

const data = program.command('data').description('the named datasets (fashion-mnist, mnist, pokemon-sprites) and the data cache');
data
  .command('list')
  .description('where the data cache is, and what it holds of each named dataset (every file checked against its MD5)')
  .action(async () => (await import('./data.ts')).dataListCommand());
data
  .command('fetch')
  .description('put a named dataset in the data cache now: from its official mirrors, or --from files you already have')
  .argument('<name>', 'fashion-mnist or mnist')
  .option('--from <dir-or-url>', 'a folder holding the official files (train-images-idx3-ubyte.gz, ...), or a base URL serving them')
  .action(async (...args: Parameters<typeof import('./data.ts').dataFetchCommand>) => (await import('./data.ts')).dataFetchCommand(...args));

program
  .command('setup')
  .description('build an optional backend: `setup tensorflow [--gpu]` builds tfjs-node against a TensorFlow pip wheel')
  .argument('<backend>', 'tensorflow')
  .option('--gpu', 'build the CUDA variant (tfjs-node-gpu); untested on machines without an NVIDIA GPU')
  .action(async (...args: Parameters<typeof import('./setup.ts').setupCommand>) => (await import('./setup.ts')).setupCommand(...args));

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else if (error instanceof UserError) {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 2;
  } else {
    throw error;
  }
}
