import { UsageError } from '../errors.js';
import type { ExportInstance, RenderedExport } from './export.js';

export function kubernetesExport(_instances: readonly ExportInstance[], _out: string | undefined): RenderedExport {
  throw new UsageError('--format kubernetes is not written yet');
}
