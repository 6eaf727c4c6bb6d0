// Extension entry point. Only src/extension imports `vscode`.
// Until config-driven runs land, "Fine-tune: Start" runs the trainer's engine check in a forked
// trainer process and streams its events to the "Fine-tune" output channel.

import { fork } from 'node:child_process';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isTrainerEvent, type TrainerEvent } from '../shared/protocol';

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Fine-tune');
  context.subscriptions.push(output, vscode.commands.registerCommand('finetune.start', () => startCheck(context, output)));
}

export function deactivate(): void {}

function describe(e: TrainerEvent): string {
  switch (e.type) {
    case 'started': return `started on ${e.device.used}${e.device.reason ? ` (${e.device.reason})` : ''}, ${e.params} parameters`;
    case 'log': return e.message;
    case 'train': return `step ${e.step} loss ${e.loss.toFixed(4)} lr ${e.lr.toExponential(2)}`;
    case 'eval': return `eval at step ${e.step}: ${JSON.stringify(e.metrics)}`;
    case 'checkpoint': return `checkpoint at step ${e.step}${e.best ? ' (best)' : ''}`;
    case 'completed': return `completed in ${e.seconds.toFixed(1)} s: ${JSON.stringify(e.metrics)}`;
    case 'stopped': return `stopped at step ${e.step}`;
    case 'failed': return `failed: ${e.error}`;
  }
}

function startCheck(context: vscode.ExtensionContext, output: vscode.OutputChannel): Promise<void> {
  output.show(true);
  const trainer = path.join(context.extensionPath, 'dist', 'trainer.js');
  return new Promise((resolve) => {
    const child = fork(trainer, ['check', '--json'], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        try {
          const ev: unknown = JSON.parse(line);
          if (isTrainerEvent(ev)) {
            output.appendLine(describe(ev));
            if (ev.type === 'completed') void vscode.window.showInformationMessage(`Fine-tune: ${describe(ev)}`);
            if (ev.type === 'failed') void vscode.window.showErrorMessage(`Fine-tune: ${ev.error}`);
          }
        } catch {
          output.appendLine(line);
        }
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => output.append(chunk.toString('utf8')));
    child.on('exit', (code) => {
      output.appendLine(`trainer exited with code ${code}`);
      resolve();
    });
  });
}
