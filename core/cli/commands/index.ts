import type { CommandModule } from 'yargs';
import { demoCommand } from './demo.js';
import { doctorCommand } from './doctor.js';
import { extractCommand } from './extract.js';
import { inferCommand } from './infer.js';
import { inspectCommand } from './inspect.js';
import { knowledgeCommand } from './knowledge.js';
import { evaluateCommand } from './evaluate.js';
import { metricsCommand } from './metrics.js';
import { predictCommand } from './predict.js';
import { reportCommand } from './report.js';
import { trainCommand } from './train.js';
import { pluginsCommand } from './plugins.js';
import { schemaCommand } from './schema.js';
import { splitsCommand } from './splits.js';
import { synthCommand } from './synth.js';
import { validateCommand } from './validate.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [
  demoCommand,
  synthCommand,
  inspectCommand,
  splitsCommand,
  extractCommand,
  knowledgeCommand,
  trainCommand,
  evaluateCommand,
  reportCommand,
  predictCommand,
  inferCommand,
  metricsCommand,
  validateCommand,
  schemaCommand,
  pluginsCommand,
  doctorCommand,
];
