// Security status: what needs an operator, the server's online keys, and the audit chain.
import type { ComponentChildren } from 'preact';
import type { AuditVerification, Deployment, UserRecord } from '../api/types';
import { useApp } from '../app/context';
import { useAsync, useTitle } from '../app/hooks';
import { flattenKeys } from '../app/keys';
import { deploymentPath } from '../app/routes';
import { Card, Empty, ErrorNotice, Link, Loading, Mono, PageHeader } from '../components/ui';
import { VerificationResult } from './Audit';

interface Finding {
  key: string;
  severity: 'bad' | 'warn';
  text: ComponentChildren;
}

export function SecurityPage() {
  useTitle('Security');
  const { api, can } = useApp();
  const keys = useAsync(() => (can('releases.read') ? api.onlineKeys() : Promise.resolve(null)), [api]);
  const chain = useAsync<AuditVerification | null>(() => (can('audit.read') ? api.verifyAudit() : Promise.resolve(null)), [api]);
  const paused = useAsync<Deployment[]>(() => (can('deployments.read') ? api.deployments('paused') : Promise.resolve([])), [api]);
  const users = useAsync<UserRecord[]>(() => (can('users.manage') ? api.users() : Promise.resolve([])), [api]);

  const findings: Finding[] = [];
  if (chain.data && !chain.data.ok) {
    findings.push({ key: 'chain', severity: 'bad', text: <>The audit chain does not verify{chain.data.first_bad_seq !== undefined ? ` from record #${chain.data.first_bad_seq}` : ''}.</> });
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
  const loading = keys.loading || chain.loading || paused.loading || users.loading;
  const rows = flattenKeys(keys.data ?? {});

  return (
    <>
      <PageHeader title="Security status" subtitle="What needs an operator, and the facts the trust model rests on." />
      <Card title="Needs an operator">
        {loading ? <Loading label="Checking…" /> : null}
        {!loading && findings.length === 0 ? <Empty>Nothing needs attention in what your role can see.</Empty> : null}
        {findings.length ? (
          <ul class="findings">
            {findings.map((f) => (
              <li key={f.key} class={`finding finding-${f.severity}`}>
                {f.text}
              </li>
            ))}
          </ul>
        ) : null}
        <Link href="/account">Set up your own second factor or API tokens</Link>
      </Card>
      {can('releases.read') ? (
        <Card title="Online keys held by the server">
          <p class="muted small">
            These sign timestamp and snapshot metadata (and the Director's roles) without an operator. A compromise of them alone cannot
            release software: the Image repository's root and targets keys stay offline.
          </p>
          <ErrorNotice error={keys.error} prefix="Could not load the online keys." />
          {rows.length ? (
            <div class="table-wrap">
              <table class="table">
                <caption class="visually-hidden">Online keys</caption>
                <thead>
                  <tr>
                    <th scope="col">Role</th>
                    <th scope="col">Key id</th>
                    <th scope="col">Type</th>
                    <th scope="col">Scheme</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) => (
                    <tr key={`${r.role}-${r.keyid}`}>
                      <td>{r.role}</td>
                      <td>
                        <Mono title={r.keyid}>{r.keyid}</Mono>
                      </td>
                      <td>{r.keytype}</td>
                      <td>{r.scheme}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : keys.data ? (
            <Empty>The server reported no online keys.</Empty>
          ) : null}
        </Card>
      ) : null}
      <Card title="Offline roles">
        <ul class="plain facts">
          <li>The Image repository's root and targets keys are held offline by the release team; the server has no copy.</li>
          <li>A new release or key rotation needs their signatures, uploaded with aloftctl.</li>
          <li>Metadata versions and expiry dates are not yet reported by the management API; check them with aloftctl.</li>
        </ul>
      </Card>
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
    </>
  );
}
