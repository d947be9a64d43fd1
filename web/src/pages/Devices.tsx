// Devices: filters and cursor pagination done by the server (after/limit), so a page costs the
// same with 100 or 100,000 devices. Filters live in the URL, so a view can be shared or reloaded.
import { useEffect, useRef, useState } from 'preact/hooks';
import { useApp } from '../app/context';
import { deviceFiltersToSearch, kDeviceStatuses, kPageSizes, parseDeviceFilters, type DeviceFilters } from '../app/deviceFilters';
import { useAsync, useTitle } from '../app/hooks';
import { navigate, useLocation } from '../app/router';
import { DeviceTable } from '../components/DeviceTable';
import { Button, Empty, ErrorNotice, Loading, PageHeader } from '../components/ui';

export function DevicesPage() {
  useTitle('Devices');
  const { api } = useApp();
  const location = useLocation();
  const filters = parseDeviceFilters(location.search);
  const [draft, setDraft] = useState(filters);
  // Cursors of the pages before this one, for "Previous"; a reload starts again at page 1.
  const previous = useRef<string[]>([]);

  useEffect(() => setDraft(filters), [location.search]);

  const page = useAsync(
    () =>
      api.devices({
        status: filters.status,
        hardware_id: filters.hardware_id,
        tag: filters.tag,
        image_version: filters.image_version,
        limit: filters.limit,
        after: filters.after || null,
      }),
    [api, location.search],
  );

  const go = (f: DeviceFilters) => navigate(`/devices${deviceFiltersToSearch(f)}`);
  const apply = (e: Event) => {
    e.preventDefault();
    previous.current = [];
    go({ ...draft, hardware_id: draft.hardware_id.trim(), tag: draft.tag.trim(), image_version: draft.image_version.trim(), after: '' });
  };
  const next = page.data?.next_after ?? null;
  const pageNumber = previous.current.length + 1;

  return (
    <>
      <PageHeader title="Devices" subtitle="Search the fleet; open a device for its history and actions." />
      <form class="filters" onSubmit={apply} aria-label="Device filters">
        <div class="field">
          <label for="f-status">State</label>
          <select id="f-status" value={draft.status} onChange={(e) => setDraft({ ...draft, status: (e.target as HTMLSelectElement).value as DeviceFilters['status'] })}>
            {kDeviceStatuses.map((s) => (
              <option key={s} value={s}>
                {s || 'Any state'}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-hw">Hardware id</label>
          <input id="f-hw" value={draft.hardware_id} placeholder="e.g. rpi4-64" onInput={(e) => setDraft({ ...draft, hardware_id: (e.target as HTMLInputElement).value })} />
        </div>
        <div class="field">
          <label for="f-tag">Tag</label>
          <input id="f-tag" value={draft.tag} placeholder="e.g. berlin" onInput={(e) => setDraft({ ...draft, tag: (e.target as HTMLInputElement).value })} />
        </div>
        <div class="field">
          <label for="f-version">Image version</label>
          <input id="f-version" value={draft.image_version} placeholder="e.g. 2.3.1" onInput={(e) => setDraft({ ...draft, image_version: (e.target as HTMLInputElement).value })} />
        </div>
        <div class="field">
          <label for="f-limit">Per page</label>
          <select id="f-limit" value={String(draft.limit)} onChange={(e) => setDraft({ ...draft, limit: Number((e.target as HTMLSelectElement).value) })}>
            {kPageSizes.map((n) => (
              <option key={n} value={String(n)}>
                {n}
              </option>
            ))}
          </select>
        </div>
        <div class="filters-actions">
          <Button type="submit" variant="primary">
            Apply
          </Button>
          <Button
            variant="ghost"
            onClick={() => {
              previous.current = [];
              go({ status: '', hardware_id: '', tag: '', image_version: '', limit: filters.limit, after: '' });
            }}
          >
            Clear
          </Button>
        </div>
      </form>
      <ErrorNotice error={page.error} prefix="Could not load devices." />
      {page.loading && !page.data ? <Loading /> : null}
      {page.data ? (
        page.data.devices.length === 0 ? (
          <Empty>No device matches these filters.</Empty>
        ) : (
          <div aria-busy={page.loading ? 'true' : 'false'}>
            <DeviceTable devices={page.data.devices} caption="Devices" />
          </div>
        )
      ) : null}
      <nav class="pager" aria-label="Pages">
        <Button
          disabled={!filters.after}
          onClick={() => {
            const before = previous.current.pop() ?? '';
            go({ ...filters, after: before });
          }}
        >
          ← Previous
        </Button>
        <span class="muted">Page {pageNumber}</span>
        <Button
          disabled={!next}
          onClick={() => {
            previous.current.push(filters.after);
            go({ ...filters, after: next ?? '' });
          }}
        >
          Next →
        </Button>
      </nav>
    </>
  );
}
