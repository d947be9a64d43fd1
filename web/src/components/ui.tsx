// Small building blocks used by every page, so they look and behave the same everywhere.
import type { ButtonHTMLAttributes, ComponentChildren } from 'preact';
import type { ApiError } from '../api/client';
import { useApp } from '../app/context';
import { onLinkClick } from '../app/router';
import type { Permission } from '../auth/roles';
import { humanize } from '../util/format';

export function Link(props: { href: string; class?: string; children: ComponentChildren; 'aria-current'?: 'page' | undefined }) {
  return (
    <a
      href={props.href}
      class={props.class}
      aria-current={props['aria-current']}
      onClick={(e) => onLinkClick(e as unknown as MouseEvent, props.href)}
    >
      {props.children}
    </a>
  );
}

type ButtonProps = ButtonHTMLAttributes<HTMLButtonElement> & {
  variant?: 'primary' | 'secondary' | 'danger' | 'ghost';
  busy?: boolean;
  // Marks buttons that change server state: role tests assert a viewer sees none of them.
  mutates?: boolean;
};

export function Button({ variant = 'secondary', busy, mutates, children, disabled, type, ...rest }: ButtonProps) {
  return (
    <button
      type={(type as 'button' | 'submit' | undefined) ?? 'button'}
      class={`btn btn-${variant}`}
      disabled={Boolean(disabled) || busy}
      aria-busy={busy ? 'true' : undefined}
      data-mutates={mutates ? 'true' : undefined}
      {...rest}
    >
      {children}
    </button>
  );
}

// Renders its children only for roles holding the permission; the server enforces regardless.
export function Can(props: { permission: Permission; children: ComponentChildren }) {
  const { can } = useApp();
  return can(props.permission) ? <>{props.children}</> : null;
}

const kTone: Record<string, string> = {
  accepted: 'ok',
  succeeded: 'ok',
  completed: 'ok',
  active: 'info',
  downloading: 'info',
  installing: 'info',
  rebooting: 'info',
  pending: 'neutral',
  // Server-built delta states (GET /api/v1/deltas).
  queued: 'info',
  ready: 'ok',
  paused: 'warn',
  'not seen': 'warn',
  rejected: 'bad',
  decommissioned: 'neutral',
  cancelled: 'neutral',
  failed: 'bad',
  'rolled back': 'bad',
  rolled_back: 'bad',
  'rolled-back': 'bad',
  success: 'ok',
  ok: 'ok',
  denied: 'bad',
  failure: 'bad',
  expired: 'bad',
  expiring: 'warn',
  valid: 'ok',
};

export function Badge(props: { value: string; label?: string }) {
  const tone = kTone[props.value] ?? 'neutral';
  return <span class={`badge badge-${tone}`}>{props.label ?? humanize(props.value)}</span>;
}

export function ErrorNotice(props: { error: ApiError | null; prefix?: string }) {
  if (!props.error) return null;
  return (
    <div class="notice notice-error" role="alert">
      {props.prefix ? <strong>{props.prefix} </strong> : null}
      {props.error.message}
      {props.error.code && !props.error.code.startsWith('http_') ? (
        <span class="notice-code"> ({props.error.code})</span>
      ) : null}
    </div>
  );
}

export function Notice(props: { kind?: 'info' | 'warn' | 'success'; children: ComponentChildren }) {
  return (
    <div class={`notice notice-${props.kind ?? 'info'}`} role="status">
      {props.children}
    </div>
  );
}

export function Loading(props: { label?: string }) {
  return (
    <p class="loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      {props.label ?? 'Loading…'}
    </p>
  );
}

export function Empty(props: { children: ComponentChildren }) {
  return <p class="empty">{props.children}</p>;
}

export function PageHeader(props: { title: string; subtitle?: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <header class="page-header">
      <div>
        <h1 tabIndex={-1} id="page-title">
          {props.title}
        </h1>
        {props.subtitle ? <p class="page-subtitle">{props.subtitle}</p> : null}
      </div>
      {props.actions ? <div class="page-actions">{props.actions}</div> : null}
    </header>
  );
}

export function Card(props: { title?: string; children: ComponentChildren; class?: string; actions?: ComponentChildren }) {
  return (
    <section class={`card ${props.class ?? ''}`} aria-label={props.title}>
      {props.title || props.actions ? (
        <div class="card-head">
          {props.title ? <h2>{props.title}</h2> : <span />}
          {props.actions}
        </div>
      ) : null}
      {props.children}
    </section>
  );
}

export function Stat(props: { label: string; value: ComponentChildren; tone?: string }) {
  return (
    <div class={`stat ${props.tone ? `stat-${props.tone}` : ''}`}>
      <div class="stat-value">{props.value}</div>
      <div class="stat-label">{props.label}</div>
    </div>
  );
}

export function DefinitionList(props: { items: Array<[string, ComponentChildren]> }) {
  return (
    <dl class="deflist">
      {props.items.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

export function Mono(props: { children: ComponentChildren; title?: string }) {
  return (
    <code class="mono" title={props.title}>
      {props.children}
    </code>
  );
}
