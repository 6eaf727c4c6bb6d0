// A Hub model downloading for a forked run (the trainer's `download` events): a cancellable
// notification per file that needs more than one report, with bytes, rate and ETA
// (core/download.ts); cancelling stops the run, as the run's own notification does.

import * as vscode from 'vscode';
import type { TrainerEvent } from '../shared/protocol';
import { DownloadTracker } from './core/download';
import type { TrainerProcess } from './core/trainerProcess';

export function showDownloadProgress(name: string, tp: TrainerProcess, stop: () => void): void {
  const tracker = new DownloadTracker();
  let current: { report: (m: { message: string; increment: number }) => void; close: () => void } | undefined;
  const close = () => {
    current?.close();
    current = undefined;
  };
  const onEvent = (e: TrainerEvent) => {
    if (e.type !== 'download') {
      if (e.type === 'started' || e.type === 'stopped' || e.type === 'failed') close();
      return;
    }
    const u = tracker.update(e);
    if (u.fresh) close();
    // A file complete at its first report (small, or already there) needs no notification.
    if (!current && !(u.fresh && u.done)) {
      let resolve = () => {};
      const closed = new Promise<void>((r) => (resolve = r));
      let pending: { message: string; increment: number } | undefined;
      let report = (m: { message: string; increment: number }) => {
        pending = { message: m.message, increment: (pending?.increment ?? 0) + m.increment }; // before VS Code runs the task: shown when it does
      };
      void vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Fine-tune: ${name}: downloading ${e.model}`, cancellable: true },
        (progress, token) => {
          token.onCancellationRequested(() => {
            if (!tp.stopping) stop();
          });
          report = (m) => progress.report(m);
          if (pending) progress.report(pending);
          return closed;
        },
      );
      current = { report: (m) => report(m), close: resolve };
    }
    current?.report({ message: u.message, increment: u.increment });
    if (u.done) close();
  };
  tp.on('event', onEvent);
  void tp.done.then(() => {
    tp.off('event', onEvent);
    close();
  });
}
