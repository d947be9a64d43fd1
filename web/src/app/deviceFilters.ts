// The devices page's filters ⇄ its URL query, so a filtered view survives reload and sharing.
import type { DeviceStatus } from '../api/types';

export const kDeviceStatuses: Array<DeviceStatus | ''> = ['', 'accepted', 'pending', 'rejected', 'decommissioned'];
export const kPageSizes = [25, 50, 100, 200];
const kDefaultSize = 50;

export interface DeviceFilters {
  status: DeviceStatus | '';
  hardware_id: string;
  tag: string;
  image_version: string;
  limit: number;
  after: string;
}

export function parseDeviceFilters(search: string): DeviceFilters {
  const q = new URLSearchParams(search);
  const limit = Number(q.get('limit'));
  const status = q.get('status') ?? '';
  return {
    status: (kDeviceStatuses as string[]).includes(status) ? (status as DeviceStatus | '') : '',
    hardware_id: q.get('hardware_id') ?? '',
    tag: q.get('tag') ?? '',
    image_version: q.get('image_version') ?? '',
    limit: kPageSizes.includes(limit) ? limit : kDefaultSize,
    after: q.get('after') ?? '',
  };
}

export function deviceFiltersToSearch(f: DeviceFilters): string {
  const q = new URLSearchParams();
  if (f.status) q.set('status', f.status);
  if (f.hardware_id) q.set('hardware_id', f.hardware_id);
  if (f.tag) q.set('tag', f.tag);
  if (f.image_version) q.set('image_version', f.image_version);
  if (f.limit !== kDefaultSize) q.set('limit', String(f.limit));
  if (f.after) q.set('after', f.after);
  const s = q.toString();
  return s ? `?${s}` : '';
}
