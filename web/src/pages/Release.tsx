// One release: its signed facts, the signature behind it (the offline targets role: threshold,
// keys, metadata version and expiry), the devices that run it and the deltas aloftd built to it.
import { useApp } from '../app/context';
import { kServerDeltaListLimit, serverDeltaRows } from '../app/deltas';
import { devicesRunning } from '../app/fleet';
import { useAsync, useTitle } from '../app/hooks';
import { navigate } from '../app/router';
import { expiryState, timeLeft } from '../app/security';
import { DeviceTable } from '../components/DeviceTable';
import { ServerDeltaTable } from '../components/ServerDeltaTable';
import { Badge, Button, Can, Card, DefinitionList, Empty, ErrorNotice, Link, Loading, Mono, PageHeader } from '../components/ui';
import { formatBytes, formatCount, formatTime } from '../util/format';
import { deployHref } from './Releases';

const kListed = 25;

export function ReleasePage({ name }: { name: string }) {
  useTitle(`Release ${name}`);
  const { api, can } = useApp();
  const release = useAsync(() => api.release(name), [api, name]);
  const repo = useAsync(() => api.repoStatus(), [api]);
  const r = release.data;
  const fleet = useAsync(() => (can('devices.read') ? api.fleetSummary() : Promise.resolve(null)), [api]);
  // The server filters by version; the hardware ids are checked here (a release names few).
  const devices = useAsync(
    () =>
      r && can('devices.read')
        ? api.devices({ status: 'accepted', image_version: r.version, limit: kListed })
        : Promise.resolve(null),
    [api, r?.version],
  );
  // Every release's builds in one answer (at most 500); this page keeps its own.
  const deltas = useAsync(() => api.serverDeltas(), [api]);
  const deltaRows = r && deltas.data ? serverDeltaRows(deltas.data, r.name, r.length) : [];
  const running = r && devices.data ? devices.data.devices.filter((d) => r.hardware_ids.includes(d.hardware_id)) : [];
  const count = r && fleet.data ? devicesRunning(fleet.data.groups, r) : null;
  const targetsRole = repo.data?.image?.root?.roles?.targets;
  const targets = repo.data?.image?.targets;
  const now = repo.data ? Date.parse(repo.data.now) || Date.now() : Date.now();
  const state = targets ? expiryState(targets.expires, 'offline', now) : 'missing';

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
              ['Notes', r.notes || '—'],
            ]}
          />
        </Card>
      ) : null}
      {r ? (
        <Card title="Signature">
          <ErrorNotice error={repo.error} prefix="Could not load the repository status." />
          {repo.loading && !repo.data ? <Loading /> : null}
          {repo.data ? (
            <DefinitionList
              items={[
                ['Signed by', 'the offline targets role of the Image repository'],
                [
                  'Threshold',
                  targetsRole ? (
                    <>
                      {targetsRole.threshold} of {targetsRole.keyids.length} key{targetsRole.keyids.length === 1 ? '' : 's'}: met (aloftd
                      accepts targets metadata only when enough of them signed it)
                    </>
                  ) : (
                    '—'
                  ),
                ],
                [
                  'Targets keys',
                  targetsRole?.keyids.length ? (
                    <ul class="plain">
                      {targetsRole.keyids.map((k) => (
                        <li key={k}>
                          <Mono title={k}>{k}</Mono>
                        </li>
                      ))}
                    </ul>
                  ) : (
                    '—'
                  ),
                ],
                ['Targets metadata', targets ? `version ${targets.version}` : 'none uploaded'],
                [
                  'Expires',
                  targets ? (
                    <>
                      {formatTime(targets.expires)} ({timeLeft(targets.expires, now)}){' '}
                      {state === 'expired' || state === 'expiring' ? <Badge value={state} /> : null}
                    </>
                  ) : (
                    '—'
                  ),
                ],
              ]}
            />
          ) : null}
          <p class="muted small">
            Expiry and keys of every role: <Link href="/security">Security status</Link>.
          </p>
        </Card>
      ) : null}
      {r && can('devices.read') ? (
        <Card
          title={`Running on ${count === null ? '…' : formatCount(count)} device${count === 1 ? '' : 's'}`}
          actions={<Link href={`/devices?status=accepted&image_version=${encodeURIComponent(r.version)}`}>All of them in Devices</Link>}
        >
          <ErrorNotice error={devices.error} prefix="Could not load the devices." />
          {devices.data && running.length === 0 ? <Empty>No device runs this release yet.</Empty> : null}
          {running.length > 0 ? <DeviceTable devices={running} caption="Devices running this release" /> : null}
          {count !== null && count > running.length && running.length > 0 ? (
            <p class="muted small">
              The first {formatCount(running.length)} of {formatCount(count)}.
            </p>
          ) : null}
        </Card>
      ) : null}
      {r ? (
        <Card title="Deltas built by the server">
          <ErrorNotice error={deltas.error} prefix="Could not load the server-built deltas." />
          {deltas.loading && !deltas.data ? <Loading /> : null}
          {deltas.data && deltaRows.length === 0 ? (
            <Empty>
              No server-built deltas yet: they are built when a deployment of this release is created, from the images its
              devices run.
            </Empty>
          ) : null}
          {deltaRows.length > 0 ? <ServerDeltaTable rows={deltaRows} caption="Deltas built by the server for this release" /> : null}
          {deltas.data && deltas.data.length >= kServerDeltaListLimit ? (
            <p class="muted small">The server lists its {formatCount(kServerDeltaListLimit)} newest builds; older ones are not shown.</p>
          ) : null}
          {deltaRows.length > 0 ? (
            <p class="muted small">
              Saving is against the full artifact ({formatBytes(r.length)}). Devices get the full image until a build is
              ready; a failed build is tried again when a device asks an hour later.
            </p>
          ) : null}
        </Card>
      ) : null}
    </>
  );
}
