// Static device groups: named lists of devices a deployment can target. Everyone who reads
// devices sees them; operators and admins create and delete them. Cursor-paged by the server.
import { useState } from 'preact/hooks';
import type { DeviceGroup } from '../api/types';
import { useApp } from '../app/context';
import { groupNameProblem, kGroupNameMaxLength } from '../app/groups';
import { useAction, useAsync, useTitle } from '../app/hooks';
import { kFirstPage, nextPage, pageNumber, previousPage } from '../app/pager';
import { groupPath } from '../app/routes';
import { navigate } from '../app/router';
import { ConfirmDialog } from '../components/dialog';
import { Button, Can, Card, Empty, ErrorNotice, Link, Loading, PageHeader } from '../components/ui';
import { formatCount, formatTime } from '../util/format';

const kPageSize = 50;

export function GroupsPage() {
  useTitle('Groups');
  const { api, can, notify } = useApp();
  const [pager, setPager] = useState(kFirstPage);
  const page = useAsync(() => api.groups(pager.after || null, kPageSize), [api, pager.after]);
  const [name, setName] = useState('');
  const [creating, runCreate, createError] = useAction();
  const [confirm, setConfirm] = useState<DeviceGroup | null>(null);
  const [deleting, runDelete, deleteError] = useAction();

  const trimmed = name.trim();
  const problem = groupNameProblem(trimmed);
  // The rule turns into an error once something was typed; an empty field only disables Create.
  const showProblem = trimmed !== '' && problem !== null;
  const create = async (e: Event) => {
    e.preventDefault();
    if (problem !== null) return;
    const created = await runCreate(() => api.createGroup(trimmed));
    if (created) {
      notify(`Group ${created.name} created. Add its devices next.`);
      navigate(groupPath(created.name));
    }
  };
  const remove = async (group: DeviceGroup) => {
    const done = await runDelete(async () => {
      await api.deleteGroup(group.name);
      return true;
    });
    setConfirm(null);
    if (done) {
      notify(`Group ${group.name} deleted.`);
      page.reload();
    }
  };
  const next = page.data?.next_after ?? null;

  return (
    <>
      <PageHeader title="Device groups" subtitle="Named lists of devices; a deployment can target a group by name." />
      <ErrorNotice error={page.error} prefix="Could not load groups." />
      <ErrorNotice error={deleteError} prefix="The group was not deleted." />
      <Can permission="devices.manage">
        <Card title="Create a group">
          <ErrorNotice error={createError} prefix="The group was not created." />
          <form class="filters" onSubmit={(e) => void create(e)} aria-label="Create a group">
            <div class="field">
              <label for="g-name">Group name</label>
              <input
                id="g-name"
                autocomplete="off"
                maxLength={kGroupNameMaxLength}
                aria-invalid={showProblem ? 'true' : undefined}
                aria-describedby="g-name-help"
                placeholder="e.g. lab-rack-2"
                value={name}
                onInput={(e) => setName((e.target as HTMLInputElement).value)}
              />
            </div>
            <div class="filters-actions">
              <Button type="submit" variant="primary" mutates busy={creating} disabled={Boolean(problem)}>
                Create group
              </Button>
            </div>
          </form>
          <p class={`help ${showProblem ? 'help-error' : ''}`} id="g-name-help" role={showProblem ? 'alert' : undefined}>
            {showProblem ? problem : "1-64 characters: a-z, 0-9, '.', '_' and '-', starting with a letter or digit."}
          </p>
        </Card>
      </Can>
      {page.loading && !page.data ? <Loading /> : null}
      {page.data ? (
        page.data.groups.length === 0 ? (
          <Empty>{pager.after ? 'No more groups.' : 'No group exists yet.'}</Empty>
        ) : (
          <div class="table-wrap" aria-busy={page.loading ? 'true' : 'false'}>
            <table class="table">
              <caption class="visually-hidden">Device groups</caption>
              <thead>
                <tr>
                  <th scope="col">Group</th>
                  <th scope="col">Members</th>
                  <th scope="col">Created</th>
                  <th scope="col">Created by</th>
                  {can('devices.manage') ? (
                    <th scope="col">
                      <span class="visually-hidden">Actions</span>
                    </th>
                  ) : null}
                </tr>
              </thead>
              <tbody>
                {page.data.groups.map((g) => (
                  <tr key={g.name}>
                    <td>
                      <Link href={groupPath(g.name)}>{g.name}</Link>
                    </td>
                    <td>{formatCount(g.members)}</td>
                    <td>{formatTime(g.created_at)}</td>
                    <td>{g.created_by}</td>
                    {can('devices.manage') ? (
                      <td class="row-actions">
                        <Button mutates variant="danger" aria-label={`Delete group ${g.name}`} onClick={() => setConfirm(g)}>
                          Delete
                        </Button>
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      ) : null}
      <nav class="pager" aria-label="Pages">
        <Button disabled={!pager.after} onClick={() => setPager(previousPage(pager))}>
          ← Previous
        </Button>
        <span class="muted">Page {pageNumber(pager)}</span>
        <Button disabled={!next} onClick={() => setPager(nextPage(pager, next))}>
          Next →
        </Button>
      </nav>
      {confirm ? (
        <ConfirmDialog
          open
          title={`Delete group ${confirm.name}?`}
          confirmLabel="Delete group"
          danger
          busy={deleting}
          onConfirm={() => void remove(confirm)}
          onCancel={() => setConfirm(null)}
        >
          <p>
            Its {formatCount(confirm.members)} membership{confirm.members === 1 ? '' : 's'} are removed; the devices themselves are not
            changed. A group that an active or paused deployment targets cannot be deleted.
          </p>
        </ConfirmDialog>
      ) : null}
    </>
  );
}
