import { describe, expect, it, vi } from 'vitest';
import { Api } from './api';
import { ApiClient, ApiError, buildQuery, isSessionLost, parseErrorBody } from './client';

interface Call {
  url: string;
  init: RequestInit;
}

// A fetch double that records calls and answers from a queue of [status, body] pairs.
function fakeFetch(...answers: Array<[number, unknown] | Error>) {
  const calls: Call[] = [];
  const fn = vi.fn(async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    const next = answers.shift();
    if (!next) throw new Error('unexpected request');
    if (next instanceof Error) throw next;
    const [status, body] = next;
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    return new Response(status === 204 ? null : text, { status });
  });
  return { fetch: fn as unknown as typeof fetch, calls };
}

const header = (c: Call, name: string) => (c.init.headers as Record<string, string>)[name];
const session = { user: { username: 'ana', role: 'operator' }, csrf_token: 'tok-123', expires: '2030-01-01T00:00:00Z' };

describe('ApiClient', () => {
  it('sends the CSRF token on every non-GET request and never on GET', async () => {
    const f = fakeFetch([200, session], [200, {}], [200, {}], [200, {}], [204, undefined]);
    const api = new Api(new ApiClient({ fetch: f.fetch }));
    await api.signIn('ana', 'pw');
    await api.devices({});
    await api.deviceAction('d1', 'accept');
    await api.setUserRole('bob', 'viewer');
    await api.deleteToken('t1');
    expect(header(f.calls[0]!, 'X-CSRF-Token')).toBeUndefined(); // sign-in: no token yet
    expect(header(f.calls[1]!, 'X-CSRF-Token')).toBeUndefined(); // GET
    expect(f.calls.slice(2).map((c) => [c.init.method, header(c, 'X-CSRF-Token')])).toEqual([
      ['POST', 'tok-123'],
      ['PUT', 'tok-123'],
      ['DELETE', 'tok-123'],
    ]);
    for (const c of f.calls) expect(c.init.credentials).toBe('same-origin');
  });

  it('forgets the CSRF token on sign-out, even when the server call fails', async () => {
    const f = fakeFetch([200, session], new TypeError('offline'), [200, {}]);
    const client = new ApiClient({ fetch: f.fetch });
    const api = new Api(client);
    await api.signIn('ana', 'pw');
    await expect(api.signOut()).rejects.toMatchObject({ code: 'network' });
    expect(client.hasCsrfToken()).toBe(false);
    await client.post('/api/v1/x');
    expect(header(f.calls[2]!, 'X-CSRF-Token')).toBeUndefined();
  });

  it('reports a lost session once, drops the token, and throws', async () => {
    const onUnauthenticated = vi.fn();
    const f = fakeFetch([200, session], [401, { error: { code: 'unauthenticated', message: 'sign in first' } }]);
    const client = new ApiClient({ fetch: f.fetch, onUnauthenticated });
    const api = new Api(client);
    await api.signIn('ana', 'pw');
    const err = await api.devices({}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 401, code: 'unauthenticated', message: 'sign in first' });
    expect(onUnauthenticated).toHaveBeenCalledTimes(1);
    expect(client.hasCsrfToken()).toBe(false);
  });

  it('treats 401 at sign-in as an answer, not as a lost session', async () => {
    const onUnauthenticated = vi.fn();
    const f = fakeFetch([401, { error: { code: 'totp_required', message: 'code' } }], [401, { error: { code: 'invalid_credentials', message: 'no' } }]);
    const api = new Api(new ApiClient({ fetch: f.fetch, onUnauthenticated }));
    await expect(api.signIn('ana', 'pw')).rejects.toMatchObject({ code: 'totp_required' });
    await expect(api.signIn('ana', 'pw', '123456')).rejects.toMatchObject({ code: 'invalid_credentials' });
    expect(JSON.parse(String(f.calls[1]!.init.body))).toEqual({ username: 'ana', password: 'pw', totp: '123456' });
    expect(onUnauthenticated).not.toHaveBeenCalled();
  });

  it('keeps the session when a signed-in credential check fails', async () => {
    const onUnauthenticated = vi.fn();
    const onPasswordChangeRequired = vi.fn();
    // aloftd answers 403 for a wrong current password; 401 is accepted too.
    const wrong = { error: { code: 'invalid_credentials', message: 'the current password is wrong' } };
    const f = fakeFetch([403, wrong], [401, wrong]);
    const api = new Api(new ApiClient({ fetch: f.fetch, onUnauthenticated, onPasswordChangeRequired }));
    await expect(api.changePassword('old', 'new-password-12')).rejects.toMatchObject({ status: 403, code: 'invalid_credentials' });
    await expect(api.changePassword('old', 'new-password-12')).rejects.toMatchObject({ status: 401, code: 'invalid_credentials' });
    expect(onUnauthenticated).not.toHaveBeenCalled();
    expect(onPasswordChangeRequired).not.toHaveBeenCalled();
  });

  it('reports a session still on its one-time password, keeping the session', async () => {
    const onUnauthenticated = vi.fn();
    const onPasswordChangeRequired = vi.fn();
    const f = fakeFetch([200, session], [403, { error: { code: 'password_change_required', message: 'change it first' } }], [403, { error: { code: 'forbidden', message: 'no' } }]);
    const client = new ApiClient({ fetch: f.fetch, onUnauthenticated, onPasswordChangeRequired });
    const api = new Api(client);
    await api.signIn('ana', 'pw');
    await expect(api.devices({})).rejects.toMatchObject({ status: 403, code: 'password_change_required' });
    await expect(api.deviceAction('d1', 'accept')).rejects.toMatchObject({ status: 403, code: 'forbidden' });
    expect(onPasswordChangeRequired).toHaveBeenCalledTimes(1);
    expect(onUnauthenticated).not.toHaveBeenCalled();
    expect(client.hasCsrfToken()).toBe(true);
  });

  it('turns network failures and timeouts into ApiErrors', async () => {
    const f = fakeFetch(new TypeError('Failed to fetch'));
    await expect(new ApiClient({ fetch: f.fetch }).get('/x')).rejects.toMatchObject({ status: 0, code: 'network' });
    const hang = ((_: string, init: RequestInit) =>
      new Promise((_resolve, reject) => init.signal?.addEventListener('abort', () => reject(new Error('aborted'))))) as unknown as typeof fetch;
    await expect(new ApiClient({ fetch: hang, timeoutMs: 10 }).get('/x')).rejects.toMatchObject({ code: 'timeout' });
  });

  it('encodes path segments and drops empty query values', async () => {
    const f = fakeFetch([200, { devices: [], next_after: null }], [200, {}]);
    const api = new Api(new ApiClient({ fetch: f.fetch }));
    await api.devices({ status: 'pending', hardware_id: '', tag: 'a b&c', limit: 50, after: null });
    await api.device('dev/../x?y');
    expect(f.calls[0]!.url).toBe('/api/v1/devices?status=pending&tag=a+b%26c&limit=50');
    expect(f.calls[1]!.url).toBe('/api/v1/devices/dev%2F..%2Fx%3Fy');
    expect(buildQuery(undefined)).toBe('');
  });

  it('calls the fleet and repository status endpoints, sending CSRF only on the rotation', async () => {
    const f = fakeFetch([200, session], [200, { total: 0, groups: [], notSeen: { since: '', devices: 0 } }], [200, { intervalSeconds: 3600, samples: [] }],
      [200, { now: '', image: {}, director: {}, onlineKeys: [] }], [200, { image_version: '2.0' }], [200, {}]);
    const api = new Api(new ApiClient({ fetch: f.fetch }));
    await api.signIn('ana', 'pw');
    await api.fleetSummary();
    await api.fleetHistory(720);
    await api.repoStatus();
    await api.devices({ status: 'accepted', image_version: '2.0', limit: 50 });
    await api.rotateOnlineKeys();
    expect(f.calls.slice(1).map((c) => `${c.init.method ?? 'GET'} ${c.url}`)).toEqual([
      'GET /api/v1/fleet/summary',
      'GET /api/v1/fleet/history?hours=720',
      'GET /api/v1/repo/status',
      'GET /api/v1/devices?status=accepted&image_version=2.0&limit=50',
      'POST /api/v1/online-keys/rotate',
    ]);
    expect(header(f.calls[1]!, 'X-CSRF-Token')).toBeUndefined();
    expect(header(f.calls[5]!, 'X-CSRF-Token')).toBe(session.csrf_token);
    // aloftd's rotate route takes no body at all.
    expect(f.calls[5]!.init.body).toBeUndefined();
  });

  it('returns undefined for 204 and rejects unreadable success bodies', async () => {
    const f = fakeFetch([204, undefined], [200, '<html>']);
    const client = new ApiClient({ fetch: f.fetch });
    await expect(client.delete('/a')).resolves.toBeUndefined();
    await expect(client.get('/b')).rejects.toMatchObject({ code: 'bad_response' });
  });
});

