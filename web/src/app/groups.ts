// Static device groups: the client-side checks that mirror aloftd's (server/groups/group.cpp,
// core/wire IsValidId), so an operator learns about a bad name or id before sending it. The
// server checks again and its message is shown when it refuses. Pure, tested.
import { parseList } from '../util/list';

export const kGroupNameMaxLength = 64;
// Per add/remove request (aloftd's kMaxMembersPerChange).
export const kMaxMembersPerChange = 1000;
const kDeviceIdMaxLength = 128;

// 1-64 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit, no "..".
// The messages are aloftd's own wording.
export function groupNameProblem(name: string): string | null {
  if (name.length === 0 || name.length > kGroupNameMaxLength || !/^[a-z0-9][a-z0-9._-]*$/.test(name)) {
    return "A group name must be 1-64 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit.";
  }
  if (name.includes('..')) return "A group name must not contain '..'.";
  return null;
}

// A device id as the server accepts it: 1-128 characters of A-Z a-z 0-9 . _ : -, not
// starting with a dot.
export function isDeviceId(id: string): boolean {
  return id.length > 0 && id.length <= kDeviceIdMaxLength && !id.startsWith('.') && /^[A-Za-z0-9._:-]+$/.test(id);
}

// A pasted list of device ids (comma, space or newline separated) → the ids to send, or why
// they cannot be sent.
export function parseMemberIds(text: string): { ids: string[]; error: string | null } {
  const ids = parseList(text);
  if (ids.length === 0) return { ids, error: 'Enter at least one device id.' };
  if (ids.length > kMaxMembersPerChange) {
    return { ids, error: `At most ${kMaxMembersPerChange} device ids at a time (${ids.length} entered); split the list.` };
  }
  const bad = ids.filter((id) => !isDeviceId(id));
  if (bad.length > 0) {
    const shown = bad.slice(0, 5).join(', ') + (bad.length > 5 ? ` and ${bad.length - 5} more` : '');
    return { ids, error: `Not a valid device id: ${shown}. Ids use letters, digits, '.', '_', ':' and '-'.` };
  }
  return { ids, error: null };
}

// What an add or remove did, for the notice: the server counts only real changes.
export function membershipChangeMessage(group: string, asked: number, changed: number, add: boolean): string {
  const devices = (n: number) => `${n} device${n === 1 ? '' : 's'}`;
  const verb = add ? `Added ${devices(changed)} to ${group}` : `Removed ${devices(changed)} from ${group}`;
  const unchanged = asked - changed;
  if (unchanged <= 0) return `${verb}.`;
  return `${verb}; ${unchanged} ${add ? (unchanged === 1 ? 'was already a member' : 'were already members') : unchanged === 1 ? 'was not a member' : 'were not members'}.`;
}
