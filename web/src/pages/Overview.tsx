// Fleet overview: devices by state, version and hardware (GET /api/v1/fleet/summary, one request
// whatever the fleet size), versions over time (GET /api/v1/fleet/history), rollouts in progress
// and the devices that need attention (from the deployments that report failures).
import { useState } from 'preact/hooks';
import type { Api } from '../api/api';
import type { Deployment } from '../api/types';
import { useApp } from '../app/context';
import { attentionFrom, deploymentsWithFailures, fleetFigures } from '../app/fleet';
import { historySeries } from '../app/history';
import { useAsync, useTitle } from '../app/hooks';
import { finishedDevices, totalDevices } from '../app/progress';
import { deploymentPath, devicePath } from '../app/routes';
import { BarList, HistoryChart, Meter } from '../components/charts';
import { Badge, Card, Empty, ErrorNotice, Link, Loading, PageHeader, Stat } from '../components/ui';
import { formatAge, formatCount, formatDuration, formatTime } from '../util/format';

export const kPeriods: Array<{ hours: number; label: string }> = [
  { hours: 24, label: 'Last 24 hours' },
  { hours: 168, label: 'Last 7 days' },
  { hours: 720, label: 'Last 30 days' },
  { hours: 2160, label: 'Last 90 days' },
];
const kAttentionRows = 25;

// The deployments list, then the detail of the few newest with failures (their device states).
async function loadRollouts(api: Api): Promise<{ all: Deployment[]; failing: Deployment[] }> {
  const all = await api.deployments();
  const failing = await Promise.all(deploymentsWithFailures(all).map((d) => api.deployment(d.id)));
  return { all, failing };
}

export function OverviewPage() {
  useTitle('Overview');
  const { api, can } = useApp();
  const [hours, setHours] = useState(168);
  const summary = useAsync(() => api.fleetSummary(), [api]);
  const history = useAsync(() => api.fleetHistory(hours), [api, hours]);
  const rollouts = useAsync(
    () => (can('deployments.read') ? loadRollouts(api) : Promise.resolve({ all: [], failing: [] })),
    [api],
  );

  const figures = summary.data ? fleetFigures(summary.data) : null;
  const running = (rollouts.data?.all ?? []).filter((d) => d.state === 'active' || d.state === 'paused');
  const attention = rollouts.data ? attentionFrom(rollouts.data.failing) : [];
  const series = history.data ? historySeries(history.data) : null;
  const needAttention = (figures?.notSeen ?? 0) + attention.length;

  return (
    <>
      <PageHeader title="Fleet overview" subtitle="Every enrolled device, by state, version and hardware." />
      <ErrorNotice error={summary.error} prefix="Could not load the fleet summary." />
      {summary.loading && !summary.data ? <Loading /> : null}
      {figures ? (
        <>
          <div class="stats">
            <Stat label="Devices" value={formatCount(figures.total)} />
            <Stat label="Accepted" value={<Link href="/devices?status=accepted">{formatCount(figures.accepted)}</Link>} tone="ok" />
            <Stat
              label="Pending enrollment"
              value={<Link href="/enrollments">{formatCount(figures.pending)}</Link>}
              tone={figures.pending > 0 ? 'warn' : undefined}
            />
            <Stat label="Need attention" value={formatCount(needAttention)} tone={needAttention > 0 ? 'bad' : 'ok'} />
          </div>
          <div class="grid-3">
            <Card title="Versions (accepted devices)">
              {figures.byVersion.length ? (
                <BarList rows={figures.byVersion} label="Accepted devices per image version" max={8} />
              ) : (
                <Empty>No accepted devices.</Empty>
              )}
            </Card>
            <Card title="Hardware">
              {figures.byHardware.length ? <BarList rows={figures.byHardware} label="Devices per hardware id" max={8} tone="alt" /> : <Empty>No devices.</Empty>}
            </Card>
            <Card title="Enrollment state">
              {figures.byStatus.length ? <BarList rows={figures.byStatus} label="Devices per enrollment state" tone="muted" /> : <Empty>No devices.</Empty>}
            </Card>
          </div>
        </>
      ) : null}
      <Card
        title="Versions over time"
        actions={
          <div class="period">
            <label for="history-period">Period</label>
            <select id="history-period" value={String(hours)} onChange={(e) => setHours(Number((e.target as HTMLSelectElement).value))}>
              {kPeriods.map((p) => (
                <option key={p.hours} value={String(p.hours)}>
                  {p.label}
                </option>
              ))}
            </select>
          </div>
        }
      >
        <ErrorNotice error={history.error} prefix="Could not load the version history." />
        {history.loading && !history.data ? <Loading /> : null}
        {history.data && series ? (
          series.times.length === 0 ? (
            <Empty>
              No samples yet: aloftd records the versions of accepted devices every {formatDuration(history.data.intervalSeconds)}; the chart fills
              in from the first one.
            </Empty>
          ) : (
            <div aria-busy={history.loading ? 'true' : 'false'}>
              <HistoryChart history={series} label="Accepted devices per image version over time" id="version-history" />
            </div>
          )
        ) : null}
      </Card>
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
      <Card title="Devices that need attention">
        {figures && figures.notSeen > 0 ? (
          <ul class="findings">
            <li class="finding finding-warn">
              {formatCount(figures.notSeen)} accepted device{figures.notSeen === 1 ? ' has' : 's have'} not been seen since{' '}
              {formatTime(figures.notSeenSince)}.
            </li>
          </ul>
        ) : null}
        {rollouts.loading && !rollouts.data ? <Loading /> : null}
        {figures && rollouts.data && needAttention === 0 ? (
          <Empty>Nothing needs attention: no failed or rolled-back updates, every accepted device seen in the last day.</Empty>
        ) : null}
        {attention.length ? (
          <div class="table-wrap">
            <table class="table">
              <caption class="visually-hidden">Devices whose latest update failed or rolled back</caption>
              <thead>
                <tr>
                  <th scope="col">Device</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Deployment</th>
                  <th scope="col">Message</th>
                  <th scope="col">When</th>
                </tr>
              </thead>
              <tbody>
                {attention.slice(0, kAttentionRows).map((a) => (
                  <tr key={a.deviceId}>
                    <td>
                      <Link href={devicePath(a.deviceId)}>{a.deviceId}</Link>
                    </td>
                    <td>
                      <Badge value={a.reason} />
                    </td>
                    <td>
                      <Link href={deploymentPath(a.deployment.id)}>{a.deployment.release}</Link>
                    </td>
                    <td class="details">{a.message || '—'}</td>
                    <td class="nowrap">{formatAge(a.updated)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {attention.length > kAttentionRows ? (
              <p class="muted small">
                Showing {kAttentionRows} of {formatCount(attention.length)}.
              </p>
            ) : null}
          </div>
        ) : null}
      </Card>
    </>
  );
}