describe('parseErrorBody', () => {
  it('reads the contract shape', () => {
    expect(parseErrorBody(409, '{"error":{"code":"missing_artifact","message":"upload the blob first"}}')).toMatchObject({
      status: 409,
      code: 'missing_artifact',
      message: 'upload the blob first',
    });
  });
  it('reads the flat shape', () => {
    expect(parseErrorBody(403, '{"code":"forbidden","message":"no"}')).toMatchObject({ code: 'forbidden', message: 'no' });
  });
  it('falls back for non-JSON and empty bodies, never echoing the body', () => {
    const e = parseErrorBody(502, '<html><body>Bad gateway</body></html>');
    expect(e.code).toBe('http_502');
    expect(e.message).not.toContain('<html>');
    expect(parseErrorBody(429, '')).toMatchObject({ code: 'http_429', message: expect.stringContaining('Too many') });
    expect(parseErrorBody(400, '{"error":{"code":42}}').code).toBe('http_400');
  });
  it('classifies lost sessions', () => {
    expect(isSessionLost(new ApiError(401, 'unauthenticated', ''))).toBe(true);
    expect(isSessionLost(new ApiError(401, 'session_expired', ''))).toBe(true);
    expect(isSessionLost(new ApiError(401, 'invalid_credentials', ''))).toBe(false);
    expect(isSessionLost(new ApiError(403, 'forbidden', ''))).toBe(false);
  });
});

