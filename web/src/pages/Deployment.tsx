// One deployment, live: progress by state and by phase, refreshed every 2 s until it ends,
// with pause, resume and cancel.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { Deployment } from '../api/types';
import { deploymentActions, type DeploymentAction } from '../app/actions';
import { useApp } from '../app/context';
import { useAction, usePoll, useTitle } from '../app/hooks';
import { failedShare, finishedDevices, isFinal, phaseStatus, phaseTarget, totalDevices, type PhaseStatus } from '../app/progress';
import { devicePath, groupPath } from '../app/routes';
import { selectorEntries } from '../app/selector';
import { StateBar } from '../components/charts';
import { ConfirmDialog } from '../components/dialog';
import { Badge, Button, Card, DefinitionList, Empty, ErrorNotice, Link, Loading, Notice, PageHeader, Stat } from '../components/ui';
import { formatAge, formatCount, formatDuration, formatTime } from '../util/format';

export const kPollMs = 2000;
const kCollapsed = 25;
const kPhaseTone: Record<PhaseStatus, string> = {
  done: 'completed',
  running: 'active',
  paused: 'paused',
  waiting: 'pending',
  stopped: 'cancelled',
  'not run': 'cancelled',
};

// What an operator looks at first: failures, then devices mid-update, then the rest.
function deviceOrder(state: string): number {
  if (state === 'failed' || state === 'rolled_back' || state === 'rolled-back') return 0;
  if (state === 'downloading' || state === 'installing' || state === 'rebooting') return 1;
  if (state === 'pending') return 2;
  return 3;
}

type Pending = DeploymentAction | null;

