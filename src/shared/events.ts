// One line of text per trainer event: what the VS Code Output channel shows for a run and what the
// trainer writes to the run's train.log, so that "Open Log" has everything the Output channel has.
// Browser-safe (no Node built-ins).

import { formatMetric } from './metrics';
import type { TrainerEvent } from './protocol';

/** The line for an event, or undefined for events that are not logged line by line (progress:
 *  every step's numbers are in metrics.jsonl; download progress has its own log lines). */
export function describeEvent(e: TrainerEvent): string | undefined {
  switch (e.type) {
    case 'started':
      return `started on ${e.device.used}${e.device.reason ? ` (${e.device.reason})` : ''}; ${e.params} parameters${
        e.trainable !== undefined && e.trainable !== e.params ? ` (${e.trainable} trained)` : ''
      }; ${e.totalSteps ?? '?'} steps`;
    case 'log':
      return `${e.level === 'info' ? '' : `${e.level}: `}${e.message}`;
    case 'download':
    case 'train':
      return undefined;
    case 'eval':
      return `${e.split} at step ${e.checkpointStep ?? e.step}${e.checkpointStep !== undefined ? ' (best checkpoint)' : ''}: ${Object.entries(e.metrics)
        .map(([k, v]) => `${k} ${formatMetric(v)}`)
        .join('  ')}`;
    case 'checkpoint':
      return `checkpoint at step ${e.step}${e.best ? ' (best)' : ''}`;
    case 'completed':
      return `completed in ${e.seconds.toFixed(1)} s: ${Object.entries(e.metrics)
        .map(([k, v]) => `${k} ${formatMetric(v)}`)
        .join(', ')}`;
    case 'stopped':
      return `stopped at step ${e.step}${e.checkpoint ? `; resume from ${e.checkpoint}` : ''}`;
    case 'failed':
      return `failed: ${e.error}`;
  }
}
