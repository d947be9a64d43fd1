// The application shell: session lifecycle (restore, sign-in, expiry, sign-out), navigation
// filtered by role, and the page for the current route.
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Api } from '../api/api';
import { ApiClient } from '../api/client';
import type { Session } from '../api/types';
import { needsNewPassword } from '../auth/password';
import { can, homeFor, navFor, type Permission } from '../auth/roles';
import { Badge, Link, Loading } from '../components/ui';
import { AccountPage } from '../pages/Account';
import { AuditPage } from '../pages/Audit';
import { DeploymentPage } from '../pages/Deployment';
import { DeploymentsPage } from '../pages/Deployments';
import { DeploymentWizard } from '../pages/DeploymentWizard';
import { DevicePage } from '../pages/Device';
import { DevicesPage } from '../pages/Devices';
import { EnrollmentsPage } from '../pages/Enrollments';
import { NotFoundPage, NotPermittedPage } from '../pages/Errors';
import { GroupPage } from '../pages/Group';
import { GroupsPage } from '../pages/Groups';
import { OverviewPage } from '../pages/Overview';
import { ReleasePage } from '../pages/Release';
import { ReleasesPage } from '../pages/Releases';
import { SecurityPage } from '../pages/Security';
import { SignInPage } from '../pages/SignIn';
import { UsersPage } from '../pages/Users';
import { AppContext, type AppContextValue, type NoticeKind } from './context';
import { matchRoute, type Route, type RouteName } from './routes';
import { navigate, useLocation } from './router';

type State =
  | { kind: 'loading' }
  | { kind: 'signed-out'; notice?: string }
  | { kind: 'signed-in'; session: Session };

interface Toast {
  id: number;
  message: string;
  kind: NoticeKind;
}

const kExpiredNotice = 'Your session has ended. Sign in again to continue.';
const kNewPasswordNotice = 'Sign in with your one-time password to choose your own password.';
// setTimeout's longest delay (about 24.8 days); longer sessions re-check at that point.
const kMaxTimer = 2_147_483_647;

const kNeeds: Partial<Record<RouteName, Permission>> = {
  overview: 'devices.read',
  devices: 'devices.read',
  device: 'devices.read',
  groups: 'devices.read',
  group: 'devices.read',
  enrollments: 'devices.read',
  releases: 'releases.read',
  release: 'releases.read',
  deployments: 'deployments.read',
  'deployment-new': 'deployments.manage',
  deployment: 'deployments.read',
  audit: 'audit.read',
  users: 'users.manage',
};

function renderPage(route: Route) {
  switch (route.name) {
    case 'overview': return <OverviewPage />;
    case 'devices': return <DevicesPage />;
    case 'device': return <DevicePage id={route.params.id ?? ''} />;
    case 'groups': return <GroupsPage />;
    case 'group': return <GroupPage name={route.params.name ?? ''} />;
    case 'enrollments': return <EnrollmentsPage />;
    case 'releases': return <ReleasesPage />;
    case 'release': return <ReleasePage name={route.params.name ?? ''} />;
    case 'deployments': return <DeploymentsPage />;
    case 'deployment-new': return <DeploymentWizard />;
    case 'deployment': return <DeploymentPage id={route.params.id ?? ''} />;
    case 'audit': return <AuditPage />;
    case 'security': return <SecurityPage />;
    case 'users': return <UsersPage />;
    case 'account': return <AccountPage />;
    case 'not-found': return <NotFoundPage />;
  }
}

