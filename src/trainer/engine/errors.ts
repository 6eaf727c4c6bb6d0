// Re-exports of the engine's error types for callers outside the engine.
import { GraphError } from './ir';
export { GraphError } from './ir';
export { NonFiniteError } from './program';

export function isGraphError(e: unknown): e is GraphError {
  return e instanceof GraphError;
}
