// Your own account: password, second factor (TOTP) and API tokens for aloftctl and scripts.
import { useState } from 'preact/hooks';
import type { ApiToken, CreatedToken, Role, TotpEnrollment } from '../api/types';
import { rolesWithin } from '../auth/roles';
import { useApp } from '../app/context';
import { useAction, useAsync, useTitle } from '../app/hooks';
import { ConfirmDialog } from '../components/dialog';
import { Button, Card, DefinitionList, Empty, ErrorNotice, Mono, Notice, PageHeader } from '../components/ui';
import { formatTime } from '../util/format';

function PasswordCard() {
  const { api, notify } = useApp();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, run, error] = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    if (next.length < 12) return setProblem('The new password needs at least 12 characters.');
    if (next !== again) return setProblem('The two new passwords differ.');
    setProblem(null);
    const ok = await run(async () => {
      await api.changePassword(current, next);
      return true;
    });
    if (ok) {
      notify('Password changed.');
      setCurrent('');
      setNext('');
      setAgain('');
    }
  };
  return (
    <Card title="Password">
      {problem ? (
        <div class="notice notice-error" role="alert">
          {problem}
        </div>
      ) : null}
      <ErrorNotice error={error} prefix="Password not changed." />
      <form class="stack" onSubmit={submit}>
        <div class="field">
          <label for="p-cur">Current password</label>
          <input id="p-cur" type="password" autocomplete="current-password" required value={current} onInput={(e) => setCurrent((e.target as HTMLInputElement).value)} />
        </div>
        <div class="field">
          <label for="p-new">New password (12 characters or more)</label>
          <input id="p-new" type="password" autocomplete="new-password" minLength={12} required value={next} onInput={(e) => setNext((e.target as HTMLInputElement).value)} />
        </div>
        <div class="field">
          <label for="p-again">New password again</label>
          <input id="p-again" type="password" autocomplete="new-password" required value={again} onInput={(e) => setAgain((e.target as HTMLInputElement).value)} />
        </div>
        <div>
          <Button type="submit" variant="primary" mutates busy={busy} disabled={!current || !next || !again}>
            Change password
          </Button>
        </div>
      </form>
    </Card>
  );
}

function TotpCard() {
  const { api, notify } = useApp();
  const [enrollment, setEnrollment] = useState<TotpEnrollment | null>(null);
  const [code, setCode] = useState('');
  const [done, setDone] = useState(false);
  const [busy, run, error] = useAction();
  const confirm = async (e: Event) => {
    e.preventDefault();
    const ok = await run(async () => {
      await api.confirmTotp(code.trim());
      return true;
    });
    if (ok) {
      setEnrollment(null);
      setDone(true);
      notify('Second factor enabled.');
    }
  };
  return (
    <Card title="Second factor (TOTP)">
      <ErrorNotice error={error} prefix="Second factor not changed." />
      {done ? <Notice kind="success">Your authenticator is now required at every sign-in.</Notice> : null}
      {!enrollment && !done ? (
        <>
          <p class="muted">Require a code from an authenticator app at sign-in. Setting it up again replaces the previous one once confirmed.</p>
          <Button mutates onClick={() => void run(() => api.startTotp()).then((r) => r && setEnrollment(r))} busy={busy}>
            Set up authenticator
          </Button>
        </>
      ) : null}
      {enrollment ? (
        <form class="stack" onSubmit={confirm}>
          <p>Add this account to your authenticator app with the secret below, then enter the code it shows.</p>
          <DefinitionList
            items={[
              ['Secret', <Mono>{enrollment.secret_base32.replace(/(.{4})/g, '$1 ').trim()}</Mono>],
              ['URI', <Mono>{enrollment.otpauth_uri}</Mono>],
            ]}
          />
          <div class="field">
            <label for="totp-code">Code from the app</label>
            <input id="totp-code" inputMode="numeric" autocomplete="one-time-code" maxLength={8} required value={code} onInput={(e) => setCode((e.target as HTMLInputElement).value)} />
          </div>
          <div>
            <Button type="submit" variant="primary" mutates busy={busy} disabled={code.trim().length < 6}>
              Confirm and enable
            </Button>
          </div>
        </form>
      ) : null}
    </Card>
  );
}

