// Security status: what needs an operator; every role's metadata with its expiry; the online
// keys and their age, with a staged rotation; the offline root's facts; the audit chain.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { AuditVerification, Deployment, UserRecord } from '../api/types';
import { useApp } from '../app/context';
import { useAction, useAsync, useTitle } from '../app/hooks';
import { flattenKeys } from '../app/keys';
import { deploymentPath } from '../app/routes';
import { metadataRows, rootRoles, securityFindings, stagedKeys, timeLeft, type ExpiryState, type Renewal } from '../app/security';
import { ConfirmDialog } from '../components/dialog';
import { Badge, Button, Can, Card, DefinitionList, Empty, ErrorNotice, Link, Loading, Mono, PageHeader } from '../components/ui';
import { formatAge, formatTime } from '../util/format';
import { VerificationResult } from './Audit';

interface Finding {
  key: string;
  severity: 'bad' | 'warn';
  text: ComponentChildren;
}

const kRenewal: Record<Renewal, string> = {
  offline: 'offline keys',
  server: 'aloftd',
  'server-auto': 'aloftd, renewed automatically',
};

const kStateLabel: Record<ExpiryState, string> = {
  expired: 'expired',
  expiring: 'expiring',
  ok: 'valid',
  missing: 'not published',
};

function ExpiryBadge({ state }: { state: ExpiryState }) {
  return <Badge value={state === 'ok' ? 'valid' : state === 'missing' ? 'neutral' : state} label={kStateLabel[state]} />;
}

