/**
 * The CHIMERA (MICCAI 2025) tasks as challenge adapters: chimera-task1 (prostate BCR, months), chimera-task2 (BRS3
 * probability) and chimera-task3 (bladder recurrence, time-like). Each is one socket table plus its case mapping.
 */
import type { Registrar } from '../../core/contracts/component.js';
import { createTask1 } from './task1.js';
import { createTask2 } from './task2.js';
import { createTask3 } from './task3.js';

const noOptions = { type: 'object', properties: {}, additionalProperties: false };

export function register(r: Registrar): void {
  r.challenge({ id: 'chimera-task3', description: 'CHIMERA Task 3: bladder WSI + mask, bulk RNA, clinical -> time to recurrence (time-like, scored on -output)', optionsSchema: noOptions, create: createTask3 });
  r.challenge({ id: 'chimera-task1', description: 'CHIMERA Task 1: 1-10 prostatectomy WSIs + masks, MRI, clinical -> months to biochemical recurrence', optionsSchema: noOptions, create: createTask1 });
  r.challenge({ id: 'chimera-task2', description: 'CHIMERA Task 2: bladder WSI + mask, clinical -> probability of BRS3', optionsSchema: noOptions, create: createTask2 });
}