export function App() {
  const [state, setState] = useState<State>({ kind: 'loading' });
  const [toasts, setToasts] = useState<Toast[]>([]);
  const [menuOpen, setMenuOpen] = useState(false);
  const location = useLocation();

  const api = useMemo(
    () =>
      new Api(
        new ApiClient({
          // Any 401 on an authenticated call: drop back to sign-in, keeping the URL so the
          // operator returns to the same page afterwards.
          onUnauthenticated: () => setState({ kind: 'signed-out', notice: kExpiredNotice }),
          // A session still on its one-time password can do nothing else: choose one first.
          onPasswordChangeRequired: () => setState({ kind: 'signed-out', notice: kNewPasswordNotice }),
        }),
      ),
    [],
  );

  // Restore an existing session (the cookie survives a reload; the CSRF token does not).
  useEffect(() => {
    api.currentSession().then(
      (session) =>
        setState(needsNewPassword(session) ? { kind: 'signed-out', notice: kNewPasswordNotice } : { kind: 'signed-in', session }),
      () => setState({ kind: 'signed-out' }),
    );
  }, [api]);

  // At the session's expiry, ask the server; it may have been extended or it has ended.
  const expires = state.kind === 'signed-in' ? state.session.expires : null;
  useEffect(() => {
    if (!expires) return;
    const at = Date.parse(expires);
    if (Number.isNaN(at)) return;
    const timer = setTimeout(() => {
      api.currentSession().then(
        (session) => setState({ kind: 'signed-in', session }),
        () => setState({ kind: 'signed-out', notice: kExpiredNotice }),
      );
    }, Math.min(kMaxTimer, Math.max(0, at - Date.now()) + 1000));
    return () => clearTimeout(timer);
  }, [api, expires]);

  const nextToast = useRef(1);
  const notify = useCallback((message: string, kind: NoticeKind = 'success') => {
    const id = nextToast.current++;
    setToasts((t) => [...t.slice(-3), { id, message, kind }]);
    setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), kind === 'error' ? 9000 : 5000);
  }, []);

  const signOut = useCallback(() => {
    api.signOut().finally(() => {
      setState({ kind: 'signed-out', notice: 'You have signed out.' });
      navigate('/', { replace: true });
    });
  }, [api]);

  const route = matchRoute(location.pathname);

  // Move focus to the page heading on navigation, so screen readers announce the new page.
  const firstRender = useRef(true);
  useEffect(() => {
    setMenuOpen(false);
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    requestAnimationFrame(() => document.getElementById('page-title')?.focus());
  }, [location.pathname]);

  const user = state.kind === 'signed-in' ? state.session.user : null;
  useEffect(() => {
    // A role that cannot read the fleet (auditor) starts on its own home page.
    if (user && route.name === 'overview' && !can(user.role, 'devices.read')) {
      navigate(homeFor(user.role), { replace: true });
    }
  }, [user, route.name]);

  const context = useMemo<AppContextValue | null>(
    () =>
      user
        ? { api, user, can: (p: Permission) => can(user.role, p), notify, signOut }
        : null,
    [api, user, notify, signOut],
  );

  if (state.kind === 'loading') {
    return (
      <main id="main" class="boot">
        <Loading label="Opening the console…" />
      </main>
    );
  }
  if (state.kind === 'signed-out' || !context || !user) {
    return (
      <SignInPage
        api={api}
        notice={state.kind === 'signed-out' ? state.notice : undefined}
        onSignedIn={(session) => setState({ kind: 'signed-in', session })}
      />
    );
  }

  const needs = kNeeds[route.name];
  const page = needs && !context.can(needs) ? <NotPermittedPage /> : renderPage(route);
  const nav = navFor(user.role);
  const active = (path: string) =>
    path === '/' ? location.pathname === '/' : location.pathname === path || location.pathname.startsWith(`${path}/`);

  return (
    <AppContext.Provider value={context}>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <div class={`shell ${menuOpen ? 'menu-open' : ''}`}>
        <header class="topbar">
          <button
            type="button"
            class="menu-toggle"
            aria-expanded={menuOpen ? 'true' : 'false'}
            aria-controls="sidenav"
            onClick={() => setMenuOpen((o) => !o)}
          >
            <span class="visually-hidden">Menu</span>
            <svg viewBox="0 0 20 20" width="20" height="20" aria-hidden="true" focusable="false">
              <path d="M3 5h14M3 10h14M3 15h14" stroke="currentColor" stroke-width="2" fill="none" />
            </svg>
          </button>
          <Link href="/" class="brand">
            <img src="/favicon.svg" alt="" width="24" height="24" />
            <span>Aloft</span>
          </Link>
          <div class="topbar-user">
            <Link href="/account" class="user-link">
              <span class="username">{user.username}</span>
            </Link>
            <Badge value="role" label={user.role} />
            <button type="button" class="btn btn-ghost" onClick={signOut}>
              Sign out
            </button>
          </div>
        </header>
        <nav id="sidenav" class="sidenav" aria-label="Main">
          <ul>
            {nav.map((item) => (
              <li key={item.path}>
                <Link href={item.path} aria-current={active(item.path) ? 'page' : undefined}>
                  {item.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" class="content" tabIndex={-1}>
          {page}
        </main>
      </div>
      <div class="toasts" aria-live="polite" aria-atomic="false">
        {toasts.map((t) => (
          <div key={t.id} class={`toast toast-${t.kind}`} role={t.kind === 'error' ? 'alert' : 'status'}>
            {t.message}
          </div>
        ))}
      </div>
    </AppContext.Provider>
  );
}
