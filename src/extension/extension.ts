// Extension entry point. Only src/extension imports `vscode`; the parts live in app.ts and the
// logic they use in core/ (plain Node, unit-tested).

import type * as vscode from 'vscode';
import { FineTune } from './app';

export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(new FineTune(context));
}

export function deactivate(): void {}
