// Deployments: every rollout with its progress, a way to start one, and the emergency stop.
import { useState } from 'preact/hooks';
import { useApp } from '../app/context';
import { useAction, usePoll, useTitle } from '../app/hooks';
import { finishedDevices, totalDevices } from '../app/progress';
import { deploymentPath } from '../app/routes';
import { navigate } from '../app/router';
import { Meter } from '../components/charts';
import { ConfirmDialog } from '../components/dialog';
import { Badge, Button, Can, Empty, ErrorNotice, Link, Loading, PageHeader } from '../components/ui';
import { formatCount, formatTime } from '../util/format';

const kStates = ['', 'active', 'paused', 'completed', 'cancelled'];

export function DeploymentsPage() {
  useTitle('Deployments');
  const { api, notify } = useApp();
  const [state, setState] = useState('');
  const list = usePoll(
    () => api.deployments(state || undefined),
    5000,
    (latest) => !latest || latest.some((d) => d.state === 'active'),
    [api, state],
  );
  const [askPauseAll, setAskPauseAll] = useState(false);
  const [reason, setReason] = useState('');
  const [busy, run, error] = useAction();

  const pauseAll = async () => {
    const result = await run(() => api.pauseAll(reason.trim()));
    setAskPauseAll(false);
    if (result) {
      notify(`Paused ${result.paused} deployment${result.paused === 1 ? '' : 's'}.`);
      setReason('');
      list.reload();
    }
  };

  return (
    <>
      <PageHeader
        title="Deployments"
        subtitle="Phased rollouts: each phase reaches more devices once the one before succeeded."
        actions={
          <>
            <Can permission="deployments.emergency">
              <Button mutates variant="danger" onClick={() => setAskPauseAll(true)}>
                Pause all
              </Button>
            </Can>
            <Can permission="deployments.manage">
              <Button mutates variant="primary" onClick={() => navigate('/deployments/new')}>
                New deployment
              </Button>
            </Can>
          </>
        }
      />
      <div class="filters filters-inline">
        <div class="field">
          <label for="dep-state">State</label>
          <select id="dep-state" value={state} onChange={(e) => setState((e.target as HTMLSelectElement).value)}>
            {kStates.map((s) => (
              <option key={s} value={s}>
                {s || 'Any state'}
              </option>
            ))}
          </select>
        </div>
      </div>
      <ErrorNotice error={list.error} prefix="Could not load deployments." />
      <ErrorNotice error={error} prefix="Pause all failed." />
      {list.loading && !list.data ? <Loading /> : null}
      {list.data && list.data.length === 0 ? <Empty>No deployment{state ? ` in state ${state}` : ''}.</Empty> : null}
      {list.data && list.data.length > 0 ? (
        <div class="table-wrap">
          <table class="table">
            <caption class="visually-hidden">Deployments</caption>
            <thead>
              <tr>
                <th scope="col">Deployment</th>
                <th scope="col">Release</th>
                <th scope="col">State</th>
                <th scope="col">Progress</th>
                <th scope="col">Phase</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((d) => (
                <tr key={d.id}>
                  <td>
                    <Link href={deploymentPath(d.id)}>{d.id}</Link>
                  </td>
                  <td>{d.release}</td>
                  <td>
                    <Badge value={d.state} />
                  </td>
                  <td class="progress-cell">
                    <Meter value={finishedDevices(d.counts)} max={totalDevices(d.counts)} label={`Progress of ${d.id}`} />
                    <span class="small muted">
                      {formatCount(finishedDevices(d.counts))}/{formatCount(totalDevices(d.counts))}
                    </span>
                  </td>
                  <td>
                    {Math.min(d.current_phase + 1, d.phases.length)} of {d.phases.length}
                  </td>
                  <td>
                    {formatTime(d.created)}
                    <span class="muted small"> by {d.created_by}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <ConfirmDialog
        open={askPauseAll}
        title="Pause every active deployment?"
        confirmLabel="Pause all"
        danger
        busy={busy}
        reason={{ label: 'Reason (recorded in the audit log)', value: reason, onInput: setReason, required: true }}
        onConfirm={() => void pauseAll()}
        onCancel={() => setAskPauseAll(false)}
      >
        <p>Devices stop receiving new update assignments until each deployment is resumed. Updates already running on a device finish.</p>
      </ConfirmDialog>
    </>
  );
}
