// Pending enrollments: devices that asked to join and wait for an operator's decision.
import { useState } from 'preact/hooks';
import type { Device } from '../api/types';
import { useApp } from '../app/context';
import { useAction, useAsync, useTitle } from '../app/hooks';
import { ConfirmDialog } from '../components/dialog';
import { DeviceTable } from '../components/DeviceTable';
import { Button, Empty, ErrorNotice, Loading, PageHeader } from '../components/ui';

export function EnrollmentsPage() {
  useTitle('Enrollments');
  const { api, can, notify } = useApp();
  const [after, setAfter] = useState<string | null>(null);
  const page = useAsync(() => api.devices({ status: 'pending', limit: 100, after }), [api, after]);
  const [confirm, setConfirm] = useState<{ device: Device; action: 'accept' | 'reject' } | null>(null);
  const [busy, run, error] = useAction();

  const decide = async (device: Device, action: 'accept' | 'reject') => {
    const done = await run(() => api.deviceAction(device.id, action));
    setConfirm(null);
    if (done) {
      notify(`Device ${device.id} ${action === 'accept' ? 'accepted' : 'rejected'}.`);
      page.reload();
    }
  };

  return (
    <>
      <PageHeader
        title="Pending enrollments"
        subtitle="Accept a device only when you recognise its id and hardware: once accepted it receives updates."
      />
      <ErrorNotice error={page.error} prefix="Could not load pending devices." />
      <ErrorNotice error={error} prefix="The decision was not saved." />
      {page.loading && !page.data ? <Loading /> : null}
      {page.data && page.data.devices.length === 0 ? <Empty>No device is waiting for enrollment.</Empty> : null}
      {page.data && page.data.devices.length > 0 ? (
        <DeviceTable
          devices={page.data.devices}
          caption="Devices waiting for enrollment"
          actions={
            can('devices.manage')
              ? (d) => (
                  <>
                    <Button mutates variant="primary" onClick={() => setConfirm({ device: d, action: 'accept' })} aria-label={`Accept ${d.id}`}>
                      Accept
                    </Button>
                    <Button mutates variant="danger" onClick={() => setConfirm({ device: d, action: 'reject' })} aria-label={`Reject ${d.id}`}>
                      Reject
                    </Button>
                  </>
                )
              : undefined
          }
        />
      ) : null}
      {page.data?.next_after ? (
        <nav class="pager" aria-label="Pages">
          <Button onClick={() => setAfter(page.data?.next_after ?? null)}>Next →</Button>
        </nav>
      ) : null}
      {confirm ? (
        <ConfirmDialog
          open
          title={`${confirm.action === 'accept' ? 'Accept' : 'Reject'} ${confirm.device.id}?`}
          confirmLabel={confirm.action === 'accept' ? 'Accept device' : 'Reject device'}
          danger={confirm.action === 'reject'}
          busy={busy}
          onConfirm={() => void decide(confirm.device, confirm.action)}
          onCancel={() => setConfirm(null)}
        >
          <p>
            Hardware <strong>{confirm.device.hardware_id}</strong>
            {confirm.device.agent_version ? <>, agent {confirm.device.agent_version}</> : null}.{' '}
            {confirm.action === 'accept'
              ? 'The device will be trusted to receive updates.'
              : 'The device will not be able to authenticate.'}
          </p>
        </ConfirmDialog>
      ) : null}
    </>
  );
}