export function DeploymentPage({ id }: { id: string }) {
  useTitle(`Deployment ${id}`);
  const { api, user, notify } = useApp();
  const dep = usePoll(() => api.deployment(id), kPollMs, (d) => !d || !isFinal(d), [api, id]);
  const [pending, setPending] = useState<Pending>(null);
  const [reason, setReason] = useState('');
  const [busy, run, error] = useAction();

  const act = async (what: Exclude<Pending, null>) => {
    const fn: () => Promise<Deployment> =
      what === 'pause' ? () => api.pauseDeployment(id, reason.trim()) : what === 'resume' ? () => api.resumeDeployment(id) : () => api.cancelDeployment(id);
    const updated = await run(fn);
    setPending(null);
    if (updated) {
      notify(`Deployment ${what === 'pause' ? 'paused' : what === 'resume' ? 'resumed' : 'cancelled'}.`);
      setReason('');
      dep.setData(updated);
      dep.reload();
    }
  };

  const d = dep.data;
  const [showAll, setShowAll] = useState(false);
  const sorted = [...(d?.devices ?? [])].sort((a, b) => deviceOrder(a.state) - deviceOrder(b.state) || a.device_id.localeCompare(b.device_id));
  const shownDevices = showAll ? sorted : sorted.slice(0, kCollapsed);
  const total = d ? totalDevices(d.counts) : 0;
  const finished = d ? finishedDevices(d.counts) : 0;

  return (
    <>
      <PageHeader
        title={d ? d.release : `Deployment ${id}`}
        subtitle={
          d ? (
            <>
              Deployment <code class="mono">{d.id}</code> · <Badge value={d.state} /> · created {formatTime(d.created)} by {d.created_by}
            </>
          ) : (
            'Deployment'
          )
        }
        actions={
          d ? (
            <>
              {deploymentActions(user.role, d).map((a) => (
                <Button key={a} mutates variant={a === 'cancel' ? 'danger' : a === 'resume' ? 'primary' : 'secondary'} onClick={() => setPending(a)}>
                  {a === 'pause' ? 'Pause' : a === 'resume' ? 'Resume' : 'Cancel deployment'}
                </Button>
              ))}
            </>
          ) : null
        }
      />
      <ErrorNotice error={dep.error} prefix="Could not refresh the deployment." />
      <ErrorNotice error={error} prefix="The action failed." />
      {dep.loading && !d ? <Loading /> : null}
      {d ? (
        <>
          {d.state === 'paused' ? (
            <Notice kind="warn">
              <strong>Paused.</strong> {d.paused_reason || 'No reason was given.'} No device receives a new assignment until it is resumed.
            </Notice>
          ) : null}
          {d.state === 'completed' ? <Notice kind="success">Completed: every phase ran.</Notice> : null}
          {d.state === 'cancelled' ? <Notice kind="info">Cancelled. Devices that had already installed keep the release.</Notice> : null}
          <div class="stats" aria-live="polite">
            <Stat label="Targeted devices" value={formatCount(total)} />
            <Stat label="Finished" value={`${formatCount(finished)}`} tone={finished === total && total > 0 ? 'ok' : undefined} />
            <Stat label="Succeeded" value={formatCount(d.counts.succeeded ?? 0)} tone="ok" />
            <Stat
              label={`Failed (threshold ${d.failure_threshold_percent} %)`}
              value={`${formatCount((d.counts.failed ?? 0) + (d.counts.rolled_back ?? 0))}`}
              tone={failedShare(d.counts) > d.failure_threshold_percent ? 'bad' : (d.counts.failed ?? 0) + (d.counts.rolled_back ?? 0) > 0 ? 'warn' : undefined}
            />
          </div>
          {selectorEntries(d.selector).length > 0 ? (
            <Card title="Target">
              <DefinitionList
                items={selectorEntries(d.selector).map((e): [string, ComponentChildren] => [
                  e.label,
                  e.key === 'group' ? <Link href={groupPath(e.text)}>{e.text}</Link> : e.text,
                ])}
              />
            </Card>
          ) : null}
          <Card
            title="Devices by state"
            actions={
              <span class="muted small live" data-testid="last-updated">
                {isFinal(d) ? 'Final' : dep.lastUpdated ? `Live · updated ${new Date(dep.lastUpdated).toISOString().slice(11, 19)} UTC` : 'Live'}
              </span>
            }
          >
            <StateBar counts={d.counts} />
          </Card>
          <Card title="Phases">
            <div class="table-wrap">
              <table class="table">
                <caption class="visually-hidden">Phases of this deployment</caption>
                <thead>
                  <tr>
                    <th scope="col">Phase</th>
                    <th scope="col">Reaches</th>
                    <th scope="col">Wait after</th>
                    <th scope="col">Started</th>
                    <th scope="col">Status</th>
                  </tr>
                </thead>
                <tbody>
                  {d.phases.map((p, i) => {
                    const status = phaseStatus(d, i);
                    return (
                      <tr key={i} class={status === 'running' || status === 'paused' ? 'row-current' : ''}>
                        <th scope="row">{i + 1}</th>
                        <td>
                          {p.percent} % · {formatCount(phaseTarget(p.percent, total))} device{phaseTarget(p.percent, total) === 1 ? '' : 's'}
                        </td>
                        <td>{formatDuration(p.wait_seconds)}</td>
                        <td>{p.started ? formatTime(p.started) : '—'}</td>
                        <td>
                          <Badge value={kPhaseTone[status]} label={status} />
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          </Card>
          <Card title="Devices">
            {(d.devices ?? []).length === 0 ? (
              <Empty>No device has been assigned yet.</Empty>
            ) : (
              <div class="table-wrap">
                <table class="table">
                  <caption class="visually-hidden">Devices in this deployment{total > 100 ? ' (first 100)' : ''}</caption>
                  <thead>
                    <tr>
                      <th scope="col">Device</th>
                      <th scope="col">State</th>
                      <th scope="col">Phase</th>
                      <th scope="col">Updated</th>
                      <th scope="col">Message</th>
                    </tr>
                  </thead>
                  <tbody>
                    {shownDevices.map((x) => (
                      <tr key={x.device_id}>
                        <td>
                          <Link href={devicePath(x.device_id)}>{x.device_id}</Link>
                        </td>
                        <td>
                          <Badge value={x.state} />
                        </td>
                        <td>{x.phase + 1}</td>
                        <td>{formatAge(x.updated)}</td>
                        <td>{x.message || '—'}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                <p class="muted small">
                  Showing {shownDevices.length} of {formatCount(total)} devices, problems and updates in progress first.{' '}
                  {sorted.length > kCollapsed ? (
                    <button type="button" class="linkish" onClick={() => setShowAll(!showAll)}>
                      {showAll ? 'Show fewer' : `Show ${sorted.length}`}
                    </button>
                  ) : null}
                </p>
              </div>
            )}
          </Card>
        </>
      ) : null}
      <ConfirmDialog
        open={pending === 'pause'}
        title="Pause this deployment?"
        confirmLabel="Pause"
        busy={busy}
        reason={{ label: 'Reason (optional, recorded in the audit log)', value: reason, onInput: setReason }}
        onConfirm={() => void act('pause')}
        onCancel={() => setPending(null)}
      >
        <p>No device receives a new assignment until you resume. Updates already running finish.</p>
      </ConfirmDialog>
      <ConfirmDialog open={pending === 'resume'} title="Resume this deployment?" confirmLabel="Resume" busy={busy} onConfirm={() => void act('resume')} onCancel={() => setPending(null)}>
        <p>Devices in the current phase start receiving the release again.</p>
      </ConfirmDialog>
      <ConfirmDialog
        open={pending === 'cancel'}
        title="Cancel this deployment?"
        confirmLabel="Cancel deployment"
        danger
        busy={busy}
        onConfirm={() => void act('cancel')}
        onCancel={() => setPending(null)}
      >
        <p>This cannot be undone. Devices that already installed the release keep it; no other device receives it.</p>
      </ConfirmDialog>
    </>
  );
}
