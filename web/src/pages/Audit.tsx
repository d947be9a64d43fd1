// Audit log: the server's hash-chained record of every operator action, with filters and a
// verification of the whole chain.
import { useState } from 'preact/hooks';
import type { AuditRecord, AuditVerification } from '../api/types';
import { filterAudit, summarizeDetails, type AuditFilter } from '../app/audit';
import { useApp } from '../app/context';
import { useAction, useAsync, useTitle } from '../app/hooks';
import { Badge, Button, Card, Empty, ErrorNotice, Loading, Mono, Notice, PageHeader } from '../components/ui';
import { formatCount, formatTime, shortHash } from '../util/format';

const kPage = 200;

export function VerificationResult({ result }: { result: AuditVerification }) {
  return result.ok ? (
    <Notice kind="success">
      <strong>Chain intact.</strong> {formatCount(result.records)} records verified; head hash <Mono title={result.head_hash}>{shortHash(result.head_hash, 16)}</Mono>.
    </Notice>
  ) : (
    <div class="notice notice-error" role="alert">
      <strong>Chain broken.</strong> {result.problem ?? 'A record does not match its hash.'}
      {result.first_bad_seq !== undefined ? <> First bad record: #{result.first_bad_seq}.</> : null} Treat the log after that point as tampered and investigate.
    </div>
  );
}

export function AuditPage() {
  useTitle('Audit log');
  const { api } = useApp();
  const [records, setRecords] = useState<AuditRecord[]>([]);
  const [cursor, setCursor] = useState<number | string | null>(null);
  const [more, setMore] = useState(true);
  const [filter, setFilter] = useState<AuditFilter>({ actor: '', action: '', from: '', to: '' });
  const [verification, setVerification] = useState<AuditVerification | null>(null);
  const [verifying, runVerify, verifyError] = useAction();
  const [loadingMore, runMore, moreError] = useAction();

  const first = useAsync(async () => {
    const page = await api.audit(null, kPage);
    setRecords(page.records);
    setCursor(page.next_after ?? null);
    setMore(Boolean(page.next_after) && page.records.length > 0);
    return page;
  }, [api]);

  const loadMore = async () => {
    const page = await runMore(() => api.audit(cursor, kPage));
    if (!page) return;
    setRecords((r) => [...r, ...page.records]);
    setCursor(page.next_after ?? null);
    setMore(Boolean(page.next_after) && page.records.length > 0);
  };
  const verify = async () => {
    const result = await runVerify(() => api.verifyAudit());
    if (result) setVerification(result);
  };

  const shown = filterAudit(records, filter);
  const filtered = Boolean(filter.actor || filter.action || filter.from || filter.to);
  const set = (k: keyof AuditFilter) => (e: Event) => setFilter({ ...filter, [k]: (e.target as HTMLInputElement).value });

  return (
    <>
      <PageHeader
        title="Audit log"
        subtitle="Every operator action, oldest first. Each record carries the hash of the one before it."
        actions={
          <>
            <a class="btn btn-secondary" href="/api/v1/audit/export" download="aloft-audit.ndjson">
              Export NDJSON
            </a>
            <Button variant="primary" busy={verifying} onClick={() => void verify()}>
              Verify chain
            </Button>
          </>
        }
      />
      <ErrorNotice error={verifyError} prefix="Verification could not run." />
      {verification ? <VerificationResult result={verification} /> : null}
      <form class="filters" aria-label="Audit filters" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="a-actor">Actor</label>
          <input id="a-actor" value={filter.actor} onInput={set('actor')} placeholder="username or token" />
        </div>
        <div class="field">
          <label for="a-action">Action</label>
          <input id="a-action" value={filter.action} onInput={set('action')} placeholder="e.g. device.accept" />
        </div>
        <div class="field">
          <label for="a-from">From (UTC)</label>
          <input id="a-from" type="datetime-local" value={filter.from} onInput={set('from')} />
        </div>
        <div class="field">
          <label for="a-to">To (UTC)</label>
          <input id="a-to" type="datetime-local" value={filter.to} onInput={set('to')} />
        </div>
        <div class="filters-actions">
          <Button variant="ghost" onClick={() => setFilter({ actor: '', action: '', from: '', to: '' })}>
            Clear
          </Button>
        </div>
      </form>
      <ErrorNotice error={first.error} prefix="Could not load the audit log." />
      <ErrorNotice error={moreError} prefix="Could not load more records." />
      {first.loading && records.length === 0 ? <Loading /> : null}
      {first.data ? (
        <Card>
          <p class="muted small" role="status">
            {filtered
              ? `${formatCount(shown.length)} of ${formatCount(records.length)} loaded records match.`
              : `${formatCount(records.length)} records loaded.`}
            {more ? ' Load more to search further.' : ''}
          </p>
          {shown.length === 0 ? (
            <Empty>No record matches.</Empty>
          ) : (
            <div class="table-wrap">
              <table class="table">
                <caption class="visually-hidden">Audit records</caption>
                <thead>
                  <tr>
                    <th scope="col">#</th>
                    <th scope="col">When</th>
                    <th scope="col">Actor</th>
                    <th scope="col">Action</th>
                    <th scope="col">Target</th>
                    <th scope="col">Outcome</th>
                    <th scope="col">Details</th>
                    <th scope="col">Hash</th>
                  </tr>
                </thead>
                <tbody>
                  {shown.map((r) => (
                    <tr key={r.seq}>
                      <td>{r.seq}</td>
                      <td class="nowrap">{formatTime(r.at)}</td>
                      <td>{r.actor}</td>
                      <td>
                        <code class="mono">{r.action}</code>
                      </td>
                      <td>{r.target || '—'}</td>
                      <td>
                        <Badge value={r.outcome} />
                      </td>
                      <td class="details">{summarizeDetails(r.details) || '—'}</td>
                      <td class="hash">
                        <Mono title={r.hash}>{shortHash(r.hash, 10)}</Mono>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {more ? (
            <div class="pager">
              <Button busy={loadingMore} onClick={() => void loadMore()}>
                Load {kPage} more
              </Button>
            </div>
          ) : null}
        </Card>
      ) : null}
    </>
  );
}