describe('Api: static groups', () => {
  it('reads with GET and changes with the CSRF token, at the documented paths and bodies', async () => {
    const group = { name: 'lab', members: 1, created_at: '2030-01-01T00:00:00Z', created_by: 'ana' };
    const f = fakeFetch(
      [200, session],
      [200, { groups: [group], next_after: null }],
      [200, { ...group, devices: ['d1'], next_after: null }],
      [201, group],
      [200, { ...group, members: 3, added: 2 }],
      [200, { ...group, removed: 1 }],
      [200, { deleted: 'lab' }],
    );
    const api = new Api(new ApiClient({ fetch: f.fetch }));
    await api.signIn('ana', 'pw');
    expect((await api.groups('g-1', 50)).groups).toEqual([group]);
    expect((await api.group('lab/x', null, 100)).devices).toEqual(['d1']);
    await api.createGroup('lab');
    expect((await api.addGroupMembers('lab', ['d1', 'd2'])).added).toBe(2);
    expect((await api.removeGroupMembers('lab', ['d1'])).removed).toBe(1);
    await expect(api.deleteGroup('lab')).resolves.toBeUndefined();
    const calls = f.calls.slice(1).map((c) => [c.init.method, c.url, c.init.body ?? null, header(c, 'X-CSRF-Token') ?? null]);
    expect(calls).toEqual([
      ['GET', '/api/v1/groups?after=g-1&limit=50', null, null],
      ['GET', '/api/v1/groups/lab%2Fx?limit=100', null, null],
      ['POST', '/api/v1/groups', '{"name":"lab"}', 'tok-123'],
      ['POST', '/api/v1/groups/lab/members', '{"devices":["d1","d2"]}', 'tok-123'],
      ['POST', '/api/v1/groups/lab/members/remove', '{"devices":["d1"]}', 'tok-123'],
      ['DELETE', '/api/v1/groups/lab', null, 'tok-123'],
    ]);
  });

  it("surfaces the server's refusals: unknown ids (400) and a group in use (409)", async () => {
    const f = fakeFetch(
      [400, { error: { code: 'invalid_argument', message: 'unknown device ids (nothing was changed): nope-1, nope-2' } }],
      [409, { error: { code: 'group_in_use', message: "group 'lab' is targeted by deployment(s) dep-7; cancel them or wait until they complete" } }],
    );
    const onUnauthenticated = vi.fn();
    const api = new Api(new ApiClient({ fetch: f.fetch, onUnauthenticated }));
    await expect(api.addGroupMembers('lab', ['nope-1', 'nope-2'])).rejects.toMatchObject({
      status: 400,
      code: 'invalid_argument',
      message: 'unknown device ids (nothing was changed): nope-1, nope-2',
    });
    await expect(api.deleteGroup('lab')).rejects.toMatchObject({ status: 409, code: 'group_in_use', message: expect.stringContaining('dep-7') });
    expect(onUnauthenticated).not.toHaveBeenCalled();
  });
});
