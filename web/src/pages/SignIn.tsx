// Sign-in: username and password, then a TOTP code when the server asks for one, and a new
// password when the account still has its one-time password.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Api } from '../api/api';
import { ApiError, kInvalidCredentials, kTotpRequired } from '../api/client';
import type { Session } from '../api/types';
import { useTitle } from '../app/hooks';
import { kMinPasswordLength, needsNewPassword, newPasswordProblem } from '../auth/password';
import { Button } from '../components/ui';

interface Props {
  api: Api;
  notice?: string;
  onSignedIn: (session: Session) => void;
}

export function SignInPage({ api, notice, onSignedIn }: Props) {
  useTitle('Sign in');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [step, setStep] = useState<'password' | 'totp' | 'new-password'>('password');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const totpRef = useRef<HTMLInputElement>(null);
  const nextRef = useRef<HTMLInputElement>(null);
  const userRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (step === 'totp') totpRef.current?.focus();
    else if (step === 'new-password') nextRef.current?.focus();
    else userRef.current?.focus();
  }, [step]);

  // The one-time password is replaced in this same session; should the server end the session
  // on a password change, a fresh sign-in with the new password opens the console.
  const choosePassword = async () => {
    const problem = newPasswordProblem(next, again, password);
    if (problem) {
      setError(problem);
      return;
    }
    await api.changePassword(password, next);
    let session = await api.currentSession().catch(() => null);
    if (!session || needsNewPassword(session)) session = await api.signIn(username.trim(), next);
    setPassword('');
    setNext('');
    setAgain('');
    onSignedIn(session);
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (step === 'new-password') {
        await choosePassword();
        return;
      }
      const session = await api.signIn(username.trim(), password, step === 'totp' ? totp.trim() : undefined);
      setTotp('');
      if (needsNewPassword(session)) {
        setStep('new-password');
        return;
      }
      setPassword('');
      onSignedIn(session);
    } catch (err) {
      if (err instanceof ApiError && err.code === kTotpRequired) {
        setStep('totp');
      } else if (err instanceof ApiError && step === 'new-password') {
        setError(err.status === 400 ? `The server refused this password: ${err.message}` : err.message);
      } else if (err instanceof ApiError && err.code === kInvalidCredentials) {
        setError(
          step === 'totp'
            ? 'That code was not accepted. Check your authenticator and try again.'
            : 'Wrong username or password.',
        );
        if (step === 'totp') setTotp('');
      } else if (err instanceof ApiError) {
        setError(err.message);
      } else {
        setError('Sign-in failed. Try again.');
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" class="signin">
      <form class="signin-card" onSubmit={submit} aria-describedby={error ? 'signin-error' : undefined} noValidate>
        <div class="signin-brand">
          <img src="/favicon.svg" alt="" width="40" height="40" />
          <div>
            <h1 id="page-title">Aloft console</h1>
            <p class="muted">Secure over-the-air updates</p>
          </div>
        </div>
        {notice ? (
          <div class="notice notice-info" role="status">
            {notice}
          </div>
        ) : null}
        {error ? (
          <div class="notice notice-error" role="alert" id="signin-error">
            {error}
          </div>
        ) : null}
        {step === 'new-password' ? (
          <>
            <p class="help" id="new-password-help">
              <strong>{username}</strong> signed in with a one-time password. Choose your own password to continue.
            </p>
            <div class="field">
              <label for="new-password">New password ({kMinPasswordLength} characters or more)</label>
              <input
                id="new-password"
                ref={nextRef}
                name="new-password"
                type="password"
                autocomplete="new-password"
                minLength={kMinPasswordLength}
                required
                aria-describedby="new-password-help"
                value={next}
                onInput={(e) => setNext((e.target as HTMLInputElement).value)}
              />
            </div>
            <div class="field">
              <label for="new-password-again">New password again</label>
              <input
                id="new-password-again"
                name="new-password-again"
                type="password"
                autocomplete="new-password"
                required
                value={again}
                onInput={(e) => setAgain((e.target as HTMLInputElement).value)}
              />
            </div>
          </>
        ) : step === 'password' ? (
          <>
            <div class="field">
              <label for="username">Username</label>
              <input
                id="username"
                ref={userRef}
                name="username"
                autocomplete="username"
                autocapitalize="none"
                spellcheck={false}
                required
                value={username}
                onInput={(e) => setUsername((e.target as HTMLInputElement).value)}
              />
            </div>
            <div class="field">
              <label for="password">Password</label>
              <input
                id="password"
                name="password"
                type="password"
                autocomplete="current-password"
                required
                value={password}
                onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
              />
            </div>
          </>
        ) : (
          <div class="field">
            <label for="totp">Authentication code</label>
            <input
              id="totp"
              ref={totpRef}
              name="totp"
              inputMode="numeric"
              autocomplete="one-time-code"
              pattern="[0-9]{6,8}"
              maxLength={8}
              required
              aria-describedby="totp-help"
              value={totp}
              onInput={(e) => setTotp((e.target as HTMLInputElement).value)}
            />
            <p class="help" id="totp-help">
              Enter the 6-digit code from your authenticator app for <strong>{username}</strong>.
            </p>
          </div>
        )}
        <Button
          type="submit"
          variant="primary"
          busy={busy}
          disabled={
            !username ||
            !password ||
            (step === 'totp' && totp.trim().length < 6) ||
            (step === 'new-password' && (!next || !again))
          }
        >
          {busy ? 'Signing in…' : step === 'totp' ? 'Verify' : step === 'new-password' ? 'Set password and continue' : 'Sign in'}
        </Button>
        {step !== 'password' ? (
          <button
            type="button"
            class="linkish"
            onClick={() => {
              setStep('password');
              setPassword('');
              setTotp('');
              setNext('');
              setAgain('');
              setError(null);
            }}
          >
            Use a different account
          </button>
        ) : null}
      </form>
    </main>
  );
}
