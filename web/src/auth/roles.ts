// The contract's role → permission table, so the interface shows each role only what it may do.
// This is a courtesy, not a control: the server checks every permission on every request.
import type { Role } from '../api/types';

export type Permission =
  | 'users.manage'
  | 'tokens.manage-own'
  | 'devices.read'
  | 'devices.manage'
  | 'releases.read'
  | 'releases.manage'
  | 'deployments.read'
  | 'deployments.manage'
  | 'deployments.emergency'
  | 'audit.read';

export const kRoles: readonly Role[] = ['admin', 'release-manager', 'operator', 'viewer', 'auditor'];

const kRead: Permission[] = ['devices.read', 'releases.read', 'deployments.read'];

const kTable: Record<Role, ReadonlySet<Permission>> = {
  admin: new Set<Permission>([
    'users.manage',
    'tokens.manage-own',
    ...kRead,
    'devices.manage',
    'releases.manage',
    'deployments.manage',
    'deployments.emergency',
    'audit.read',
  ]),
  'release-manager': new Set<Permission>([
    'tokens.manage-own',
    ...kRead,
    'releases.manage',
    'deployments.manage',
    'deployments.emergency',
  ]),
  operator: new Set<Permission>([
    'tokens.manage-own',
    ...kRead,
    'devices.manage',
    'deployments.manage',
    'deployments.emergency',
  ]),
  viewer: new Set<Permission>(['tokens.manage-own', ...kRead]),
  auditor: new Set<Permission>(['tokens.manage-own', 'audit.read']),
};

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (kRoles as readonly string[]).includes(value);
}

// Unknown roles (a newer server) get nothing rather than a guess.
export function can(role: Role | string | null | undefined, permission: Permission): boolean {
  if (!isRole(role)) return false;
  return kTable[role].has(permission);
}

// A token may carry the caller's role or one whose permissions are a subset of it.
export function rolesWithin(holder: Role): Role[] {
  return kRoles.filter((r) => [...kTable[r]].every((p) => kTable[holder].has(p)));
}

export interface NavItem {
  path: string;
  label: string;
  needs: Permission;
}

export const kNav: readonly NavItem[] = [
  { path: '/', label: 'Overview', needs: 'devices.read' },
  { path: '/devices', label: 'Devices', needs: 'devices.read' },
  { path: '/groups', label: 'Groups', needs: 'devices.read' },
  { path: '/enrollments', label: 'Enrollments', needs: 'devices.read' },
  { path: '/releases', label: 'Releases', needs: 'releases.read' },
  { path: '/deployments', label: 'Deployments', needs: 'deployments.read' },
  { path: '/audit', label: 'Audit log', needs: 'audit.read' },
  { path: '/security', label: 'Security', needs: 'tokens.manage-own' },
  { path: '/users', label: 'Users', needs: 'users.manage' },
];

export function navFor(role: Role): NavItem[] {
  return kNav.filter((item) => can(role, item.needs));
}

// Where a role lands after sign-in: the first page it may read.
export function homeFor(role: Role): string {
  return navFor(role)[0]?.path ?? '/account';
}
