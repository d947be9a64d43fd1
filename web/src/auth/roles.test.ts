import { describe, expect, it } from 'vitest';
import type { Role } from '../api/types';
import { deploymentActions, deviceActions } from '../app/actions';
import { can, homeFor, isRole, kRoles, navFor, rolesWithin, type Permission } from './roles';

// The contract's table, written out independently of roles.ts.
const kContract: Record<Permission, Role[]> = {
  'users.manage': ['admin'],
  'tokens.manage-own': ['admin', 'release-manager', 'operator', 'viewer', 'auditor'],
  'devices.read': ['admin', 'release-manager', 'operator', 'viewer'],
  'devices.manage': ['admin', 'operator'],
  'releases.read': ['admin', 'release-manager', 'operator', 'viewer'],
  'releases.manage': ['admin', 'release-manager'],
  'deployments.read': ['admin', 'release-manager', 'operator', 'viewer'],
  'deployments.manage': ['admin', 'release-manager', 'operator'],
  'deployments.emergency': ['admin', 'release-manager', 'operator'],
  'audit.read': ['admin', 'auditor'],
};

describe('role table', () => {
  it('matches the contract for every role and permission', () => {
    for (const [perm, holders] of Object.entries(kContract) as Array<[Permission, Role[]]>) {
      for (const role of kRoles) expect(can(role, perm), `${role} ${perm}`).toBe(holders.includes(role));
    }
  });
  it('grants nothing to unknown or missing roles', () => {
    expect(can('superuser', 'devices.read')).toBe(false);
    expect(can(undefined, 'devices.read')).toBe(false);
    expect(isRole('viewer')).toBe(true);
    expect(isRole('root')).toBe(false);
  });
  it('lets tokens carry only the holder role or a subset', () => {
    expect(rolesWithin('viewer')).toEqual(['viewer']);
    expect(rolesWithin('auditor')).toEqual(['auditor']);
    expect(rolesWithin('operator').sort()).toEqual(['operator', 'viewer']);
    expect(rolesWithin('admin')).toEqual([...kRoles]);
  });
});

describe('interface per role', () => {
  it('shows a viewer no way to change anything', () => {
    for (const status of ['pending', 'accepted', 'rejected', 'decommissioned'] as const) {
      expect(deviceActions('viewer', { status })).toEqual([]);
      expect(deviceActions('auditor', { status })).toEqual([]);
      expect(deviceActions('release-manager', { status })).toEqual([]);
    }
    for (const state of ['active', 'paused', 'completed', 'cancelled'] as const) {
      expect(deploymentActions('viewer', { state })).toEqual([]);
      expect(deploymentActions('auditor', { state })).toEqual([]);
    }
  });
  it('offers device decisions that fit the state to those who manage devices', () => {
    expect(deviceActions('operator', { status: 'pending' })).toEqual(['accept', 'reject']);
    expect(deviceActions('admin', { status: 'accepted' })).toEqual(['revoke']);
    expect(deviceActions('admin', { status: 'rejected' })).toEqual(['accept']);
    expect(deviceActions('admin', { status: 'decommissioned' })).toEqual([]);
  });
  it('offers deployment controls that fit the state', () => {
    expect(deploymentActions('release-manager', { state: 'active' })).toEqual(['pause', 'cancel']);
    expect(deploymentActions('operator', { state: 'paused' })).toEqual(['resume', 'cancel']);
    expect(deploymentActions('admin', { state: 'completed' })).toEqual([]);
  });
  it('filters navigation and picks a home the role can read', () => {
    expect(navFor('viewer').map((n) => n.label)).toEqual(['Overview', 'Devices', 'Groups', 'Enrollments', 'Releases', 'Deployments', 'Security']);
    expect(navFor('auditor').map((n) => n.label)).toEqual(['Audit log', 'Security']);
    expect(navFor('admin').map((n) => n.label)).toContain('Users');
    expect(homeFor('auditor')).toBe('/audit');
    expect(homeFor('operator')).toBe('/');
  });
});
