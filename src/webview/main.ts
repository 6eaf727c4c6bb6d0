// Dashboard webview entry (browser bundle). It announces itself with `ready` and shows the run's
// events as they arrive; the charts, confusion matrix and reports build on this.

import type { HostToWebview, WebviewToHost } from '../shared/protocol';

interface VsCodeApi { postMessage(msg: WebviewToHost): void }
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const root = document.getElementById('root') ?? document.body;
const status = document.createElement('p');
status.textContent = 'Waiting for a run…';
root.append(status);

window.addEventListener('message', (ev: MessageEvent<HostToWebview>) => {
  const msg = ev.data;
  switch (msg.type) {
    case 'init':
      status.textContent = msg.title; // text, never HTML
      break;
    case 'events':
      for (const e of msg.events) {
        if (e.type === 'train') status.textContent = `step ${e.step}: loss ${e.loss.toFixed(4)}`;
        else if (e.type === 'completed') status.textContent = `completed: ${JSON.stringify(e.metrics)}`;
      }
      break;
  }
});

vscode.postMessage({ type: 'ready' });
