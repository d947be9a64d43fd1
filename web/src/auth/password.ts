// First sign-in with a one-time password: the server lets such a session do nothing but change
// the password (403 password_change_required elsewhere), so the console asks for a new one
// before it opens. Pure, tested.
import type { Session } from '../api/types';

// The server's minimum (PUT /api/v1/users/self/password answers 400 below it).
export const kMinPasswordLength = 12;

// The contract puts must_change_password at the top of the session body; aloftd also reports it
// on the user. Either one set means the password must change first.
export function needsNewPassword(session: Session): boolean {
  return session.must_change_password === true || session.user.must_change_password === true;
}

// What is wrong with the chosen new password, or null when the server may judge it.
export function newPasswordProblem(next: string, again: string, current: string): string | null {
  if (next.length < kMinPasswordLength) return `The new password needs at least ${kMinPasswordLength} characters.`;
  if (next !== again) return 'The two new passwords differ.';
  if (next === current) return 'Choose a password different from the one-time password.';
  return null;
}
