// Deployment progress arithmetic: totals, finished share, and how many devices each phase covers.
import { kDeviceDeploymentStates, type Deployment, type DeploymentCounts } from '../api/types';

export function countOf(counts: Partial<DeploymentCounts> | undefined, key: keyof DeploymentCounts): number {
  const v = counts?.[key];
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0;
}

export function totalDevices(counts: Partial<DeploymentCounts> | undefined): number {
  return kDeviceDeploymentStates.reduce((sum, k) => sum + countOf(counts, k), 0);
}

export function finishedDevices(counts: Partial<DeploymentCounts> | undefined): number {
  return countOf(counts, 'succeeded') + countOf(counts, 'failed') + countOf(counts, 'rolled_back');
}

export function failedShare(counts: Partial<DeploymentCounts> | undefined): number {
  const done = finishedDevices(counts);
  if (done === 0) return 0;
  return ((countOf(counts, 'failed') + countOf(counts, 'rolled_back')) / done) * 100;
}

// Cumulative number of devices phase i reaches: percent of the fleet, at least one device.
export function phaseTarget(percent: number, total: number): number {
  if (total <= 0) return 0;
  return Math.min(total, Math.max(1, Math.ceil((percent * total) / 100)));
}

export type PhaseStatus = 'done' | 'running' | 'paused' | 'waiting' | 'stopped' | 'not run';

export function phaseStatus(deployment: Pick<Deployment, 'state' | 'current_phase'>, index: number): PhaseStatus {
  if (deployment.state === 'completed') return 'done';
  if (index < deployment.current_phase) return 'done';
  const cancelled = deployment.state === 'cancelled';
  if (index === deployment.current_phase) return cancelled ? 'stopped' : deployment.state === 'paused' ? 'paused' : 'running';
  return cancelled ? 'not run' : 'waiting';
}

export function isFinal(deployment: Pick<Deployment, 'state'>): boolean {
  return deployment.state === 'completed' || deployment.state === 'cancelled';
}

// Wizard validation: phases must grow and end at 100 %.
export function validatePhases(phases: Array<{ percent: number; wait_seconds: number }>): string | null {
  if (phases.length === 0) return 'Add at least one phase.';
  let prev = 0;
  for (const [i, p] of phases.entries()) {
    if (!Number.isFinite(p.percent) || p.percent <= 0 || p.percent > 100) {
      return `Phase ${i + 1}: the share must be between 1 and 100 %.`;
    }
    if (p.percent <= prev) return `Phase ${i + 1}: each phase must reach more devices than the one before.`;
    if (!Number.isInteger(p.wait_seconds) || p.wait_seconds < 0) {
      return `Phase ${i + 1}: the wait must be a whole number of seconds, 0 or more.`;
    }
    prev = p.percent;
  }
  if (prev !== 100) return 'The last phase must reach 100 % of the targeted devices.';
  return null;
}
