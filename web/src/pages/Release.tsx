// One release: its signed facts and the devices that run it.
import { useApp } from '../app/context';
import { useAsync, useTitle } from '../app/hooks';
import { navigate } from '../app/router';
import { DeviceTable } from '../components/DeviceTable';
import { Button, Can, Card, DefinitionList, Empty, ErrorNotice, Loading, Mono, PageHeader } from '../components/ui';
import { formatBytes, formatCount } from '../util/format';
import { loadFleetSample } from './Overview';
import { deployHref } from './Releases';

export function ReleasePage({ name }: { name: string }) {
  useTitle(`Release ${name}`);
  const { api, can } = useApp();
  const release = useAsync(() => api.release(name), [api, name]);
  const fleet = useAsync(
    () => (can('devices.read') ? loadFleetSample(api) : Promise.resolve({ devices: [], complete: true })),
    [api],
  );
  const r = release.data;
  const running = r && fleet.data ? fleet.data.devices.filter((d) => d.status === 'accepted' && d.image_sha256 === r.sha256) : [];

  return (
    <>
      <PageHeader
        title={name}
        subtitle="Release"
        actions={
          <Can permission="deployments.manage">
            <Button mutates variant="primary" onClick={() => navigate(deployHref(name))}>
              Deploy this release
            </Button>
          </Can>
        }
      />
      <ErrorNotice error={release.error} prefix="Could not load the release." />
      {release.loading && !r ? <Loading /> : null}
      {r ? (
        <Card title="Signed target">
          <DefinitionList
            items={[
              ['Target path', <Mono>{r.name}</Mono>],
              ['Version', r.version],
              ['Hardware ids', r.hardware_ids.join(', ') || '—'],
              ['Security counter', String(r.security_counter)],
              ['Length', `${formatBytes(r.length)} (${formatCount(r.length)} bytes)`],
              ['SHA-256', <Mono>{r.sha256}</Mono>],
              ['Signed by', 'the offline targets role of the Image repository'],
              ['Notes', r.notes || '—'],
            ]}
          />
        </Card>
      ) : null}
      {r && can('devices.read') ? (
        <Card title={`Running on ${fleet.data ? formatCount(running.length) : '…'} device${running.length === 1 ? '' : 's'}`}>
          {fleet.data && !fleet.data.complete ? (
            <p class="muted small">Counted among the first {formatCount(fleet.data.devices.length)} devices.</p>
          ) : null}
          {fleet.data && running.length === 0 ? <Empty>No device runs this release yet.</Empty> : null}
          {running.length > 0 ? <DeviceTable devices={running.slice(0, 50)} caption="Devices running this release" /> : null}
        </Card>
      ) : null}
    </>
  );
}
