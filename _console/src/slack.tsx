// Integrations > Notifications > Slack: ENTER OAUTH TOKEN, TEST, CONNECT;
// once connected, the workspace and bot, DISCONNECT. The scopes the app
// needs and a manifest to paste when creating it.
import { useEffect, useState } from 'preact/hooks';
import { api, message, must, type Schemas } from './api';
import { Confirm, ErrorBox, Field, Notice } from './ui';

export const SCOPES = ['channels:read', 'chat:write', 'users:read', 'users:read:email'];

export const MANIFEST = JSON.stringify(
  {
    display_information: { name: 'argo-notify', description: 'Argo notifications' },
    features: { bot_user: { display_name: 'argo-notify', always_online: false } },
    oauth_config: { scopes: { bot: SCOPES } },
    settings: { org_deploy_enabled: false, socket_mode_enabled: false, token_rotation_enabled: false },
  },
  null,
  2,
);

export function SlackScreen() {
  const [ws, setWs] = useState<Schemas['SlackWorkspace'] | null>(null);
  const [entering, setEntering] = useState(false);
  const [token, setToken] = useState('');
  const [test, setTest] = useState<Schemas['SlackTestResult'] | null>(null);
  const [error, setError] = useState('');
  const [status, setStatus] = useState('');
  const [confirm, setConfirm] = useState(false);
  const [reload, setReload] = useState(0);
  useEffect(() => {
    api.GET('/v1/integrations/slack').then((r) => setWs(must(r)), (e) => setError(message(e)));
  }, [reload]);
  async function run(f: () => Promise<void>) {
    setError('');
    try { await f(); } catch (e) { setError(message(e)); }
  }
  return (
    <section aria-labelledby="slack-h">
      <h1 id="slack-h">Slack</h1>
      <ErrorBox error={error} />
      <Notice text={status} />
      {ws?.connected ? (
        <section aria-labelledby="slack-conn">
          <h2 id="slack-conn">Connected</h2>
          <dl>
            <dt>Workspace</dt><dd>{ws.team} {ws.teamUrl && <small>({ws.teamUrl})</small>}</dd>
            <dt>Bot</dt><dd>{ws.botName}</dd>
          </dl>
          <button type="button" class="danger" onClick={() => setConfirm(true)}>DISCONNECT</button>
        </section>
      ) : ws ? (
        <section aria-labelledby="slack-connect">
          <h2 id="slack-connect">Connect a workspace</h2>
          {!entering ? (
            <button type="button" class="primary" onClick={() => setEntering(true)}>ENTER OAUTH TOKEN</button>
          ) : (
            <form onSubmit={(e) => { e.preventDefault(); run(async () => {
              const w = must(await api.POST('/v1/integrations/slack', { body: { token: token.trim() } }));
              setStatus(`Connected to ${w.team}`); setToken(''); setEntering(false); setTest(null); setReload((n) => n + 1);
            }); }}>
              <Field label="Bot User OAuth Token" type="password" value={token} onInput={setToken} hint="xoxb-…, from the app's OAuth & Permissions page." autocomplete="off" />
              <div class="actions">
                <button type="button" onClick={() => run(async () => setTest(must(await api.POST('/v1/integrations/slack/test', { body: { token: token.trim() } }))))}>TEST</button>
                <button type="submit" class="primary">CONNECT</button>
              </div>
            </form>
          )}
          {test && (
            <p role="status" class={test.ok ? 'ok' : 'bad'}>
              {test.ok ? `Test passed: workspace ${test.team}, bot ${test.botName}` : `Test failed: ${test.error}`}
            </p>
          )}
        </section>
      ) : null}
      <section aria-labelledby="slack-app">
        <h2 id="slack-app">The Slack app</h2>
        <p>The app needs these bot token scopes:</p>
        <ul aria-label="Scopes">{SCOPES.map((s) => <li key={s}><code>{s}</code></li>)}</ul>
        <p>Create it in one paste: in Slack, <em>Create New App → From an app manifest</em>, then paste:</p>
        <pre tabIndex={0} aria-label="Slack app manifest">{MANIFEST}</pre>
        <button type="button" onClick={() => navigator.clipboard.writeText(MANIFEST).then(() => setStatus('Manifest copied'), () => setStatus('Copy failed: select the manifest and copy it'))}>COPY MANIFEST</button>
      </section>
      {confirm && ws && (
        <Confirm title={`Disconnect ${ws.team}?`} text="Slack notifications stop at once; rules keep their channels." action="DISCONNECT"
          onCancel={() => setConfirm(false)}
          onConfirm={() => { setConfirm(false); run(async () => {
            must(await api.DELETE('/v1/integrations/slack'));
            setStatus('Slack disconnected'); setReload((n) => n + 1);
          }); }} />
      )}
    </section>
  );
}
