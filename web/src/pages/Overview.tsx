// Fleet overview: devices by state, version and hardware, and the ones that need attention.
import type { Api } from '../api/api';
import type { Deployment, Device } from '../api/types';
import { useApp } from '../app/context';
import { summarize } from '../app/fleet';
import { useAsync, useTitle } from '../app/hooks';
import { finishedDevices, totalDevices } from '../app/progress';
import { deploymentPath, devicePath } from '../app/routes';
import { BarList, Meter } from '../components/charts';
import { Badge, Card, Empty, ErrorNotice, Link, Loading, PageHeader, Stat } from '../components/ui';
import { formatAge, formatCount } from '../util/format';

// The API has no fleet summary endpoint yet, so the overview reads the device list, bounded
// so that a 100,000-device fleet costs a few requests, and says when it is a sample.
export const kOverviewCap = 2000;
const kPage = 500;

export async function loadFleetSample(api: Api, cap = kOverviewCap): Promise<{ devices: Device[]; complete: boolean }> {
  const devices: Device[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await api.devices({ limit: Math.min(kPage, cap - devices.length), after });
    devices.push(...page.devices);
    after = page.next_after ?? null;
    if (!after || page.devices.length === 0) return { devices, complete: true };
    if (devices.length >= cap) return { devices, complete: false };
  }
}

export function OverviewPage() {
  useTitle('Overview');
  const { api, can } = useApp();
  const fleet = useAsync(() => loadFleetSample(api), [api]);
  const rollouts = useAsync<Deployment[]>(
    () => (can('deployments.read') ? api.deployments() : Promise.resolve([])),
    [api],
  );

  const summary = fleet.data ? summarize(fleet.data.devices) : null;
  const running = (rollouts.data ?? []).filter((d) => d.state === 'active' || d.state === 'paused');
  const count = (status: string) => summary?.byStatus.find(([s]) => s === status)?.[1] ?? 0;

  return (
    <>
      <PageHeader
        title="Fleet overview"
        subtitle={
          fleet.data && !fleet.data.complete
            ? `Figures from the first ${formatCount(fleet.data.devices.length)} devices.`
            : 'Every enrolled device, by state, version and hardware.'
        }
      />
      <ErrorNotice error={fleet.error} prefix="Could not load devices." />
      {fleet.loading && !fleet.data ? <Loading /> : null}
      {summary ? (
        <>
          <div class="stats">
            <Stat label="Devices" value={formatCount(summary.total)} />
            <Stat label="Accepted" value={formatCount(count('accepted'))} tone="ok" />
            <Stat
              label="Pending enrollment"
              value={<Link href="/enrollments">{formatCount(count('pending'))}</Link>}
              tone={count('pending') > 0 ? 'warn' : undefined}
            />
            <Stat
              label="Need attention"
              value={formatCount(summary.attention.length)}
              tone={summary.attention.length > 0 ? 'bad' : 'ok'}
            />
          </div>
          <div class="grid-3">
            <Card title="Versions (accepted devices)">
              {summary.byVersion.length ? <BarList rows={summary.byVersion} label="Devices per image version" max={8} /> : <Empty>No accepted devices.</Empty>}
            </Card>
            <Card title="Hardware">
              {summary.byHardware.length ? <BarList rows={summary.byHardware} label="Devices per hardware id" max={8} tone="alt" /> : <Empty>No devices.</Empty>}
            </Card>
            <Card title="Enrollment state">
              {summary.byStatus.length ? <BarList rows={summary.byStatus} label="Devices per enrollment state" tone="muted" /> : <Empty>No devices.</Empty>}
            </Card>
          </div>
        </>
      ) : null}
      {can('deployments.read') ? (
        <Card title="Rollouts in progress" actions={<Link href="/deployments">All deployments</Link>}>
          <ErrorNotice error={rollouts.error} />
          {rollouts.data && running.length === 0 ? <Empty>No deployment is running.</Empty> : null}
          {running.length ? (
            <ul class="rollouts">
              {running.map((d) => (
                <li key={d.id}>
                  <Link href={deploymentPath(d.id)}>{d.release}</Link> <Badge value={d.state} />
                  <Meter value={finishedDevices(d.counts)} max={totalDevices(d.counts)} label={`Progress of ${d.release}`} />
                  <span class="muted small">
                    {formatCount(finishedDevices(d.counts))} of {formatCount(totalDevices(d.counts))} devices finished · phase{' '}
                    {d.current_phase + 1} of {d.phases.length}
                  </span>
                </li>
              ))}
            </ul>
          ) : null}
        </Card>
      ) : null}
      {summary ? (
        <Card title="Devices that need attention">
          {summary.attention.length === 0 ? (
            <Empty>Nothing needs attention: no failed or rolled-back updates, every device seen in the last day.</Empty>
          ) : (
            <div class="table-wrap">
              <table class="table">
                <caption class="visually-hidden">Devices that need attention</caption>
                <thead>
                  <tr>
                    <th scope="col">Device</th>
                    <th scope="col">Reason</th>
                    <th scope="col">Hardware</th>
                    <th scope="col">Version</th>
                    <th scope="col">Last seen</th>
                  </tr>
                </thead>
                <tbody>
                  {summary.attention.slice(0, 25).map(({ device, reason }) => (
                    <tr key={device.id}>
                      <td>
                        <Link href={devicePath(device.id)}>{device.id}</Link>
                      </td>
                      <td>
                        <Badge value={reason} />
                      </td>
                      <td>{device.hardware_id}</td>
                      <td>{device.image_version || '—'}</td>
                      <td>{formatAge(device.last_seen)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {summary.attention.length > 25 ? (
                <p class="muted small">
                  Showing 25 of {formatCount(summary.attention.length)}.
                </p>
              ) : null}
            </div>
          )}
        </Card>
      ) : null}
    </>
  );
}
