import { describe, expect, it } from 'vitest';
import type { Session } from '../api/types';
import { needsNewPassword, newPasswordProblem } from './password';

const session = (top?: boolean, onUser?: boolean): Session => ({
  user: { username: 'ann', role: 'viewer', ...(onUser === undefined ? {} : { must_change_password: onUser }) },
  csrf_token: 't',
  expires: '2030-01-01T00:00:00Z',
  ...(top === undefined ? {} : { must_change_password: top }),
});

describe('needsNewPassword', () => {
  it('reads the contract field at the top of the session', () => {
    expect(needsNewPassword(session(true))).toBe(true);
    expect(needsNewPassword(session(false))).toBe(false);
  });
  it('also reads the flag on the user, as aloftd reports it', () => {
    expect(needsNewPassword(session(undefined, true))).toBe(true);
    expect(needsNewPassword(session(false, true))).toBe(true);
  });
  it('is false when neither says so', () => {
    expect(needsNewPassword(session())).toBe(false);
    expect(needsNewPassword(session(false, false))).toBe(false);
  });
});

describe('newPasswordProblem', () => {
  it('wants 12 characters or more', () => {
    expect(newPasswordProblem('short-pw', 'short-pw', 'otp')).toMatch(/12 characters/);
    expect(newPasswordProblem('exactly-12ch', 'exactly-12ch', 'otp')).toBeNull();
  });
  it('wants both entries equal', () => {
    expect(newPasswordProblem('a-long-password', 'a-long-passw0rd', 'otp')).toMatch(/differ/);
  });
  it('refuses to keep the one-time password', () => {
    expect(newPasswordProblem('one-time-password-x', 'one-time-password-x', 'one-time-password-x')).toMatch(/different/);
  });
});
