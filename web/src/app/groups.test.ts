// Static groups in the console: the name rule (as aloftd's CheckGroupName), pasted id lists,
// change messages, cursor paging, the selector with a group, and the group routes.
import { describe, expect, it } from 'vitest';
import { groupNameProblem, isDeviceId, kMaxMembersPerChange, membershipChangeMessage, parseMemberIds } from './groups';
import { kFirstPage, nextPage, pageNumber, previousPage } from './pager';
import { groupPath, matchRoute } from './routes';
import { selectorEntries } from './selector';
import { buildSelector, type TargetForm } from './wizard';

describe('group names', () => {
  it('accepts what the server accepts', () => {
    for (const ok of ['a', '0', 'lab-rack-2', 'eu.west_1', 'a.b.c', '9-to-5', 'x'.repeat(64), 'a-', 'a.', 'a_']) {
      expect(groupNameProblem(ok), ok).toBeNull();
    }
  });
  it('refuses empty, long, upper-case, odd characters and a leading symbol', () => {
    for (const bad of ['', 'x'.repeat(65), 'Lab', 'lab rack', 'lab/rack', 'lab:1', '-lab', '.lab', '_lab', 'läb', ' lab', 'lab\n']) {
      expect(groupNameProblem(bad), JSON.stringify(bad)).toMatch(/1-64 characters/);
    }
  });
  it('refuses ".." anywhere, with its own message', () => {
    for (const bad of ['a..b', 'a..', 'lab...1']) expect(groupNameProblem(bad), bad).toMatch(/must not contain '\.\.'/);
  });
});

describe('member ids', () => {
  it('validates device ids as the server does', () => {
    for (const ok of ['dev-1', 'A:b.c_d-9', 'x'.repeat(128), '_x', ':x', '-x']) expect(isDeviceId(ok), ok).toBe(true);
    for (const bad of ['', '.hidden', 'x'.repeat(129), 'a/b', 'a b', 'ä', 'a,b']) expect(isDeviceId(bad), bad).toBe(false);
  });
  it('parses a pasted list: separators, duplicates and order', () => {
    expect(parseMemberIds(' dev-1, dev-2\n dev-1\tdev-3 ')).toEqual({ ids: ['dev-1', 'dev-2', 'dev-3'], error: null });
  });
  it('says what is wrong with a list before sending it', () => {
    expect(parseMemberIds(' ,\n').error).toMatch(/at least one/);
    const many = Array.from({ length: kMaxMembersPerChange + 1 }, (_, i) => `d${i}`).join(' ');
    expect(parseMemberIds(many).error).toMatch(/At most 1000 .*1001 entered/);
    expect(parseMemberIds(Array.from({ length: kMaxMembersPerChange }, (_, i) => `d${i}`).join(' ')).error).toBeNull();
    expect(parseMemberIds('ok-1 bad/1 .bad2').error).toMatch(/Not a valid device id: bad\/1, \.bad2\./);
    expect(parseMemberIds('a/1 a/2 a/3 a/4 a/5 a/6 a/7').error).toMatch(/a\/5 and 2 more/);
  });
  it('reports what an add or remove changed', () => {
    expect(membershipChangeMessage('lab', 2, 2, true)).toBe('Added 2 devices to lab.');
    expect(membershipChangeMessage('lab', 3, 1, true)).toBe('Added 1 device to lab; 2 were already members.');
    expect(membershipChangeMessage('lab', 1, 0, true)).toBe('Added 0 devices to lab; 1 was already a member.');
    expect(membershipChangeMessage('lab', 1, 1, false)).toBe('Removed 1 device from lab.');
    expect(membershipChangeMessage('lab', 4, 2, false)).toBe('Removed 2 devices from lab; 2 were not members.');
  });
});

describe('cursor pager', () => {
  it('walks forward and back over server cursors', () => {
    let p = kFirstPage;
    expect(pageNumber(p)).toBe(1);
    expect(nextPage(p, null)).toBe(p); // no next page: stay
    p = nextPage(p, 'g-050');
    p = nextPage(p, 'g-100');
    expect(p).toEqual({ after: 'g-100', before: ['', 'g-050'] });
    expect(pageNumber(p)).toBe(3);
    p = previousPage(p);
    expect(p).toEqual({ after: 'g-050', before: [''] });
    p = previousPage(previousPage(p));
    expect(p).toEqual(kFirstPage);
  });
});

describe('selector with a group', () => {
  const form = (patch: Partial<TargetForm>): TargetForm => ({ group: '', hardware_id: '', tags: '', image_version: '', devices: '', attributes: '', ...patch });
  it('sends the group, alone or with other criteria', () => {
    expect(buildSelector(form({ group: ' lab-rack-2 ' }))).toEqual({ selector: { group: 'lab-rack-2' }, error: null });
    expect(buildSelector(form({ group: 'lab', hardware_id: 'rpi4' })).selector).toEqual({ group: 'lab', hardware_id: 'rpi4' });
  });
  it('refuses a malformed group (it may come from the URL)', () => {
    expect(buildSelector(form({ group: '../etc' })).error).toMatch(/1-64 characters/);
    expect(buildSelector(form({ group: 'a..b' })).error).toMatch(/\.\./);
  });
  it('lists the criteria for review and the deployment page, group first', () => {
    expect(selectorEntries({ hardware_id: 'rpi4', tags: ['a', 'b'], group: 'lab', attributes: { site: 'berlin' }, devices: [] })).toEqual([
      { key: 'group', label: 'group', text: 'lab' },
      { key: 'tags', label: 'tags', text: 'a, b' },
      { key: 'hardware_id', label: 'hardware id', text: 'rpi4' },
      { key: 'attributes', label: 'attributes', text: 'site=berlin' },
    ]);
    expect(selectorEntries(undefined)).toEqual([]);
    expect(selectorEntries({})).toEqual([]);
  });
});

describe('group routes', () => {
  it('matches the list and one group, encoding the name', () => {
    expect(matchRoute('/groups')).toEqual({ name: 'groups', params: {} });
    expect(matchRoute('/groups/')).toEqual({ name: 'groups', params: {} });
    expect(matchRoute(groupPath('lab.rack_2'))).toEqual({ name: 'group', params: { name: 'lab.rack_2' } });
    expect(groupPath('a b')).toBe('/groups/a%20b');
    expect(matchRoute('/groups/a/b').name).toBe('not-found');
  });
});
