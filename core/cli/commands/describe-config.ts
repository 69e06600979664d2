/** One line per configured component: where it sits in the config and what it is. */
export function describeComponents(resolved: Record<string, unknown>): string {
  const lines: string[] = [];
  const data = resolved['data'] as Record<string, unknown> | undefined;
  if (data) lines.push(`  data        ${String(data['format'])} at ${String(data['root'])}`);
  const groups = [['encoders', 'encoder'], ['knowledge', 'knowledge']] as const;
  for (const [key, label] of groups) {
    const slot = resolved[key] as Record<string, Record<string, unknown>> | undefined;
    for (const [name, comp] of Object.entries(slot ?? {})) lines.push(`  ${label.padEnd(10)}  ${name}: ${String(comp['type'])}`);
  }
  for (const key of ['fusion', 'head', 'challenge', 'calibration']) {
    const comp = resolved[key] as Record<string, unknown> | undefined;
    if (comp) lines.push(`  ${key.padEnd(10)}  ${String(comp['type'])}`);
  }
  const train = resolved['train'] as Record<string, unknown> | undefined;
  if (train) lines.push(`  train       ${train['folds']} folds, ${train['epochs']} epochs, lr ${train['lr']}, seed ${train['seed']}`);
  return lines.join('\n');
}
