// A second process for the concurrent-download test (test/hub.test.ts): resolves argv[2] (a Hub
// model id) with the Hugging Face environment it was given (HF_HOME, HF_ENDPOINT), printing each
// log line to stdout and the snapshot folder last.

import { resolveHubModel } from '../../src/trainer/hub/resolve';

resolveHubModel(process.argv[2], { log: (level, m) => process.stdout.write(`${level}: ${m}\n`) }).then(
  (snap) => process.stdout.write(`snapshot: ${snap}\n`),
  (e: Error) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  },
);
