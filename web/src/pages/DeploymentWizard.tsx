// The deployment wizard: release → target → rollout plan → review, then live progress.
import { useEffect, useState } from 'preact/hooks';
import type { Release } from '../api/types';
import { useApp } from '../app/context';
import { useAction, useAsync, useTitle } from '../app/hooks';
import { deploymentPath } from '../app/routes';
import { navigate, useLocation } from '../app/router';
import { selectorEntries } from '../app/selector';
import {
  buildDeployment,
  buildSelector,
  defaultRollout,
  kPresets,
  validateRollout,
  type RolloutForm,
  type TargetForm,
} from '../app/wizard';
import { Button, Card, DefinitionList, Empty, ErrorNotice, Loading, Mono, PageHeader } from '../components/ui';
import { formatBytes, formatCount, formatDuration } from '../util/format';

const kSteps = ['Release', 'Target', 'Rollout', 'Review'] as const;
const kGroupChoices = 1000;

function num(e: Event): number {
  const v = (e.target as HTMLInputElement).valueAsNumber;
  return Number.isNaN(v) ? 0 : v;
}
function text(e: Event): string {
  return (e.target as HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement).value;
}

export function DeploymentWizard() {
  useTitle('New deployment');
  const { api, notify } = useApp();
  const location = useLocation();
  const releases = useAsync(() => api.releases(), [api]);
  // The group picker offers the first kGroupChoices groups; a group page links here with
  // ?group=, which works for any group.
  const groups = useAsync(() => api.groups(null, kGroupChoices), [api]);
  const [step, setStep] = useState(0);
  const query = new URLSearchParams(location.search);
  const [releaseName, setReleaseName] = useState(query.get('release') ?? '');
  const [target, setTarget] = useState<TargetForm>({ group: query.get('group') ?? '', hardware_id: '', tags: '', image_version: '', devices: '', attributes: '' });
  const [rollout, setRollout] = useState<RolloutForm>(defaultRollout);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, run, error] = useAction();

  const release: Release | undefined = releases.data?.find((r) => r.name === releaseName);
  // A release built for one hardware id targets that hardware by default.
  useEffect(() => {
    if (release && !target.hardware_id && release.hardware_ids.length === 1) {
      setTarget((t) => ({ ...t, hardware_id: release.hardware_ids[0] ?? '' }));
    }
  }, [release?.name]);

  const selector = buildSelector(target);
  // The listed groups, plus the one from ?group= when it is not among them.
  const groupChoices: Array<{ name: string; members: number | null }> = (groups.data?.groups ?? []).map((g) => ({ name: g.name, members: g.members }));
  if (target.group && !groupChoices.some((g) => g.name === target.group)) groupChoices.unshift({ name: target.group, members: null });
  const check = (s: number): string | null => {
    if (s === 0) return release ? null : 'Choose the release to deploy.';
    if (s === 1) return selector.error;
    if (s === 2) return validateRollout(rollout);
    return null;
  };
  const next = () => {
    const p = check(step);
    setProblem(p);
    if (!p) setStep(step + 1);
  };
  const create = async () => {
    if (!release || selector.error) return;
    const created = await run(() => api.createDeployment(buildDeployment(release.name, selector.selector, rollout)));
    if (created) {
      notify(`Deployment ${created.id} started.`);
      navigate(deploymentPath(created.id));
    }
  };
  const setPhase = (i: number, patch: Partial<RolloutForm['phases'][number]>) =>
    setRollout((r) => ({ ...r, phases: r.phases.map((p, j) => (j === i ? { ...p, ...patch } : p)) }));

  return (
    <>
      <PageHeader title="New deployment" subtitle="Roll a release out in phases; it pauses itself when too many devices fail." />
      <ol class="steps" aria-label="Wizard steps">
        {kSteps.map((s, i) => (
          <li key={s} class={i === step ? 'current' : i < step ? 'done' : ''} aria-current={i === step ? 'step' : undefined}>
            <span class="step-num" aria-hidden="true">{i + 1}</span> {s}
          </li>
        ))}
      </ol>
      <ErrorNotice error={releases.error} prefix="Could not load releases." />
      {problem ? (
        <div class="notice notice-error" role="alert">
          {problem}
        </div>
      ) : null}
      <ErrorNotice error={error} prefix="The deployment was not created." />

      <form
        class="wizard"
        onSubmit={(e) => {
          e.preventDefault();
          if (step < kSteps.length - 1) next();
          else void create();
        }}
      >
        {step === 0 ? (
          <Card title="Which release?">
            {releases.loading && !releases.data ? <Loading /> : null}
            {releases.data && releases.data.length === 0 ? <Empty>No release exists yet.</Empty> : null}
            <fieldset class="choices">
              <legend class="visually-hidden">Release</legend>
              {(releases.data ?? []).map((r) => (
                <label key={r.name} class={`choice ${r.name === releaseName ? 'selected' : ''}`}>
                  <input type="radio" name="release" value={r.name} checked={r.name === releaseName} onChange={() => setReleaseName(r.name)} />
                  <span>
                    <strong>{r.name}</strong>
                    <span class="muted small">
                      {' '}
                      version {r.version} · {r.hardware_ids.join(', ')} · {formatBytes(r.length)}
                    </span>
                  </span>
                </label>
              ))}
            </fieldset>
          </Card>
        ) : null}

        {step === 1 ? (
          <Card title="Which devices?">
            <p class="muted">A device is targeted when it matches every criterion you fill in. Only accepted devices are updated.</p>
            <ErrorNotice error={groups.error} prefix="Could not load groups." />
            <div class="form-grid">
              <div class="field">
                <label for="t-group">Group</label>
                <select id="t-group" value={target.group} onChange={(e) => setTarget({ ...target, group: text(e) })}>
                  <option value="">No group</option>
                  {groupChoices.map((g) => (
                    <option key={g.name} value={g.name}>
                      {g.members === null ? g.name : `${g.name} (${formatCount(g.members)} device${g.members === 1 ? '' : 's'})`}
                    </option>
                  ))}
                </select>
              </div>
              <div class="field">
                <label for="t-hw">Hardware id</label>
                {release && release.hardware_ids.length > 0 ? (
                  <select id="t-hw" value={target.hardware_id} onChange={(e) => setTarget({ ...target, hardware_id: text(e) })}>
                    <option value="">Any the release supports</option>
                    {release.hardware_ids.map((h) => (
                      <option key={h} value={h}>
                        {h}
                      </option>
                    ))}
                  </select>
                ) : (
                  <input id="t-hw" value={target.hardware_id} onInput={(e) => setTarget({ ...target, hardware_id: text(e) })} />
                )}
              </div>
              <div class="field">
                <label for="t-tags">Tags</label>
                <input id="t-tags" value={target.tags} placeholder="comma separated" onInput={(e) => setTarget({ ...target, tags: text(e) })} />
              </div>
              <div class="field">
                <label for="t-version">Currently on version</label>
                <input id="t-version" value={target.image_version} placeholder="any" onInput={(e) => setTarget({ ...target, image_version: text(e) })} />
              </div>
              <div class="field field-wide">
                <label for="t-devices">Device ids</label>
                <textarea id="t-devices" rows={2} value={target.devices} placeholder="optional; comma, space or newline separated" onInput={(e) => setTarget({ ...target, devices: text(e) })} />
              </div>
              <div class="field field-wide">
                <label for="t-attrs">Attributes</label>
                <textarea id="t-attrs" rows={2} value={target.attributes} placeholder="optional; one key=value per line" onInput={(e) => setTarget({ ...target, attributes: text(e) })} />
              </div>
            </div>
          </Card>
        ) : null}

        {step === 2 ? (
          <Card title="How fast?">
            <div class="field">
              <label for="preset">Start from a plan</label>
              <select
                id="preset"
                value=""
                onChange={(e) => {
                  const preset = kPresets[text(e)];
                  if (preset) setRollout({ ...rollout, phases: preset.phases.map((p) => ({ ...p })) });
                }}
              >
                <option value="">Choose a plan…</option>
                {Object.entries(kPresets).map(([k, p]) => (
                  <option key={k} value={k}>
                    {p.label}
                  </option>
                ))}
              </select>
            </div>
            <table class="table phases-table">
              <caption>Phases: each reaches a larger share of the targeted devices, then waits before the next.</caption>
              <thead>
                <tr>
                  <th scope="col">Phase</th>
                  <th scope="col">Share of devices (%)</th>
                  <th scope="col">Wait after (minutes)</th>
                  <th scope="col"><span class="visually-hidden">Remove</span></th>
                </tr>
              </thead>
              <tbody>
                {rollout.phases.map((p, i) => (
                  <tr key={i}>
                    <th scope="row">{i + 1}</th>
                    <td>
                      <input type="number" min={1} max={100} step="any" aria-label={`Phase ${i + 1} share in percent`} value={p.percent} onInput={(e) => setPhase(i, { percent: num(e) })} />
                    </td>
                    <td>
                      <input type="number" min={0} step={1} aria-label={`Phase ${i + 1} wait in minutes`} value={p.wait_minutes} onInput={(e) => setPhase(i, { wait_minutes: num(e) })} />
                    </td>
                    <td>
                      <Button variant="ghost" disabled={rollout.phases.length === 1} aria-label={`Remove phase ${i + 1}`} onClick={() => setRollout({ ...rollout, phases: rollout.phases.filter((_, j) => j !== i) })}>
                        Remove
                      </Button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Button variant="ghost" onClick={() => setRollout({ ...rollout, phases: [...rollout.phases, { percent: 100, wait_minutes: 0 }] })}>
              + Add phase
            </Button>
            <div class="form-grid">
              <div class="field">
                <label for="r-threshold">Pause when failures exceed (%)</label>
                <input id="r-threshold" type="number" min={0} max={100} step="any" value={rollout.failure_threshold_percent} onInput={(e) => setRollout({ ...rollout, failure_threshold_percent: num(e) })} />
              </div>
              <div class="field">
                <label for="r-min">…once at least this many devices finished</label>
                <input id="r-min" type="number" min={1} step={1} value={rollout.min_devices_for_threshold} onInput={(e) => setRollout({ ...rollout, min_devices_for_threshold: num(e) })} />
              </div>
              <div class="field">
                <label for="r-deadline">Phase deadline (minutes)</label>
                <input id="r-deadline" type="number" min={1} step={1} value={rollout.phase_deadline_minutes} onInput={(e) => setRollout({ ...rollout, phase_deadline_minutes: num(e) })} />
              </div>
            </div>
            <fieldset class="window">
              <legend>Maintenance window</legend>
              <label class="checkbox">
                <input type="checkbox" checked={rollout.window_enabled} onChange={(e) => setRollout({ ...rollout, window_enabled: (e.target as HTMLInputElement).checked })} />
                Install only inside a daily window (UTC)
              </label>
              {rollout.window_enabled ? (
                <div class="form-grid">
                  <div class="field">
                    <label for="w-start">From (UTC)</label>
                    <input id="w-start" type="time" value={rollout.window_start} onInput={(e) => setRollout({ ...rollout, window_start: text(e) })} />
                  </div>
                  <div class="field">
                    <label for="w-end">Until (UTC)</label>
                    <input id="w-end" type="time" value={rollout.window_end} onInput={(e) => setRollout({ ...rollout, window_end: text(e) })} />
                  </div>
                </div>
              ) : null}
            </fieldset>
          </Card>
        ) : null}

        {step === 3 && release ? (
          <Card title="Review">
            <DefinitionList
              items={[
                ['Release', <><Mono>{release.name}</Mono> (version {release.version})</>],
                [
                  'Target',
                  <ul class="plain">
                    {selectorEntries(selector.selector).map((e) => (
                      <li key={e.key}>
                        {e.label}: {e.text}
                      </li>
                    ))}
                  </ul>,
                ],
                [
                  'Phases',
                  <ol class="plain">
                    {rollout.phases.map((p, i) => (
                      <li key={i}>
                        {p.percent} % of devices, then wait {formatDuration(Math.round(p.wait_minutes * 60))}
                      </li>
                    ))}
                  </ol>,
                ],
                ['Safety', `pause when more than ${rollout.failure_threshold_percent} % fail (after ${rollout.min_devices_for_threshold} device${rollout.min_devices_for_threshold === 1 ? '' : 's'}); phase deadline ${formatDuration(Math.round(rollout.phase_deadline_minutes * 60))}`],
                ['Window', rollout.window_enabled ? `${rollout.window_start}–${rollout.window_end} UTC` : 'any time'],
              ]}
            />
          </Card>
        ) : null}

        <div class="wizard-nav">
          <Button variant="ghost" onClick={() => (step === 0 ? navigate('/deployments') : (setProblem(null), setStep(step - 1)))}>
            {step === 0 ? 'Cancel' : '← Back'}
          </Button>
          {step < kSteps.length - 1 ? (
            <Button type="submit" variant="primary">
              Next →
            </Button>
          ) : (
            <Button type="submit" variant="primary" busy={busy} mutates>
              Start deployment
            </Button>
          )}
        </div>
      </form>
    </>
  );
}
