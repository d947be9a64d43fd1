// One device: identity, inventory, update history and log tail; accept, reject or revoke.
import { useState } from 'preact/hooks';
import type { Device, DeviceReport } from '../api/types';
import { deviceActions, type DeviceAction as Action } from '../app/actions';
import { useApp } from '../app/context';
import { useAction, useAsync, useTitle } from '../app/hooks';
import { deploymentPath } from '../app/routes';
import { ConfirmDialog } from '../components/dialog';
import { Badge, Button, Card, DefinitionList, Empty, ErrorNotice, Link, Loading, Mono, PageHeader } from '../components/ui';
import { formatAge, formatBytes, formatTime } from '../util/format';


const kActionText: Record<Action, { label: string; done: string; confirm: string; danger: boolean }> = {
  accept: { label: 'Accept', done: 'accepted', confirm: 'The device will be trusted to receive updates.', danger: false },
  reject: { label: 'Reject', done: 'rejected', confirm: 'The device will not be able to authenticate.', danger: true },
  revoke: {
    label: 'Revoke',
    done: 'revoked',
    confirm: 'The device is decommissioned: its key is no longer trusted and it receives nothing more. Use this for lost, stolen or retired devices.',
    danger: true,
  },
};

const logTail = (r: DeviceReport) => r.logTail ?? r.log_tail ?? '';
const reportDeployment = (r: DeviceReport) => r.deploymentId ?? r.deployment_id ?? '';

export function DevicePage({ id }: { id: string }) {
  useTitle(`Device ${id}`);
  const { api, user, notify } = useApp();
  const device = useAsync(() => api.device(id), [api, id]);
  const [pending, setPending] = useState<Action | null>(null);
  const [busy, run, actionError] = useAction();

  const act = async (action: Action) => {
    const updated = await run(() => api.deviceAction(id, action));
    setPending(null);
    if (updated) {
      notify(`Device ${id} ${kActionText[action].done}.`);
      device.reload();
    }
  };

  const d = device.data;
  const reports = [...(d?.reports ?? [])].sort((a, b) => (b.at ?? '').localeCompare(a.at ?? ''));
  const lastLog = reports.find((r) => logTail(r));

  return (
    <>
      <PageHeader
        title={id}
        subtitle={d ? <>Device · <Badge value={d.status} /> · last seen {formatAge(d.last_seen)}</> : 'Device'}
        actions={
          d ? (
            <>
              {deviceActions(user.role, d).map((a) => (
                <Button key={a} mutates variant={kActionText[a].danger ? 'danger' : 'primary'} onClick={() => setPending(a)}>
                  {kActionText[a].label}
                </Button>
              ))}
            </>
          ) : null
        }
      />
      <ErrorNotice error={device.error} prefix="Could not load the device." />
      <ErrorNotice error={actionError} prefix="The action failed." />
      {device.loading && !d ? <Loading /> : null}
      {d ? (
        <>
          <div class="grid-2">
            <Card title="Identity">
              <DefinitionList
                items={[
                  ['Device id', <Mono>{d.id}</Mono>],
                  ['Hardware id', d.hardware_id],
                  ['Enrollment', <Badge value={d.status} />],
                  ['Last seen', d.last_seen ? `${formatTime(d.last_seen)} (${formatAge(d.last_seen)})` : 'never'],
                  ['Agent', d.agent_version || '—'],
                ]}
              />
            </Card>
            <Card title="Inventory">
              <DefinitionList
                items={[
                  ['Image version', d.image_version || '—'],
                  ['Image SHA-256', d.image_sha256 ? <Mono title={d.image_sha256}>{d.image_sha256}</Mono> : '—'],
                  ['Security counter', String(d.security_counter ?? '—')],
                  ...Object.entries(d.attributes ?? {}).map(([k, v]): [string, string] => [k, v]),
                  [
                    'Current update',
                    d.deployment ? (
                      <>
                        <Link href={deploymentPath(d.deployment.id)}>{d.deployment.id}</Link> <Badge value={d.deployment.state} />
                      </>
                    ) : (
                      'none'
                    ),
                  ],
                ]}
              />
            </Card>
          </div>
          <Card title="Update history">
            {reports.length === 0 ? (
              <Empty>This device has sent no update reports.</Empty>
            ) : (
              <div class="table-wrap">
                <table class="table">
                  <caption class="visually-hidden">Update reports, newest first</caption>
                  <thead>
                    <tr>
                      <th scope="col">When</th>
                      <th scope="col">State</th>
                      <th scope="col">Deployment</th>
                      <th scope="col">Progress</th>
                      <th scope="col">Message</th>
                    </tr>
                  </thead>
                  <tbody>
                    {reports.map((r, i) => {
                      const done = r.bytesDone ?? r.bytes_done;
                      const total = r.bytesTotal ?? r.bytes_total;
                      const dep = reportDeployment(r);
                      return (
                        <tr key={r.id ?? i}>
                          <td>{formatTime(r.at)}</td>
                          <td>
                            <Badge value={r.state} />
                          </td>
                          <td>{dep ? <Link href={deploymentPath(dep)}>{dep}</Link> : '—'}</td>
                          <td>{total ? `${formatBytes(done)} of ${formatBytes(total)}` : '—'}</td>
                          <td>{r.message || '—'}</td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
            )}
          </Card>
          <Card title="Last log tail">
            {lastLog ? (
              <>
                <p class="muted small">From the report of {formatTime(lastLog.at)}.</p>
                <pre class="log" tabIndex={0} aria-label="Log tail">
                  {logTail(lastLog)}
                </pre>
              </>
            ) : (
              <Empty>No log received.</Empty>
            )}
          </Card>
        </>
      ) : null}
      {pending ? (
        <ConfirmDialog
          open
          title={`${kActionText[pending].label} ${id}?`}
          confirmLabel={kActionText[pending].label}
          danger={kActionText[pending].danger}
          busy={busy}
          onConfirm={() => void act(pending)}
          onCancel={() => setPending(null)}
        >
          <p>{kActionText[pending].confirm}</p>
        </ConfirmDialog>
      ) : null}
    </>
  );
}
