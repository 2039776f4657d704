import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './style.css';
import { whenUnauthorized } from './api';
import { getToken, setToken, signInConfig, signInRedirect, signOut, startAuth } from './auth';
import { navigate, onLink, useLocation } from './router';
import { RulesScreen } from './rules';
import { RuleEditor } from './editor';
import { SmtpScreen } from './smtp';
import { SlackScreen } from './slack';
import { DeliveriesScreen } from './deliveries';
import { DeadLettersScreen } from './deadletters';
import { DirectoryScreen } from './directory';
import { Field } from './ui';

const NAV = [
  { href: '/rules', label: 'Notification Rules', section: 'Administration > Settings' },
  { href: '/integrations/smtp', label: 'SMTP', section: 'Integrations > Notifications' },
  { href: '/integrations/slack', label: 'Slack', section: 'Integrations > Notifications' },
  { href: '/deliveries', label: 'Deliveries', section: 'Activity' },
  { href: '/dead-letters', label: 'Dead letters', section: 'Activity' },
  { href: '/directory', label: 'Directory', section: 'Administration' },
];

function SignIn(props: { onSignedIn: () => void; refused: boolean; failure: string | null }) {
  const [token, setTok] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const cfg = signInConfig();
  if (cfg.signIn === 'oidc') {
    return (
      <main class="signin">
        <h1>argo-notify</h1>
        {props.refused && <p class="error" role="alert">The service refused your session (401): sign in again.</p>}
        {(props.failure || error) && <p class="error" role="alert">{props.failure || error}</p>}
        <p>Sign in with your organization's account at <strong>{new URL(cfg.issuer).host}</strong>.</p>
        <button
          type="button"
          class="primary"
          disabled={busy}
          onClick={() => {
            setBusy(true);
            signInRedirect(location.pathname + location.search).catch((e) => {
              setBusy(false);
              setError(`Sign-in could not start: ${e instanceof Error ? e.message : String(e)}`);
            });
          }}
        >
          SIGN IN
        </button>
      </main>
    );
  }
  return (
    <main class="signin">
      <h1>argo-notify</h1>
      {props.refused && <p class="error" role="alert">The service refused that token (401): sign in again.</p>}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!token.trim()) return;
          setToken(token);
          props.onSignedIn();
        }}
      >
        <p>Sign in with the admin token that <code>make run</code> prints, or click the sign-in link it prints.</p>
        <Field label="Admin token" type="password" value={token} onInput={setTok} autocomplete="current-password" required />
        <button type="submit" class="primary">SIGN IN</button>
      </form>
    </main>
  );
}

function Screen(props: { path: string }) {
  const [pathname, query] = props.path.split('?');
  const params = new URLSearchParams(query ?? '');
  const edit = /^\/rules\/([^/]+)\/edit$/.exec(pathname);
  if (pathname === '/rules/new') return <RuleEditor />;
  if (edit) return <RuleEditor id={decodeURIComponent(edit[1])} />;
  switch (pathname) {
    case '/integrations/smtp':
      return <SmtpScreen />;
    case '/integrations/slack':
      return <SlackScreen />;
    case '/deliveries':
      return <DeliveriesScreen eventId={params.get('eventId') ?? ''} />;
    case '/dead-letters':
      return <DeadLettersScreen />;
    case '/directory':
      return <DirectoryScreen />;
    default:
      return <RulesScreen />;
  }
}

function App(props: { failure: string | null }) {
  const [signedIn, setSignedIn] = useState(!!getToken());
  const [refused, setRefused] = useState(false);
  const path = useLocation();
  useEffect(
    () =>
      whenUnauthorized(() => {
        setSignedIn(false);
        setRefused(true);
      }),
    [],
  );
  if (!signedIn) return <SignIn refused={refused} failure={props.failure} onSignedIn={() => { setRefused(false); setSignedIn(true); }} />;
  const current = NAV.find((n) => path.startsWith(n.href)) ?? NAV[0];
  return (
    <div class="layout">
      <header>
        <a class="brand" href="/rules" onClick={onLink}>argo-notify</a>
        <nav aria-label="Console">
          <ul>
            {NAV.map((n) => (
              <li key={n.href}>
                <a href={n.href} onClick={onLink} aria-current={n === current ? 'page' : undefined}>{n.label}</a>
              </li>
            ))}
          </ul>
        </nav>
        <button
          type="button"
          onClick={() => {
            void signOut().then(() => {
              setRefused(false);
              setSignedIn(false);
              navigate('/');
            });
          }}
        >
          SIGN OUT
        </button>
      </header>
      <main>
        <p class="crumb">{current.section}</p>
        <Screen path={path} />
      </main>
    </div>
  );
}

const root = document.getElementById('app')!;
startAuth().then(
  (failure) => render(<App failure={failure} />, root),
  (e) => render(<main class="signin"><h1>argo-notify</h1><p class="error" role="alert">The console could not start: {e instanceof Error ? e.message : String(e)}</p></main>, root),
);
