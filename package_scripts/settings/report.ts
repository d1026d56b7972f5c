import type { Settings } from './load.js';
import { supergatewayArgsNote } from './supergateway.js';
import { describeUnknown, describeUnpassed } from './unknown.js';

/**
 * What the env file says that its owner should hear at build and at start, and
 * with --dry-run alike: settings kept for the guide's sake, typos, settings the
 * template ignores, variables the server will not see. Names only: a value is never printed.
 */
export interface SettingsReport {
  /** Accepted as written, with a word on what it does now. */
  notes: string[];
  /** Probably not what the owner meant. */
  warnings: string[];
}

export function settingsReport(settings: Settings): SettingsReport {
  const note = supergatewayArgsNote(settings.SUPERGATEWAY_EXTRA_ARGS);
  return {
    notes: note ? [note] : [],
    warnings: [
      ...settings.unknownSettings.map(describeUnknown),
      ...(settings.unpassedVariables.length > 0 ? [describeUnpassed(settings.unpassedVariables, Object.keys(settings.serverEnv), settings.envFile)] : []),
      ...(settings.unusedSettings.length > 0 ? [`TEMPLATE=${settings.template} does not use ${settings.unusedSettings.join(', ')}: ignored`] : []),
    ],
  };
}
