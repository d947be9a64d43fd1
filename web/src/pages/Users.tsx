// Users and roles (admin only): create operators and change their roles.
import { useState } from 'preact/hooks';
import type { CreatedUser, Role, UserRecord } from '../api/types';
import { kRoles } from '../auth/roles';
import { useApp } from '../app/context';
import { useAction, useAsync, useTitle } from '../app/hooks';
import { ConfirmDialog } from '../components/dialog';
import { Badge, Button, Card, ErrorNotice, Loading, Mono, PageHeader } from '../components/ui';
import { formatTime } from '../util/format';

export const kRoleHelp: Record<Role, string> = {
  admin: 'everything, including users',
  'release-manager': 'releases and deployments',
  operator: 'devices and deployments',
  viewer: 'read devices, releases and deployments',
  auditor: 'read the audit log only',
};

export function UsersPage() {
  useTitle('Users');
  const { api, user, notify } = useApp();
  const users = useAsync(() => api.users(), [api]);
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [created, setCreated] = useState<CreatedUser | null>(null);
  const [change, setChange] = useState<{ user: UserRecord; role: Role } | null>(null);
  const [busy, run, error] = useAction();

  const create = async (e: Event) => {
    e.preventDefault();
    const result = await run(() => api.createUser(username.trim(), role));
    if (result) {
      setCreated(result);
      setUsername('');
      users.reload();
    }
  };
  const applyRole = async () => {
    if (!change) return;
    const result = await run(() => api.setUserRole(change.user.username, change.role));
    setChange(null);
    if (result) {
      notify(`${change.user.username} is now ${change.role}.`);
      users.reload();
    }
  };

  return (
    <>
      <PageHeader title="Users and roles" subtitle="Give each person the least privilege that lets them work." />
      <ErrorNotice error={users.error} prefix="Could not load users." />
      <ErrorNotice error={error} prefix="The change was not saved." />
      {created ? (
        <div class="notice notice-success" role="status">
          <strong>{created.username}</strong> was created as {created.role}. One-time password, shown only now:{' '}
          <Mono>{created.one_time_password}</Mono>. Hand it over privately; they must change it at first sign-in.
          <Button variant="ghost" onClick={() => setCreated(null)}>
            Dismiss
          </Button>
        </div>
      ) : null}
      <Card title="Add a user">
        <form class="filters" onSubmit={create}>
          <div class="field">
            <label for="u-name">Username</label>
            <input id="u-name" required autocomplete="off" pattern="[a-z0-9._-]{1,64}" title="lower-case letters, digits, dot, dash, underscore" value={username} onInput={(e) => setUsername((e.target as HTMLInputElement).value)} />
          </div>
          <div class="field">
            <label for="u-role">Role</label>
            <select id="u-role" value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value as Role)}>
              {kRoles.map((r) => (
                <option key={r} value={r}>
                  {r} — {kRoleHelp[r]}
                </option>
              ))}
            </select>
          </div>
          <div class="filters-actions">
            <Button type="submit" variant="primary" mutates busy={busy} disabled={!username.trim()}>
              Create user
            </Button>
          </div>
        </form>
      </Card>
      {users.loading && !users.data ? <Loading /> : null}
      {users.data ? (
        <div class="table-wrap">
          <table class="table">
            <caption class="visually-hidden">Users</caption>
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Role</th>
                <th scope="col">Second factor</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {users.data.map((u) => (
                <tr key={u.username}>
                  <td>{u.username}</td>
                  <td>
                    {u.username === user.username ? (
                      <span>
                        {u.role} <span class="muted small">(you)</span>
                      </span>
                    ) : (
                      <select
                        aria-label={`Role of ${u.username}`}
                        value={u.role}
                        data-mutates="true"
                        onChange={(e) => setChange({ user: u, role: (e.target as HTMLSelectElement).value as Role })}
                      >
                        {kRoles.map((r) => (
                          <option key={r} value={r}>
                            {r}
                          </option>
                        ))}
                      </select>
                    )}
                  </td>
                  <td>{u.totp ? <Badge value="ok" label="TOTP" /> : <Badge value="paused" label="none" />}</td>
                  <td>{formatTime(u.created)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <ConfirmDialog
        open={change !== null}
        title={change ? `Make ${change.user.username} ${change.role}?` : ''}
        confirmLabel="Change role"
        busy={busy}
        onConfirm={() => void applyRole()}
        onCancel={() => {
          setChange(null);
          users.reload();
        }}
      >
        <p>{change ? `${change.role}: ${kRoleHelp[change.role]}.` : ''} It applies to their next request.</p>
      </ConfirmDialog>
    </>
  );
}