function TokensCard() {
  const { api, user, notify } = useApp();
  const tokens = useAsync<ApiToken[]>(() => api.tokens(), [api]);
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>(user.role);
  const [days, setDays] = useState(90);
  const [created, setCreated] = useState<CreatedToken | null>(null);
  const [revoke, setRevoke] = useState<ApiToken | null>(null);
  const [busy, run, error] = useAction();
  const create = async (e: Event) => {
    e.preventDefault();
    const t = await run(() => api.createToken(name.trim(), role, days));
    if (t) {
      setCreated(t);
      setName('');
      tokens.reload();
    }
  };
  const doRevoke = async () => {
    if (!revoke) return;
    const ok = await run(async () => {
      await api.deleteToken(revoke.id);
      return true;
    });
    setRevoke(null);
    if (ok) {
      notify('Token revoked.');
      tokens.reload();
    }
  };
  return (
    <Card title="API tokens">
      <p class="muted">For aloftctl and scripts: sent as <Mono>Authorization: Bearer alo_…</Mono>. A token can hold your role or a smaller one.</p>
      <ErrorNotice error={tokens.error} prefix="Could not load tokens." />
      <ErrorNotice error={error} prefix="Token not changed." />
      {created ? (
        <div class="notice notice-success" role="status">
          Token <strong>{created.name}</strong> created. Copy it now; it is not shown again: <Mono>{created.token}</Mono>
          <Button variant="ghost" onClick={() => setCreated(null)}>
            Dismiss
          </Button>
        </div>
      ) : null}
      <form class="filters" onSubmit={create}>
        <div class="field">
          <label for="tok-name">Name</label>
          <input id="tok-name" required maxLength={64} value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} placeholder="e.g. ci-release" />
        </div>
        <div class="field">
          <label for="tok-role">Role</label>
          <select id="tok-role" value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value as Role)}>
            {rolesWithin(user.role).map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="tok-days">Expires in (days)</label>
          <input id="tok-days" type="number" min={1} max={365} value={days} onInput={(e) => setDays((e.target as HTMLInputElement).valueAsNumber || 0)} />
        </div>
        <div class="filters-actions">
          <Button type="submit" variant="primary" mutates busy={busy} disabled={!name.trim() || days < 1}>
            Create token
          </Button>
        </div>
      </form>
      {tokens.data && tokens.data.length === 0 ? <Empty>No token.</Empty> : null}
      {tokens.data && tokens.data.length > 0 ? (
        <div class="table-wrap">
          <table class="table">
            <caption class="visually-hidden">Your API tokens</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col"><span class="visually-hidden">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {tokens.data.map((t) => (
                <tr key={t.id}>
                  <td>{t.name}</td>
                  <td>{t.role}</td>
                  <td>{formatTime(t.expires)}</td>
                  <td>{t.last_used ? formatTime(t.last_used) : 'never'}</td>
                  <td class="row-actions">
                    <Button variant="danger" mutates onClick={() => setRevoke(t)} aria-label={`Revoke token ${t.name}`}>
                      Revoke
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <ConfirmDialog
        open={revoke !== null}
        title={`Revoke token ${revoke?.name ?? ''}?`}
        confirmLabel="Revoke token"
        danger
        busy={busy}
        onConfirm={() => void doRevoke()}
        onCancel={() => setRevoke(null)}
      >
        <p>Scripts using it stop working at once.</p>
      </ConfirmDialog>
    </Card>
  );
}

export function AccountPage() {
  useTitle('Your account');
  const { user } = useApp();
  return (
    <>
      <PageHeader title="Your account" subtitle={`Signed in as ${user.username} (${user.role}).`} />
      <div class="grid-2">
        <PasswordCard />
        <TotpCard />
      </div>
      <TokensCard />
    </>
  );
}
