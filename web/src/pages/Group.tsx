// One static group: its members, paged by the server; operators and admins add devices by
// pasting their ids, remove the ones they tick, or delete the group. Adding and removing are
// all or nothing on the server: unknown ids come back listed in a 400 and nothing changes.
import { useState } from 'preact/hooks';
import { useApp } from '../app/context';
import { kMaxMembersPerChange, membershipChangeMessage, parseMemberIds } from '../app/groups';
import { useAction, useAsync, useTitle } from '../app/hooks';
import { kFirstPage, nextPage, pageNumber, previousPage } from '../app/pager';
import { devicePath } from '../app/routes';
import { navigate } from '../app/router';
import { ConfirmDialog } from '../components/dialog';
import { Button, Can, Card, Empty, ErrorNotice, Link, Loading, PageHeader } from '../components/ui';
import { formatCount, formatTime } from '../util/format';

const kPageSize = 100;

export function GroupPage({ name }: { name: string }) {
  useTitle(`Group ${name}`);
  const { api, can, notify } = useApp();
  const [pager, setPager] = useState(kFirstPage);
  const group = useAsync(() => api.group(name, pager.after || null, kPageSize), [api, name, pager.after]);
  const [idsText, setIdsText] = useState('');
  const [inputProblem, setInputProblem] = useState<string | null>(null);
  const [adding, runAdd, addError] = useAction();
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [confirmRemove, setConfirmRemove] = useState(false);
  const [removing, runRemove, removeError] = useAction();
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [deleting, runDelete, deleteError] = useAction();

  const g = group.data;
  const manage = can('devices.manage');
  const shown = g?.devices ?? [];
  const allShownSelected = shown.length > 0 && shown.every((id) => selected.has(id));

  const add = async (e: Event) => {
    e.preventDefault();
    const parsed = parseMemberIds(idsText);
    setInputProblem(parsed.error);
    if (parsed.error) return;
    const changed = await runAdd(() => api.addGroupMembers(name, parsed.ids));
    if (changed) {
      notify(membershipChangeMessage(name, parsed.ids.length, changed.added ?? 0, true));
      setIdsText('');
      group.reload();
    }
  };
  const remove = async () => {
    const ids = [...selected];
    const changed = await runRemove(() => api.removeGroupMembers(name, ids));
    setConfirmRemove(false);
    if (changed) {
      notify(membershipChangeMessage(name, ids.length, changed.removed ?? 0, false));
      setSelected(new Set());
      // The page may now be empty or shorter: start again from the first one.
      setPager(kFirstPage);
      group.reload();
    }
  };
  const deleteGroup = async () => {
    const done = await runDelete(async () => {
      await api.deleteGroup(name);
      return true;
    });
    setConfirmDelete(false);
    if (done) {
      notify(`Group ${name} deleted.`);
      navigate('/groups');
    }
  };
  const toggle = (id: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(id);
    else next.delete(id);
    setSelected(next);
  };
  const toggleAll = (on: boolean) => {
    const next = new Set(selected);
    for (const id of shown) {
      if (on) next.add(id);
      else next.delete(id);
    }
    setSelected(next);
  };
  const next = g?.next_after ?? null;

  return (
    <>
      <PageHeader
        title={name}
        subtitle={
          g ? (
            <>
              Group · {formatCount(g.members)} member{g.members === 1 ? '' : 's'} · created {formatTime(g.created_at)} by {g.created_by}
            </>
          ) : (
            'Group'
          )
        }
        actions={
          g ? (
            <>
              <Can permission="deployments.manage">
                <Button mutates variant="primary" onClick={() => navigate(`/deployments/new?group=${encodeURIComponent(name)}`)}>
                  Deploy to this group
                </Button>
              </Can>
              <Can permission="devices.manage">
                <Button mutates variant="danger" onClick={() => setConfirmDelete(true)}>
                  Delete group
                </Button>
              </Can>
            </>
          ) : null
        }
      />
      <p>
        <Link href="/groups">← All groups</Link>
      </p>
      <ErrorNotice error={group.error} prefix="Could not load the group." />
      <ErrorNotice error={deleteError} prefix="The group was not deleted." />
      {g && manage ? (
        <Card title="Add devices">
          <ErrorNotice error={addError} prefix="Nothing was added." />
          {inputProblem ? (
            <div class="notice notice-error" role="alert">
              {inputProblem}
            </div>
          ) : null}
          <form class="stack" onSubmit={(e) => void add(e)} aria-label="Add devices">
            <div class="field">
              <label for="g-ids">Device ids</label>
              <textarea
                id="g-ids"
                rows={3}
                aria-describedby="g-ids-help"
                placeholder="e.g. rpi4-0001, rpi4-0002"
                value={idsText}
                onInput={(e) => setIdsText((e.target as HTMLTextAreaElement).value)}
              />
              <p class="help" id="g-ids-help">
                Comma, space or newline separated; up to {formatCount(kMaxMembersPerChange)} at a time. Copy them from the{' '}
                <Link href="/devices">device list</Link>. Devices already in the group are left as they are.
              </p>
            </div>
            <div class="filters-actions">
              <Button type="submit" variant="primary" mutates busy={adding} disabled={!idsText.trim()}>
                Add to group
              </Button>
            </div>
          </form>
        </Card>
      ) : null}
      <ErrorNotice error={removeError} prefix="Nothing was removed." />
      {group.loading && !g ? <Loading /> : null}
      {g ? (
        <Card
          title="Members"
          actions={
            manage && shown.length > 0 ? (
              <Button mutates variant="danger" disabled={selected.size === 0} onClick={() => setConfirmRemove(true)}>
                Remove selected ({formatCount(selected.size)})
              </Button>
            ) : undefined
          }
        >
          {shown.length === 0 ? (
            <Empty>{pager.after ? 'No more members.' : 'This group has no devices yet.'}</Empty>
          ) : (
            <div class="table-wrap" aria-busy={group.loading ? 'true' : 'false'}>
              <table class="table">
                <caption class="visually-hidden">Devices in group {name}</caption>
                <thead>
                  <tr>
                    {manage ? (
                      <th scope="col" class="select-cell">
                        <input
                          type="checkbox"
                          aria-label="Select every device on this page"
                          checked={allShownSelected}
                          onChange={(e) => toggleAll((e.target as HTMLInputElement).checked)}
                        />
                      </th>
                    ) : null}
                    <th scope="col">Device</th>
                  </tr>
                </thead>
                <tbody>
                  {shown.map((id) => (
                    <tr key={id}>
                      {manage ? (
                        <td class="select-cell">
                          <input
                            type="checkbox"
                            aria-label={`Select ${id}`}
                            checked={selected.has(id)}
                            onChange={(e) => toggle(id, (e.target as HTMLInputElement).checked)}
                          />
                        </td>
                      ) : null}
                      <td>
                        <Link href={devicePath(id)}>{id}</Link>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <nav class="pager" aria-label="Member pages">
            <Button disabled={!pager.after} onClick={() => setPager(previousPage(pager))}>
              ← Previous
            </Button>
            <span class="muted">Page {pageNumber(pager)}</span>
            <Button disabled={!next} onClick={() => setPager(nextPage(pager, next))}>
              Next →
            </Button>
          </nav>
        </Card>
      ) : null}
      {confirmRemove ? (
        <ConfirmDialog
          open
          title={`Remove ${formatCount(selected.size)} device${selected.size === 1 ? '' : 's'} from ${name}?`}
          confirmLabel="Remove from group"
          danger
          busy={removing}
          onConfirm={() => void remove()}
          onCancel={() => setConfirmRemove(false)}
        >
          <p>
            {[...selected].slice(0, 10).join(', ')}
            {selected.size > 10 ? ` and ${formatCount(selected.size - 10)} more` : ''}. Devices already admitted to a deployment
            through this group finish their update.
          </p>
        </ConfirmDialog>
      ) : null}
      {confirmDelete ? (
        <ConfirmDialog
          open
          title={`Delete group ${name}?`}
          confirmLabel="Delete group"
          danger
          busy={deleting}
          onConfirm={() => void deleteGroup()}
          onCancel={() => setConfirmDelete(false)}
        >
          <p>
            Its memberships are removed; the devices themselves are not changed. A group that an active or paused deployment targets
            cannot be deleted.
          </p>
        </ConfirmDialog>
      ) : null}
    </>
  );
}
