// The management API v1 bodies the console reads and writes, as the contract documents them.
// Fields the contract marks optional are optional here; the console never assumes more.

export type Role = 'admin' | 'release-manager' | 'operator' | 'viewer' | 'auditor';

export interface User {
  username: string;
  role: Role;
  // aloftd reports it here too; the contract's place is the session's top level.
  must_change_password?: boolean;
}

export interface Session {
  user: User;
  csrf_token: string;
  expires: string;
  // Signed in with a one-time password: nothing but PUT /api/v1/users/self/password works.
  must_change_password?: boolean;
}

export type DeviceStatus = 'pending' | 'accepted' | 'rejected' | 'decommissioned';

export interface DeviceReport {
  id?: string;
  state: string;
  message?: string;
  at?: string;
  // The device wire format spells these in camelCase; accept the snake_case spelling too.
  deploymentId?: string;
  deployment_id?: string;
  bytesDone?: number;
  bytes_done?: number;
  bytesTotal?: number;
  bytes_total?: number;
  logTail?: string;
  log_tail?: string;
}

export interface Device {
  id: string;
  hardware_id: string;
  status: DeviceStatus;
  image_version: string;
  image_sha256: string;
  security_counter: number;
  agent_version: string;
  attributes: Record<string, string>;
  last_seen: string | null;
  deployment?: { id: string; state: string } | null;
  reports?: DeviceReport[];
}

export interface DevicePage {
  devices: Device[];
  next_after?: string | null;
}

export interface Release {
  name: string;
  version: string;
  hardware_ids: string[];
  security_counter: number;
  length: number;
  sha256: string;
  notes?: string;
}

// GET /api/v1/deltas: a delta aloftd built itself (docs/delta.md, "Deltas aloftd builds
// itself") to `release` from the image whose digest is `from_sha256`. The build facts come only
// with "ready", the reason only with "failed" (a failed pair is tried again an hour later).
export type ServerDeltaState = 'queued' | 'ready' | 'failed';

export interface ServerDelta {
  release: string;
  from_sha256: string;
  state: ServerDeltaState;
  requested_at: string;
  updated_at: string;
  // Ready only: the release whose signed image is the base, and the patch artifact.
  source_release?: string;
  artifact_sha256?: string;
  artifact_length?: number;
  from_length?: number;
  to_sha256?: string;
  to_length?: number;
  // Failed only.
  error?: string;
}

export interface Phase {
  percent: number;
  wait_seconds: number;
  started?: string | null;
}

export type DeploymentState = 'active' | 'paused' | 'completed' | 'cancelled';

export const kDeviceDeploymentStates = [
  'pending',
  'downloading',
  'installing',
  'rebooting',
  'succeeded',
  'failed',
  'rolled_back',
] as const;
export type DeviceDeploymentState = (typeof kDeviceDeploymentStates)[number];

export type DeploymentCounts = Record<DeviceDeploymentState, number>;

export interface DeploymentDevice {
  device_id: string;
  state: string;
  phase: number;
  updated: string;
  message?: string;
}

export interface Selector {
  devices?: string[];
  tags?: string[];
  hardware_id?: string;
  attributes?: Record<string, string>;
  image_version?: string;
  // A static group by name (GET /api/v1/groups); read when each device checks in.
  group?: string;
}

export interface Deployment {
  id: string;
  release: string;
  state: DeploymentState;
  paused_reason?: string | null;
  created: string;
  created_by: string;
  current_phase: number;
  phases: Phase[];
  failure_threshold_percent: number;
  counts: DeploymentCounts;
  devices?: DeploymentDevice[];
  // Which devices it targets, as created (aloftd reports it; older servers may not).
  selector?: Selector;
}

export interface NewDeployment {
  release: string;
  selector: Selector;
  phases: Array<{ percent: number; wait_seconds: number }>;
  failure_threshold_percent: number;
  min_devices_for_threshold: number;
  phase_deadline_seconds: number;
  maintenance_window?: { start: string; end: string };
}

// Static device groups (/api/v1/groups).
export interface DeviceGroup {
  name: string;
  members: number;
  created_at: string;
  created_by: string;
}

export interface GroupPage {
  groups: DeviceGroup[];
  next_after?: string | null;
}

// GET /api/v1/groups/{name}: the group and one page of its member device ids.
export interface GroupMembers extends DeviceGroup {
  devices: string[];
  next_after?: string | null;
}

// POST .../members answers `added`, POST .../members/remove answers `removed`: real changes only.
export interface GroupChange extends DeviceGroup {
  added?: number;
  removed?: number;
}

export interface AuditRecord {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  outcome: string;
  details: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

export interface AuditPage {
  records: AuditRecord[];
  next_after?: number | string | null;
}

export interface AuditVerification {
  ok: boolean;
  records: number;
  head_hash: string;
  first_bad_seq?: number;
  problem?: string;
}

export interface UserRecord {
  username: string;
  role: Role;
  totp: boolean;
  created: string;
}

export interface CreatedUser {
  username: string;
  role: Role;
  one_time_password: string;
}

export interface ApiToken {
  id: string;
  name: string;
  role: Role;
  expires: string;
  last_used?: string | null;
}

export interface CreatedToken extends ApiToken {
  token: string;
}

export interface TotpEnrollment {
  secret_base32: string;
  otpauth_uri: string;
}

// GET /api/v1/online-keys: {"snapshot":{keyid,key},"timestamp":{keyid,key}} and, while an
// online-key rotation is staged (POST /api/v1/online-keys/rotate), "next" with the same shape.
export interface PublicKeyEntry {
  keyid: string;
  key?: { keytype?: string; scheme?: string; keyval?: Record<string, string> } & Record<string, unknown>;
}
export type OnlineKeys = Record<string, unknown> & {
  snapshot?: PublicKeyEntry;
  timestamp?: PublicKeyEntry;
  next?: { snapshot?: PublicKeyEntry; timestamp?: PublicKeyEntry } | null;
};

// GET /api/v1/fleet/summary: device counts per (enrollment status, hardware id, image version).
export interface FleetGroup {
  status: DeviceStatus | string;
  hardwareId: string;
  imageVersion: string;
  devices: number;
}
export interface FleetSummary {
  total: number;
  groups: FleetGroup[];
  // Accepted devices not seen since `since` (the server uses now - 24 h).
  notSeen: { since: string; devices: number };
}

// GET /api/v1/fleet/history?hours=N: accepted devices per image version, oldest sample first.
export interface FleetSample {
  at: string;
  versions: Record<string, number>;
}
export interface FleetHistory {
  intervalSeconds: number;
  samples: FleetSample[];
}

// GET /api/v1/repo/status: versions and expiry of the metadata both repositories serve.
export interface RoleKeys {
  threshold: number;
  keyids: string[];
}
export interface MetadataFacts {
  version: number;
  expires: string;
}
export interface RootFacts extends MetadataFacts {
  roles?: Record<string, RoleKeys>;
}
export interface OnlineKeyFacts {
  name: string;
  keyid: string;
  // null when the server does not know (keys generated before it recorded the time).
  createdAt: string | null;
}
export interface RepoStatus {
  now: string;
  image: {
    root: RootFacts | null;
    targets: MetadataFacts | null;
    snapshot: MetadataFacts | null;
    timestamp: MetadataFacts | null;
  };
  // The Director's targets, snapshot and timestamp are per device and re-signed on demand;
  // aloftd reports its shared root (a server that also reports targets gets a row for it).
  director: {
    root: RootFacts | null;
    targets?: MetadataFacts | null;
  };
  onlineKeys: OnlineKeyFacts[];
}
