// Which state-changing actions a role is offered for a device or a deployment. Pages render
// exactly these, so the role → interface mapping is tested here in one place.
import type { Deployment, Device, Role } from '../api/types';
import { can } from '../auth/roles';

export type DeviceAction = 'accept' | 'reject' | 'revoke';
export type DeploymentAction = 'pause' | 'resume' | 'cancel';

export function deviceActions(role: Role, device: Pick<Device, 'status'>): DeviceAction[] {
  if (!can(role, 'devices.manage')) return [];
  switch (device.status) {
    case 'pending': return ['accept', 'reject'];
    case 'rejected': return ['accept'];
    case 'accepted': return ['revoke'];
    default: return [];
  }
}

export function deploymentActions(role: Role, deployment: Pick<Deployment, 'state'>): DeploymentAction[] {
  if (!can(role, 'deployments.manage')) return [];
  switch (deployment.state) {
    case 'active': return ['pause', 'cancel'];
    case 'paused': return ['resume', 'cancel'];
    default: return [];
  }
}
