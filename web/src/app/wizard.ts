// The deployment wizard's form → the contract's POST /api/v1/deployments body. Pure, tested.
import type { NewDeployment, Selector } from '../api/types';
import { parseList } from '../util/list';
import { groupNameProblem } from './groups';
import { validatePhases } from './progress';

export interface TargetForm {
  // A static group by name ('' = none); combined with the other criteria like them.
  group: string;
  hardware_id: string;
  tags: string;
  image_version: string;
  devices: string;
  attributes: string; // one key=value per line
}

export interface PhaseForm {
  percent: number;
  wait_minutes: number;
}

export interface RolloutForm {
  phases: PhaseForm[];
  failure_threshold_percent: number;
  min_devices_for_threshold: number;
  phase_deadline_minutes: number;
  window_enabled: boolean;
  window_start: string;
  window_end: string;
}

export const kPresets: Record<string, { label: string; phases: PhaseForm[] }> = {
  canary: {
    label: 'Canary: 1 %, 10 %, then everyone',
    phases: [
      { percent: 1, wait_minutes: 10 },
      { percent: 10, wait_minutes: 60 },
      { percent: 100, wait_minutes: 0 },
    ],
  },
  two: {
    label: 'Two steps: 10 %, then everyone',
    phases: [
      { percent: 10, wait_minutes: 30 },
      { percent: 100, wait_minutes: 0 },
    ],
  },
  all: { label: 'All at once', phases: [{ percent: 100, wait_minutes: 0 }] },
};

export function defaultRollout(): RolloutForm {
  return {
    phases: kPresets.canary!.phases.map((p) => ({ ...p })),
    failure_threshold_percent: 10,
    min_devices_for_threshold: 1,
    phase_deadline_minutes: 60,
    window_enabled: false,
    window_start: '01:00',
    window_end: '05:00',
  };
}

// Lives in util/list so that groups.ts shares it without an import cycle; re-exported for the
// wizard's callers and tests.
export { parseList };

export function parseAttributes(text: string): { value: Record<string, string>; error: string | null } {
  const value: Record<string, string> = {};
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) return { value, error: `Attribute line ${i + 1}: write it as key=value.` };
    value[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return { value, error: null };
}

export function buildSelector(form: TargetForm): { selector: Selector; error: string | null } {
  const selector: Selector = {};
  const devices = parseList(form.devices);
  const tags = parseList(form.tags);
  const attrs = parseAttributes(form.attributes);
  if (attrs.error) return { selector, error: attrs.error };
  const group = form.group.trim();
  if (group) {
    // Checked here too: a group can arrive from the URL (?group=) rather than the picker.
    const problem = groupNameProblem(group);
    if (problem) return { selector, error: problem };
    selector.group = group;
  }
  if (devices.length) selector.devices = devices;
  if (tags.length) selector.tags = tags;
  if (form.hardware_id.trim()) selector.hardware_id = form.hardware_id.trim();
  if (form.image_version.trim()) selector.image_version = form.image_version.trim();
  if (Object.keys(attrs.value).length) selector.attributes = attrs.value;
  if (Object.keys(selector).length === 0) {
    return { selector, error: 'Choose at least one target: a group, a hardware id, tags, a version, attributes or device ids.' };
  }
  return { selector, error: null };
}

const kHhMm = /^([01]\d|2[0-3]):[0-5]\d$/;

export function validateRollout(form: RolloutForm): string | null {
  const phases = form.phases.map((p) => ({ percent: p.percent, wait_seconds: Math.round(p.wait_minutes * 60) }));
  const phaseError = validatePhases(phases);
  if (phaseError) return phaseError;
  if (!(form.failure_threshold_percent >= 0 && form.failure_threshold_percent <= 100)) {
    return 'The failure threshold must be between 0 and 100 %.';
  }
  if (!Number.isInteger(form.min_devices_for_threshold) || form.min_devices_for_threshold < 1) {
    return 'The minimum number of devices before the threshold applies must be 1 or more.';
  }
  if (!(form.phase_deadline_minutes > 0)) return 'The phase deadline must be more than 0 minutes.';
  if (form.window_enabled && (!kHhMm.test(form.window_start) || !kHhMm.test(form.window_end))) {
    return 'The maintenance window needs a start and an end as HH:MM (UTC).';
  }
  return null;
}

export function buildDeployment(release: string, selector: Selector, form: RolloutForm): NewDeployment {
  const body: NewDeployment = {
    release,
    selector,
    phases: form.phases.map((p) => ({ percent: p.percent, wait_seconds: Math.round(p.wait_minutes * 60) })),
    failure_threshold_percent: form.failure_threshold_percent,
    min_devices_for_threshold: form.min_devices_for_threshold,
    phase_deadline_seconds: Math.round(form.phase_deadline_minutes * 60),
  };
  if (form.window_enabled) body.maintenance_window = { start: form.window_start, end: form.window_end };
  return body;
}
