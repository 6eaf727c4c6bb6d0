// Workspace trust: in an untrusted workspace (Restricted Mode) no trainer is started — a config
// names files to read and a model to load, and training forks a process. The run history,
// dashboards, hovers and config diagnostics keep working. One pure decision, used by the
// launcher, the commands, the run history and the CodeLens.

export type TrainAction = 'start' | 'resume' | 'rerun';

export const UNTRUSTED_NOTE = 'Training is off: this workspace is not trusted (Restricted Mode)';

/** Whether an action may start a trainer; when not, the message says why and what to do. */
export function trainingGate(trusted: boolean, action: TrainAction, what?: string): { allowed: true } | { allowed: false; message: string } {
  if (trusted) return { allowed: true };
  const verb = action === 'start' ? 'start' : action === 'resume' ? 'resume' : 'rerun';
  return {
    allowed: false,
    message:
      `Fine-tune: cannot ${verb} ${what ? `${what} ` : ''}in an untrusted workspace. Training runs a process that reads the files a config names; ` +
      'trust this workspace (Manage Workspace Trust) to train. Run history, dashboards and config diagnostics work without it.',
  };
}
