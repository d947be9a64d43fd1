// Releases: the targets of the offline-signed Image repository and where they run.
import { useApp } from '../app/context';
import { useAsync, useTitle } from '../app/hooks';
import { releasePath } from '../app/routes';
import { navigate } from '../app/router';
import { Button, Can, Empty, ErrorNotice, Link, Loading, Mono, PageHeader } from '../components/ui';
import { formatBytes, formatCount, shortHash } from '../util/format';
import { devicesRunning } from '../app/fleet';
import { formatServerDeltaCounts, serverDeltaCounts } from '../app/deltas';

export function deployHref(release: string): string {
  return `/deployments/new?release=${encodeURIComponent(release)}`;
}

export function ReleasesPage() {
  useTitle('Releases');
  const { api, can } = useApp();
  const releases = useAsync(() => api.releases(), [api]);
  // Accepted devices per (hardware id, version), one request whatever the fleet size.
  const fleet = useAsync(() => (can('devices.read') ? api.fleetSummary() : Promise.resolve(null)), [api]);
  // Deltas aloftd built, counted per release; details on each release's page.
  const deltas = useAsync(() => api.serverDeltas(), [api]);
  const deltaCounts = deltas.data ? serverDeltaCounts(deltas.data) : null;

  return (
    <>
      <PageHeader
        title="Releases"
        subtitle="Images in the Image repository. Their targets metadata is signed offline; the server cannot add one."
      />
      <ErrorNotice error={releases.error} prefix="Could not load releases." />
      {releases.loading && !releases.data ? <Loading /> : null}
      {releases.data && releases.data.length === 0 ? (
        <Empty>No release yet. Upload artifacts and signed targets metadata with aloftctl.</Empty>
      ) : null}
      {releases.data && releases.data.length > 0 ? (
        <div class="table-wrap">
          <table class="table">
            <caption class="visually-hidden">Releases</caption>
            <thead>
              <tr>
                <th scope="col">Release</th>
                <th scope="col">Version</th>
                <th scope="col">Hardware</th>
                <th scope="col">Security counter</th>
                <th scope="col">Size</th>
                <th scope="col">SHA-256</th>
                <th scope="col">Running on</th>
                <th scope="col">Server deltas</th>
                <th scope="col"><span class="visually-hidden">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {releases.data.map((r) => (
                <tr key={r.name}>
                  <td>
                    <Link href={releasePath(r.name)}>{r.name}</Link>
                  </td>
                  <td>{r.version}</td>
                  <td>{r.hardware_ids.join(', ')}</td>
                  <td>{r.security_counter}</td>
                  <td>{formatBytes(r.length)}</td>
                  <td>
                    <Mono title={r.sha256}>{shortHash(r.sha256)}</Mono>
                  </td>
                  <td>{fleet.data ? formatCount(devicesRunning(fleet.data.groups, r)) : can('devices.read') && fleet.loading ? '…' : '—'}</td>
                  <td>{deltaCounts ? formatServerDeltaCounts(deltaCounts.get(r.name)) : deltas.loading ? '…' : '—'}</td>
                  <td class="row-actions">
                    <Can permission="deployments.manage">
                      <Button mutates onClick={() => navigate(deployHref(r.name))} aria-label={`Deploy ${r.name}`}>
                        Deploy
                      </Button>
                    </Can>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}
