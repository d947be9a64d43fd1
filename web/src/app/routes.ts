// Path → page matching for the history-API router. Pure, so it is unit-tested.

export type RouteName =
  | 'overview'
  | 'devices'
  | 'device'
  | 'groups'
  | 'group'
  | 'enrollments'
  | 'releases'
  | 'release'
  | 'deployments'
  | 'deployment-new'
  | 'deployment'
  | 'audit'
  | 'security'
  | 'users'
  | 'account'
  | 'not-found';

export interface Route {
  name: RouteName;
  params: Record<string, string>;
}

const kPatterns: Array<[RouteName, RegExp, string[]]> = [
  ['overview', /^\/$/, []],
  ['devices', /^\/devices$/, []],
  ['device', /^\/devices\/([^/]+)$/, ['id']],
  ['groups', /^\/groups$/, []],
  ['group', /^\/groups\/([^/]+)$/, ['name']],
  ['enrollments', /^\/enrollments$/, []],
  ['releases', /^\/releases$/, []],
  ['release', /^\/releases\/([^/]+)$/, ['name']],
  ['deployments', /^\/deployments$/, []],
  ['deployment-new', /^\/deployments\/new$/, []],
  ['deployment', /^\/deployments\/([^/]+)$/, ['id']],
  ['audit', /^\/audit$/, []],
  ['security', /^\/security$/, []],
  ['users', /^\/users$/, []],
  ['account', /^\/account$/, []],
];

export function matchRoute(pathname: string): Route {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  for (const [name, re, keys] of kPatterns) {
    const m = re.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    let ok = true;
    keys.forEach((key, i) => {
      try {
        params[key] = decodeURIComponent(m[i + 1] ?? '');
      } catch {
        ok = false; // malformed %-escape: treat as not found rather than throw
      }
    });
    if (ok) return { name, params };
  }
  return { name: 'not-found', params: {} };
}

export function devicePath(id: string): string {
  return `/devices/${encodeURIComponent(id)}`;
}
export function groupPath(name: string): string {
  return `/groups/${encodeURIComponent(name)}`;
}
export function releasePath(name: string): string {
  return `/releases/${encodeURIComponent(name)}`;
}
export function deploymentPath(id: string): string {
  return `/deployments/${encodeURIComponent(id)}`;
}
