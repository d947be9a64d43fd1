// The one place the console talks HTTP. Every call goes to the same origin with the session
// cookie (HttpOnly, so script never sees it) and, on every request that can change something,
// the CSRF token the server returned at sign-in, kept in memory only.

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

// Codes the console treats specially.
export const kUnauthenticated = 'unauthenticated';
export const kTotpRequired = 'totp_required';
export const kInvalidCredentials = 'invalid_credentials';
export const kPasswordChangeRequired = 'password_change_required';
export const kNetwork = 'network';
export const kTimeout = 'timeout';

const kFallbackMessages: Record<number, string> = {
  400: 'The server could not accept this request.',
  401: 'You are not signed in.',
  403: 'Your role does not allow this action.',
  404: 'Not found.',
  409: 'This conflicts with the current state; reload and try again.',
  413: 'The request is too large.',
  429: 'Too many attempts. Wait a minute and try again.',
};

// Reads an error body in the contract's shape {"error":{"code","message"}}, also accepting the
// flat {"code","message"} spelling; anything else (an HTML page from a proxy, an empty body)
// still yields a usable code and message.
export function parseErrorBody(status: number, text: string): ApiError {
  let code = `http_${status}`;
  let message = kFallbackMessages[status] ?? (status >= 500 ? 'The server had a problem; try again shortly.' : `Request failed (HTTP ${status}).`);
  try {
    const body: unknown = JSON.parse(text);
    if (body && typeof body === 'object') {
      const inner = (body as { error?: unknown }).error;
      const source = (inner && typeof inner === 'object' ? inner : body) as {
        code?: unknown;
        message?: unknown;
      };
      if (typeof source.code === 'string' && source.code) code = source.code;
      if (typeof source.message === 'string' && source.message) message = source.message;
    }
  } catch {
    // Not JSON: keep the fallback; never show a raw proxy page to the operator.
  }
  return new ApiError(status, code, message);
}

// A 401 means the session is gone, except when it answers a credential check inside a signed-in
// session (a wrong current password when changing it): then the session is still good.
export function isSessionLost(error: ApiError): boolean {
  return error.status === 401 && error.code !== kInvalidCredentials && error.code !== kTotpRequired;
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined | null>;
  // Sign-in and the start-up session probe expect 401 as an answer, not as a lost session.
  expectUnauthenticated?: boolean;
}

export interface ClientOptions {
  fetch?: typeof fetch;
  baseUrl?: string;
  timeoutMs?: number;
  // Called when an authenticated call answers 401: the session expired or was revoked.
  onUnauthenticated?: (error: ApiError) => void;
  // Called on 403 password_change_required: the session was opened with a one-time password.
  onPasswordChangeRequired?: (error: ApiError) => void;
}

export function buildQuery(query: RequestOptions['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    params.append(key, String(value));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

export class ApiClient {
  private csrfToken: string | null = null;
  private readonly fetchFn: typeof fetch;
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly onUnauthenticated: ((error: ApiError) => void) | undefined;
  private readonly onPasswordChangeRequired: ((error: ApiError) => void) | undefined;

  constructor(options: ClientOptions = {}) {
    // Bound so that window.fetch is not called with the client as `this`.
    this.fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.baseUrl = options.baseUrl ?? '';
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.onUnauthenticated = options.onUnauthenticated;
    this.onPasswordChangeRequired = options.onPasswordChangeRequired;
  }

  setCsrfToken(token: string | null): void {
    this.csrfToken = token;
  }

  hasCsrfToken(): boolean {
    return this.csrfToken !== null;
  }

  async request<T>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    if (method !== 'GET' && this.csrfToken !== null) headers['X-CSRF-Token'] = this.csrfToken;

    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    let response: Response;
    try {
      response = await this.fetchFn(this.baseUrl + path + buildQuery(options.query), {
        method,
        headers,
        body,
        credentials: 'same-origin',
        cache: 'no-store',
        redirect: 'error',
        signal: controller.signal,
      });
    } catch (e) {
      if (controller.signal.aborted) {
        throw new ApiError(0, kTimeout, 'The server did not answer in time; try again.');
      }
      throw new ApiError(0, kNetwork, 'Cannot reach the server; check the connection and try again.');
    } finally {
      clearTimeout(timer);
    }

    if (response.status === 204) return undefined as T;
    const text = await response.text();
    if (!response.ok) {
      const error = parseErrorBody(response.status, text);
      if (isSessionLost(error) && !options.expectUnauthenticated) {
        this.csrfToken = null;
        this.onUnauthenticated?.(error);
      } else if (error.status === 403 && error.code === kPasswordChangeRequired && !options.expectUnauthenticated) {
        this.onPasswordChangeRequired?.(error);
      }
      throw error;
    }
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(response.status, 'bad_response', 'The server sent a response the console cannot read.');
    }
  }

  get<T>(path: string, query?: RequestOptions['query']): Promise<T> {
    return this.request<T>('GET', path, { query });
  }
  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, { body });
  }
  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, { body });
  }
  delete(path: string): Promise<void> {
    return this.request<void>('DELETE', path);
  }
}
