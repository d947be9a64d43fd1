// The management API v1, one method per documented endpoint the console uses.
import { ApiClient } from './client';
import type {
  ApiToken,
  AuditPage,
  AuditVerification,
  CreatedToken,
  CreatedUser,
  Deployment,
  Device,
  DeviceGroup,
  DevicePage,
  DeviceStatus,
  FleetHistory,
  FleetSummary,
  GroupChange,
  GroupMembers,
  GroupPage,
  NewDeployment,
  OnlineKeys,
  Release,
  RepoStatus,
  Role,
  ServerDelta,
  Session,
  TotpEnrollment,
  UserRecord,
} from './types';

const seg = encodeURIComponent;

export interface DeviceFilter {
  status?: DeviceStatus | '';
  hardware_id?: string;
  tag?: string;
  image_version?: string;
  limit?: number;
  after?: string | null;
}

export class Api {
  constructor(readonly client: ApiClient) {}

  // Session
  async signIn(username: string, password: string, totp?: string): Promise<Session> {
    const body: Record<string, string> = { username, password };
    if (totp) body.totp = totp;
    const session = await this.client.request<Session>('POST', '/api/v1/session', {
      body,
      expectUnauthenticated: true,
    });
    this.client.setCsrfToken(session.csrf_token);
    return session;
  }
  async currentSession(): Promise<Session> {
    const session = await this.client.request<Session>('GET', '/api/v1/session', {
      expectUnauthenticated: true,
    });
    this.client.setCsrfToken(session.csrf_token);
    return session;
  }
  async signOut(): Promise<void> {
    try {
      await this.client.request<void>('DELETE', '/api/v1/session', { expectUnauthenticated: true });
    } finally {
      this.client.setCsrfToken(null);
    }
  }

  // Devices
  devices(filter: DeviceFilter): Promise<DevicePage> {
    return this.client.get<DevicePage>('/api/v1/devices', {
      status: filter.status,
      hardware_id: filter.hardware_id,
      tag: filter.tag,
      image_version: filter.image_version,
      limit: filter.limit,
      after: filter.after,
    });
  }
  device(id: string): Promise<Device> {
    return this.client.get<Device>(`/api/v1/devices/${seg(id)}`);
  }
  // Counts per (status, hardware id, image version): the overview's figures in one request.
  fleetSummary(): Promise<FleetSummary> {
    return this.client.get<FleetSummary>('/api/v1/fleet/summary');
  }
  fleetHistory(hours: number): Promise<FleetHistory> {
    return this.client.get<FleetHistory>('/api/v1/fleet/history', { hours });
  }
  deviceAction(id: string, action: 'accept' | 'reject' | 'revoke'): Promise<Device> {
    return this.client.post<Device>(`/api/v1/devices/${seg(id)}/${action}`);
  }

  // Static device groups: reading needs devices.read, changes devices.manage.
  groups(after: string | null, limit: number): Promise<GroupPage> {
    return this.client.get<GroupPage>('/api/v1/groups', { after, limit });
  }
  group(name: string, after: string | null, limit: number): Promise<GroupMembers> {
    return this.client.get<GroupMembers>(`/api/v1/groups/${seg(name)}`, { after, limit });
  }
  createGroup(name: string): Promise<DeviceGroup> {
    return this.client.post<DeviceGroup>('/api/v1/groups', { name });
  }
  // 409 group_in_use while an active or paused deployment targets it (the message names them).
  async deleteGroup(name: string): Promise<void> {
    await this.client.request<unknown>('DELETE', `/api/v1/groups/${seg(name)}`);
  }
  // All or nothing: unknown ids answer 400 listing them.
  addGroupMembers(name: string, devices: string[]): Promise<GroupChange> {
    return this.client.post<GroupChange>(`/api/v1/groups/${seg(name)}/members`, { devices });
  }
  removeGroupMembers(name: string, devices: string[]): Promise<GroupChange> {
    return this.client.post<GroupChange>(`/api/v1/groups/${seg(name)}/members/remove`, { devices });
  }