export function SecurityPage() {
  useTitle('Security');
  const { api, can, notify } = useApp();
  const repo = useAsync(() => (can('releases.read') ? api.repoStatus() : Promise.resolve(null)), [api]);
  const keys = useAsync(() => (can('releases.read') ? api.onlineKeys() : Promise.resolve(null)), [api]);
  const chain = useAsync<AuditVerification | null>(() => (can('audit.read') ? api.verifyAudit() : Promise.resolve(null)), [api]);
  const paused = useAsync<Deployment[]>(() => (can('deployments.read') ? api.deployments('paused') : Promise.resolve([])), [api]);
  const users = useAsync<UserRecord[]>(() => (can('users.manage') ? api.users() : Promise.resolve([])), [api]);
  const [confirmRotate, setConfirmRotate] = useState(false);
  const [busy, run, rotateError] = useAction();

  // The server's clock decides what has expired, so a skewed browser clock cannot hide it.
  const now = repo.data ? Date.parse(repo.data.now) || Date.now() : Date.now();
  const findings: Finding[] = securityFindings(repo.data, keys.data, now).map((f) => ({ ...f }));
  if (chain.data && !chain.data.ok) {
    findings.unshift({ key: 'chain', severity: 'bad', text: <>The audit chain does not verify{chain.data.first_bad_seq !== undefined ? ` from record #${chain.data.first_bad_seq}` : ''}.</> });
  }
  for (const d of paused.data ?? []) {
    findings.push({
      key: `dep-${d.id}`,
      severity: 'warn',
      text: (
        <>
          Deployment <Link href={deploymentPath(d.id)}>{d.id}</Link> ({d.release}) is paused: {d.paused_reason || 'no reason given'}.
        </>
      ),
    });
  }
  const noTotp = (users.data ?? []).filter((u) => !u.totp);
  if (noTotp.length) {
    findings.push({
      key: 'totp',
      severity: 'warn',
      text: (
        <>
          {noTotp.length} operator{noTotp.length === 1 ? ' has' : 's have'} no second factor: {noTotp.map((u) => u.username).join(', ')}.
        </>
      ),
    });
  }
  const loading = repo.loading || keys.loading || chain.loading || paused.loading || users.loading;
  const staged = stagedKeys(keys.data);
  const rows = repo.data ? metadataRows(repo.data, now) : [];
  const roles = repo.data ? rootRoles(repo.data) : [];
  const root = repo.data?.image?.root;

  const rotate = async () => {
    const done = await run(() => api.rotateOnlineKeys());
    setConfirmRotate(false);
    if (done !== undefined) {
      notify('New online keys staged.');
      keys.reload();
      repo.reload();
    }
  };

  return (
    <>
      <PageHeader title="Security status" subtitle="What needs an operator, and the facts the trust model rests on." />
      <Card title="Needs an operator">
        {loading ? <Loading label="Checking…" /> : null}
        {!loading && findings.length === 0 ? <Empty>Nothing needs attention in what your role can see.</Empty> : null}
        {findings.length ? (
          <ul class="findings" aria-label="Findings">
            {findings.map((f) => (
              <li key={f.key} class={`finding finding-${f.severity}`}>
                <span class="visually-hidden">{f.severity === 'bad' ? 'Problem: ' : 'Warning: '}</span>
                {f.text}
              </li>
            ))}
          </ul>
        ) : null}
        <Link href="/account">Set up your own second factor or API tokens</Link>
      </Card>
      {can('releases.read') ? (
        <Card title="Metadata expiry">
          <p class="muted small">
            Devices refuse expired metadata. aloftd re-signs snapshot, timestamp and the Director's targets with its online keys before they
            expire; the Image root and targets need the offline key holders, so they are flagged 7 days ahead.
          </p>
          <ErrorNotice error={repo.error} prefix="Could not load the repository status." />
          {repo.loading && !repo.data ? <Loading /> : null}
          {rows.length ? (
            <div class="table-wrap">
              <table class="table">
                <caption class="visually-hidden">Expiry of every role's metadata</caption>
                <thead>
                  <tr>
                    <th scope="col">Repository</th>
                    <th scope="col">Role</th>
                    <th scope="col">Signed by</th>
                    <th scope="col">Version</th>
                    <th scope="col">Expires (UTC)</th>
                    <th scope="col">Time left</th>
                    <th scope="col">Status</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) => (
                    <tr key={`${r.repository}-${r.role}`}>
                      <td>{r.repository}</td>
                      <th scope="row">{r.role}</th>
                      <td>{kRenewal[r.renewal]}</td>
                      <td>{r.version ?? '—'}</td>
                      <td class="nowrap">{formatTime(r.expires)}</td>
                      <td class={`nowrap expiry-${r.state}`}>{timeLeft(r.expires, now)}</td>
                      <td>
                        <ExpiryBadge state={r.state} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
        </Card>
      ) : null}
      {can('releases.read') ? (
        <Card
          title="Online keys held by the server"
          actions={
            <Can permission="releases.manage">
              {staged.length === 0 && keys.data ? (
                <Button mutates onClick={() => setConfirmRotate(true)}>
                  Stage new online keys
                </Button>
              ) : null}
            </Can>
          }
        >
          <p class="muted small">
            These sign timestamp and snapshot metadata (and the Director's roles) without an operator. A compromise of them alone cannot
            release software: the Image repository's root and targets keys stay offline.
          </p>
          <ErrorNotice error={rotateError} prefix="The rotation was not staged." />
          {repo.data?.onlineKeys?.length ? (
            <div class="table-wrap">
              <table class="table">
                <caption class="visually-hidden">Online keys and their age</caption>
                <thead>
                  <tr>
                    <th scope="col">Key</th>
                    <th scope="col">Key id</th>
                    <th scope="col">Created (UTC)</th>
                    <th scope="col">Age</th>
                  </tr>
                </thead>
                <tbody>
                  {repo.data.onlineKeys.map((k) => (
                    <tr key={k.name}>
                      <th scope="row">{k.name}</th>
                      <td class="keyid">
                        <Mono title={k.keyid}>{k.keyid}</Mono>
                      </td>
                      <td class="nowrap">{formatTime(k.createdAt)}</td>
                      <td class="nowrap">{k.createdAt ? formatAge(k.createdAt, now).replace(/ ago$/, '') : '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : repo.error && keys.data ? (
            // An older aloftd without /repo/status: the keys alone.
            <div class="table-wrap">
              <table class="table">
                <caption class="visually-hidden">Online keys</caption>
                <thead>
                  <tr>
                    <th scope="col">Role</th>
                    <th scope="col">Key id</th>
                    <th scope="col">Type</th>
                  </tr>
                </thead>
                <tbody>
                  {flattenKeys({ ...keys.data, next: undefined }).map((r) => (
                    <tr key={`${r.role}-${r.keyid}`}>
                      <th scope="row">{r.role}</th>
                      <td>
                        <Mono title={r.keyid}>{r.keyid}</Mono>
                      </td>
                      <td>{r.keytype}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
          <ErrorNotice error={keys.error} prefix="Could not load the online keys." />
          {staged.length ? (
            <div class="staged" aria-label="Staged rotation">
              <h3>Staged rotation</h3>
              <p class="small">
                aloftd keeps signing with the current keys until an Image root that names these is uploaded, signed with the offline root keys
                (<Mono>aloftctl keys rotate --role online --online-keys</Mono>, then <Mono>aloftctl release upload</Mono>).
              </p>
              <DefinitionList
                items={staged.map(([role, k]) => [
                  `Next ${role} key`,
                  <>
                    <Mono title={k.keyid}>{k.keyid}</Mono>
                    {k.key?.keytype ? <span class="muted small"> ({k.key.keytype})</span> : null}
                  </>,
                ])}
              />
            </div>
          ) : null}
        </Card>
      ) : null}
      {can('releases.read') ? (
        <Card title="Offline root (Image repository)">
          {root ? (
            <>
              <DefinitionList
                items={[
                  ['Root version', String(root.version)],
                  ['Root expires', `${formatTime(root.expires)} (${timeLeft(root.expires, now)})`],
                  ['Held by', 'the release team, offline; the server has no copy of the root or targets keys'],
                ]}
              />
              {roles.length ? (
                <div class="table-wrap">
                  <table class="table">
                    <caption>Keys and thresholds the root names</caption>
                    <thead>
                      <tr>
                        <th scope="col">Role</th>
                        <th scope="col">Threshold</th>
                        <th scope="col">Key ids</th>
                      </tr>
                    </thead>
                    <tbody>
                      {roles.map((r) => (
                        <tr key={r.role}>
                          <th scope="row">{r.role}</th>
                          <td class="nowrap">
                            {r.threshold} of {r.keyids.length}
                          </td>
                          <td class="keyid">
                            <ul class="plain">
                              {r.keyids.map((k) => (
                                <li key={k}>
                                  <Mono title={k}>{k}</Mono>
                                </li>
                              ))}
                            </ul>
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              ) : null}
            </>
          ) : repo.data ? (
            <Empty>No Image root uploaded yet.</Empty>
          ) : null}
        </Card>
      ) : null}
      {can('audit.read') ? (
        <Card title="Audit chain">
          <ErrorNotice error={chain.error} prefix="Could not verify the audit chain." />
          {chain.data ? <VerificationResult result={chain.data} /> : null}
        </Card>
      ) : null}
      {users.error ? <ErrorNotice error={users.error} /> : null}
      <p class="muted small">
        Key ids are SHA-256 over the canonical public key, as in TUF; compare them with <Mono>aloftd repo-keys</Mono> on the server.
      </p>
      <ConfirmDialog
        open={confirmRotate}
        title="Stage new online keys?"
        confirmLabel="Stage new keys"
        busy={busy}
        onConfirm={() => void rotate()}
        onCancel={() => setConfirmRotate(false)}
      >
        <p>
          aloftd generates new snapshot and timestamp keys and shows them here. Nothing changes for devices until the offline root keys sign
          an Image root that names them.
        </p>
      </ConfirmDialog>
    </>
  );
}
