// The admin's credential, and how the console gets it: /console-config.json
// (served by pkg/console from the service's configuration) says which way.
//
// - Token sign-in (local mode): the admin token, handed over in the URL
//   fragment of the link `make run` prints (#token=…; fragments never
//   reach a server or a log), or pasted into the sign-in form.
// - OpenID Connect (on AWS): authorization code with PKCE against the
//   configured issuer (the stack's Cognito pool or your own provider), with
//   oidc-client-ts, loaded only then. The access token is the bearer token:
//   the HTTP API's JWT authorizer accepts it (Cognito: its client_id claim is
//   the app client, the authorizer's audience).
//
// Either way the credential lives in sessionStorage (this tab only, gone
// when it closes), never in localStorage: oidc-client-ts keeps both its
// user and its sign-in state (the PKCE verifier) there too.
import type { UserManager } from 'oidc-client-ts';

const KEY = 'argo-notify.token';

export type ConsoleConfig =
  | { signIn: 'token' }
  | { signIn: 'oidc'; issuer: string; clientId: string; scopes: string; logoutUrl?: string };

let config: ConsoleConfig = { signIn: 'token' };
let manager: UserManager | null = null;
let accessToken: string | null = null;

/** signInMode is how this console signs in, known once startAuth has run. */
export function signInConfig(): ConsoleConfig {
  return config;
}

/** redirectUri is where the issuer sends the browser back: the console's root (the stack registers it). */
const redirectUri = () => `${location.origin}/`;

/**
 * startAuth reads /console-config.json and takes over a credential handed
 * to this page: a #token=… fragment, or an OIDC authorization response
 * (?code=…&state=…) that it exchanges, with the PKCE verifier, for tokens.
 * It returns an error message for the sign-in screen, if any.
 */
export async function startAuth(): Promise<string | null> {
  const r = await fetch('/console-config.json', { cache: 'no-cache' });
  if (!r.ok) throw new Error(`/console-config.json: ${r.status}`);
  config = (await r.json()) as ConsoleConfig;
  if (config.signIn !== 'oidc') {
    takeTokenFromFragment();
    return null;
  }
  const { UserManager, WebStorageStateStore } = await import('oidc-client-ts');
  const store = new WebStorageStateStore({ store: sessionStorage, prefix: 'argo-notify.oidc.' });
  manager = new UserManager({
    authority: config.issuer,
    client_id: config.clientId,
    redirect_uri: redirectUri(),
    post_logout_redirect_uri: redirectUri(),
    response_type: 'code', // with PKCE (S256): oidc-client-ts's default for code
    scope: config.scopes,
    userStore: store,
    stateStore: store,
    automaticSilentRenew: false, // no refresh in the background: an expired session signs in again
    loadUserInfo: false,
  });
  const q = new URLSearchParams(location.search);
  if (q.has('state') && (q.has('code') || q.has('error'))) {
    try {
      const user = await manager.signinCallback();
      const back = typeof user?.state === 'string' && user.state.startsWith('/') ? user.state : '/rules';
      history.replaceState(null, '', back);
    } catch (e) {
      history.replaceState(null, '', '/');
      return `Sign-in failed: ${e instanceof Error ? e.message : String(e)}`;
    }
  } else if (q.has('state')) {
    // Back from the issuer's end-session endpoint: consume its state.
    await manager.signoutCallback().catch(() => undefined);
    history.replaceState(null, '', '/');
  }
  const user = await manager.getUser();
  if (user && !user.expired) accessToken = user.access_token;
  else if (user) await manager.removeUser();
  await manager.clearStaleState();
  return null;
}

/** takeTokenFromFragment moves a #token=… fragment into sessionStorage and removes it from the address bar. */
function takeTokenFromFragment(): void {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!m) return;
  sessionStorage.setItem(KEY, decodeURIComponent(m[1]));
  history.replaceState(history.state, '', location.pathname + location.search);
}

export function getToken(): string | null {
  return config.signIn === 'oidc' ? accessToken : sessionStorage.getItem(KEY);
}

/** setToken signs in with a pasted token (token sign-in). */
export function setToken(t: string): void {
  sessionStorage.setItem(KEY, t.trim());
}

/** signInRedirect starts the authorization code flow; the browser comes back to path. */
export async function signInRedirect(path: string): Promise<void> {
  if (!manager) throw new Error('OpenID Connect sign-in is not configured');
  await manager.signinRedirect({ state: path.startsWith('/') && path !== '/' ? path : '/rules' });
}

/** forget drops the credential in this tab (after a 401, or before signing out at the issuer). */
export async function forget(): Promise<void> {
  accessToken = null;
  sessionStorage.removeItem(KEY);
  if (manager) {
    await manager.removeUser();
    await manager.clearStaleState();
  }
}

/**
 * signOut forgets the credential and, with OIDC, ends the session at the
 * issuer too: its logout URL (Cognito's /logout) or the end_session_endpoint
 * of its discovery document; the issuer sends the browser back to the
 * console. It resolves without leaving only in token mode or when the
 * issuer has no logout endpoint.
 */
export async function signOut(): Promise<void> {
  const user = manager ? await manager.getUser() : null;
  await forget();
  if (config.signIn !== 'oidc' || !manager) return;
  if (config.logoutUrl) {
    const u = new URL(config.logoutUrl);
    u.searchParams.set('client_id', config.clientId);
    u.searchParams.set('logout_uri', redirectUri());
    location.assign(u.toString());
    return;
  }
  const end = await manager.metadataService.getEndSessionEndpoint().catch(() => undefined);
  if (end) {
    await manager.signoutRedirect({ id_token_hint: user?.id_token, post_logout_redirect_uri: redirectUri() });
  }
}
