/** Worker-thread entry of the fold pool (see fold-pool.ts): one tfjs per thread, folds on request. */
import { parentPort, workerData } from 'node:worker_threads';
import type { BackendName } from '../contracts/backend.js';
import type { ModelConfig } from '../model/survival-model.js';
import { TOKENS } from '../di/tokens.js';
import type { FoldWorkerData, WorkerReply, WorkerRequest } from './fold-pool.js';

const job = workerData as FoldWorkerData;
const port = parentPort!;
const send = (m: WorkerReply) => port.postMessage(m);

async function main(): Promise<void> {
  const [{ loadRegistries }, { registerCoreComponents }, { createRootContainer }, { selectBackend }, { ConsoleLogger }, { StreamProgress }, { prepareRun }, { trainFold }] =
    await Promise.all([
      import('../registry/loader.js'),
      import('../data/register.js'),
      import('../di/container.js'),
      import('../backend/select.js'),
      import('../services/logger.js'),
      import('../services/progress.js'),
      import('./cross-validate.js'),
      import('./train-fold.js'),
    ]);
  const progress = new StreamProgress({ ...job.progress, taskPrefix: `w${job.worker}.` });
  const logger = new ConsoleLogger(job.logLevel ?? 'normal', (line) => progress.writeLine(line));
  const registries = await loadRegistries({ builtins: registerCoreComponents, extraRegistryFiles: job.pluginFiles });
  const backend = await selectBackend({ prefer: job.backend as BackendName, logger: new ConsoleLogger('quiet') });
  // The parent has shown loading the cases already: the worker's own preparation is silent, its folds are not.
  const container = createRootContainer({ logger, progress: new StreamProgress({ quiet: true }), registries, backend });
  const run = await prepareRun({ registries, container, backend }, {
    configFile: job.configFile, runDir: job.runDir, resume: true, ...(job.splitsFile ? { splitsFile: job.splitsFile } : {}),
  }, job.bags ? { bags: job.bags } : {});
  container.register(TOKENS.Progress, { useValue: progress });
  const byId = new Map(run.cases.map((c) => [c.id, c]));
  port.on('message', (m: WorkerRequest) => {
    if (m.type === 'exit') { void run.models.dispose().finally(() => port.close()); return; }
    const a = run.splits.assignments[m.fold]!;
    trainFold({
      fold: m.fold,
      train: a.train.map((id) => byId.get(id)!),
      val: a.val.map((id) => byId.get(id)!),
      config: run.config as ModelConfig & Record<string, unknown>,
      settings: run.settings, registries, parent: run.container, runDir: job.runDir, evalTimes: run.evalTimes, resume: job.resume,
      ...(job.stopAfterEpochs !== undefined ? { stopAfterEpochs: job.stopAfterEpochs } : {}),
    }).then(
      (result) => send({ type: 'result', fold: m.fold, result }),
      (err: Error) => send({ type: 'error', fold: m.fold, message: err.message }),
    );
  });
  send({ type: 'ready' });
}

main().catch((err: Error) => send({ type: 'error', fold: null, message: err.message }));
