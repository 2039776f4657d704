// The admin's credential. In local mode it is the admin token, handed over
// in the URL fragment of the link `make run` prints (#token=…): fragments
// never reach a server or a log. It is kept in sessionStorage (this tab
// only, gone when it closes), never in localStorage.
const KEY = 'argo-notify.token';

/** takeTokenFromFragment moves a #token=… fragment into sessionStorage and removes it from the address bar. */
export function takeTokenFromFragment(): void {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!m) return;
  sessionStorage.setItem(KEY, decodeURIComponent(m[1]));
  history.replaceState(history.state, '', location.pathname + location.search);
}

export function getToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function setToken(t: string): void {
  sessionStorage.setItem(KEY, t.trim());
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
}
