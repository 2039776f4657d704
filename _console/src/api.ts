// The console's only way to the service: the public REST API, typed from
// the OpenAPI document (src/openapi.d.ts is generated from
// pkg/api/testdata/openapi.json by `npm run gen`), so an API change that
// breaks the console breaks its build.
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './openapi';
import { forget, getToken } from './auth';

export type Schemas = components['schemas'];
export type Rule = Schemas['Rule'];
export type User = Schemas['User'];
export type Group = Schemas['Group'];
export type Problem = Schemas['Problem'];
export type Recipients = Schemas['Recipients'];

let onUnauthorized: () => void = () => {};
export function whenUnauthorized(f: () => void) {
  onUnauthorized = f;
}

const auth: Middleware = {
  onRequest({ request }) {
    const t = getToken();
    if (t) request.headers.set('Authorization', `Bearer ${t}`);
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401) {
      void forget().then(() => onUnauthorized());
    }
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: location.origin });
api.use(auth);

/** ApiError carries the problem the API answered with. */
export class ApiError extends Error {
  constructor(public problem: Problem, public status: number) {
    super(problem.detail || problem.title);
  }
  /** fieldErrors maps each field the API named to its message. */
  fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const e of this.problem.errors ?? []) out[e.field] = e.message;
    return out;
  }
}

/** must returns data or throws an ApiError. */
export function must<T>(r: { data?: T; error?: unknown; response: Response }): T {
  if (r.error !== undefined || !r.response.ok) {
    const p = (r.error ?? {}) as Problem;
    throw new ApiError(
      { type: p.type ?? '', title: p.title ?? r.response.statusText, status: r.response.status, code: p.code ?? 'internal', detail: p.detail, errors: p.errors },
      r.response.status,
    );
  }
  return r.data as T;
}

export function etag(version: number | undefined): string {
  return `"${version ?? 0}"`;
}

export function message(e: unknown): string {
  if (e instanceof ApiError) {
    const fields = (e.problem.errors ?? []).map((f) => `${f.field}: ${f.message}`).join('; ');
    return [e.problem.detail || e.problem.title, fields].filter(Boolean).join(' — ');
  }
  return e instanceof Error ? e.message : String(e);
}
