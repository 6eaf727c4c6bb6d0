// The run-folder contract in one module (see ./folder for the layout): names and paths, RunInfo,
// run.json and launch.json, metrics.jsonl. The trainer and the extension both use it; nothing else
// names a run folder's files.

export * from './folder';
export * from './metricsFile';
export * from './lock';
export * from './fingerprint';
export * from './identity';