  // Releases and keys
  async releases(): Promise<Release[]> {
    return (await this.client.get<{ releases: Release[] }>('/api/v1/releases')).releases;
  }
  release(name: string): Promise<Release> {
    return this.client.get<Release>(`/api/v1/releases/${seg(name)}`);
  }
  // releases.read: the deltas aloftd built itself, newest first, at most 500.
  async serverDeltas(): Promise<ServerDelta[]> {
    return (await this.client.get<{ deltas?: ServerDelta[] }>('/api/v1/deltas')).deltas ?? [];
  }
  onlineKeys(): Promise<OnlineKeys> {
    return this.client.get<OnlineKeys>('/api/v1/online-keys');
  }
  // releases.manage: stages new Image snapshot and timestamp keys, reported as "next" until an
  // offline-signed root names them. The route takes no body.
  rotateOnlineKeys(): Promise<{ next?: OnlineKeys['next'] }> {
    return this.client.request<{ next?: OnlineKeys['next'] }>('POST', '/api/v1/online-keys/rotate');
  }
  repoStatus(): Promise<RepoStatus> {
    return this.client.get<RepoStatus>('/api/v1/repo/status');
  }

  // Deployments
  async deployments(state?: string): Promise<Deployment[]> {
    return (await this.client.get<{ deployments: Deployment[] }>('/api/v1/deployments', { state }))
      .deployments;
  }
  deployment(id: string): Promise<Deployment> {
    return this.client.get<Deployment>(`/api/v1/deployments/${seg(id)}`);
  }
  createDeployment(body: NewDeployment): Promise<Deployment> {
    return this.client.post<Deployment>('/api/v1/deployments', body);
  }
  pauseDeployment(id: string, reason: string): Promise<Deployment> {
    return this.client.post<Deployment>(`/api/v1/deployments/${seg(id)}/pause`, reason ? { reason } : {});
  }
  resumeDeployment(id: string): Promise<Deployment> {
    return this.client.post<Deployment>(`/api/v1/deployments/${seg(id)}/resume`);
  }
  cancelDeployment(id: string): Promise<Deployment> {
    return this.client.post<Deployment>(`/api/v1/deployments/${seg(id)}/cancel`);
  }
  pauseAll(reason: string): Promise<{ paused: number }> {
    return this.client.post<{ paused: number }>('/api/v1/deployments/pause-all', { reason });
  }

  // Audit
  audit(after: number | string | null, limit: number): Promise<AuditPage> {
    return this.client.get<AuditPage>('/api/v1/audit', { after, limit });
  }
  verifyAudit(): Promise<AuditVerification> {
    return this.client.get<AuditVerification>('/api/v1/audit/verify');
  }

  // Users and own account
  async users(): Promise<UserRecord[]> {
    return (await this.client.get<{ users: UserRecord[] }>('/api/v1/users')).users;
  }
  createUser(username: string, role: Role): Promise<CreatedUser> {
    return this.client.post<CreatedUser>('/api/v1/users', { username, role });
  }
  setUserRole(username: string, role: Role): Promise<UserRecord> {
    return this.client.put<UserRecord>(`/api/v1/users/${seg(username)}/role`, { role });
  }
  changePassword(current: string, next: string): Promise<void> {
    return this.client.put<void>('/api/v1/users/self/password', { current, new: next });
  }
  startTotp(): Promise<TotpEnrollment> {
    return this.client.post<TotpEnrollment>('/api/v1/users/self/totp', {});
  }
  confirmTotp(code: string): Promise<void> {
    return this.client.post<void>('/api/v1/users/self/totp/confirm', { code });
  }
  async tokens(): Promise<ApiToken[]> {
    return (await this.client.get<{ tokens: ApiToken[] }>('/api/v1/tokens')).tokens;
  }
  createToken(name: string, role: Role, expiresInDays: number): Promise<CreatedToken> {
    return this.client.post<CreatedToken>('/api/v1/tokens', {
      name,
      role,
      expires_in_days: expiresInDays,
    });
  }
  deleteToken(id: string): Promise<void> {
    return this.client.delete(`/api/v1/tokens/${seg(id)}`);
  }
}
