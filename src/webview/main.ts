// Dashboard webview entry (browser bundle). Placeholder until the dashboard lands: it announces
// itself with `ready` and shows run titles as text.

import { isHostToWebview, type WebviewToHost } from '../shared/protocol';

interface VsCodeApi { postMessage(msg: WebviewToHost): void }
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const root = document.getElementById('root') ?? document.body;
const status = document.createElement('p');
status.textContent = 'Waiting for a run…';
root.append(status);

window.addEventListener('message', (ev: MessageEvent<unknown>) => {
  const msg = ev.data;
  if (!isHostToWebview(msg)) return;
  if (msg.type === 'init') status.textContent = msg.runs.map((r) => r.name).join(', '); // text, never HTML
});

vscode.postMessage({ type: 'ready' });
