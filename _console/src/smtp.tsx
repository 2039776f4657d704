// Integrations > Notifications > SMTP: the connected servers; + opens the
// form with TEST (each step's outcome) and CONNECT; a server's name opens
// it with DISCONNECT (confirmed).
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, etag, message, must, type Schemas } from './api';
import { Confirm, Dialog, ErrorBox, Field, Notice, useId } from './ui';

type Server = Schemas['SMTPServer'];
const STEP_NAMES: Record<string, string> = { dial: 'Connect', tls: 'TLS', auth: 'Authentication', send: 'Test message' };

export function SmtpScreen() {
  const [servers, setServers] = useState<Server[] | null>(null);
  const [error, setError] = useState('');
  const [status, setStatus] = useState('');
  const [form, setForm] = useState(false);
  const [shown, setShown] = useState<Server | null>(null);
  const [reload, setReload] = useState(0);
  useEffect(() => {
    api.GET('/v1/integrations/smtp').then((r) => setServers(must(r).items ?? []), (e) => setError(message(e)));
  }, [reload]);
  return (
    <section aria-labelledby="smtp-h">
      <div class="titlebar">
        <h1 id="smtp-h">SMTP</h1>
        <button type="button" class="primary round" aria-label="+ Add SMTP server" title="Add SMTP server" onClick={() => setForm(true)}>+</button>
      </div>
      <p>Email notifications go through the connected SMTP server.</p>
      <ErrorBox error={error} />
      <Notice text={status} />
      {servers && servers.length === 0 && <p>No SMTP server is connected: email is printed by the service (local mode) or sent with SES (AWS).</p>}
      {servers && servers.length > 0 && (
        <table aria-label="SMTP servers">
          <thead><tr><th scope="col">Nickname</th><th scope="col">Host</th><th scope="col">Port</th><th scope="col">TLS</th><th scope="col">Admin address</th></tr></thead>
          <tbody>
            {servers.map((s) => (
              <tr key={s.id}>
                <th scope="row"><button type="button" class="link" onClick={() => setShown(s)}>{s.nickname}</button></th>
                <td>{s.host}</td><td>{s.port}</td><td>{s.tls}</td><td>{s.adminAddress}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {form && <SmtpForm onClose={() => setForm(false)} onConnected={(s) => { setForm(false); setStatus(`${s.nickname} connected`); setReload((n) => n + 1); }} />}
      {shown && <SmtpDetails server={shown} onClose={() => setShown(null)} onDisconnected={() => { setStatus(`${shown.nickname} disconnected`); setShown(null); setReload((n) => n + 1); }} />}
    </section>
  );
}

function SmtpForm(props: { onClose: () => void; onConnected: (s: Server) => void }) {
  const [v, setV] = useState({ nickname: '', host: '', adminAddress: '', port: '587', timeout: '10', tls: 'starttls', useAuth: false, username: '', password: '', to: '' });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState('');
  const [result, setResult] = useState<Schemas['SMTPTestResult'] | null>(null);
  const [busy, setBusy] = useState('');
  const set = (k: keyof typeof v) => (x: string | boolean) => setV({ ...v, [k]: x });
  const tlsId = useId('tls');
  const authId = useId('auth');
  const body = (): Server => ({
    nickname: v.nickname.trim(), host: v.host.trim(), adminAddress: v.adminAddress.trim(),
    port: Number(v.port) || 0, timeoutSeconds: Number(v.timeout) || 0, tls: v.tls as Server['tls'],
    useAuth: v.useAuth, username: v.useAuth ? v.username : undefined, password: v.useAuth ? v.password : undefined,
  });
  const fail = (e: unknown) => {
    setErrors(e instanceof ApiError ? e.fieldErrors() : {});
    setError(message(e));
  };
  async function test() {
    setBusy('test'); setError(''); setErrors({}); setResult(null);
    try {
      setResult(must(await api.POST('/v1/integrations/smtp/test', { body: { ...body(), to: v.to.trim() || undefined } })));
    } catch (e) { fail(e); } finally { setBusy(''); }
  }
  async function connect() {
    setBusy('connect'); setError(''); setErrors({});
    try {
      props.onConnected(must(await api.POST('/v1/integrations/smtp', { body: body() })));
    } catch (e) { fail(e); } finally { setBusy(''); }
  }
  return (
    <Dialog title="Connect an SMTP server" onClose={props.onClose} wide>
      <form onSubmit={(e) => { e.preventDefault(); connect(); }} noValidate>
        <Field label="NICKNAME" value={v.nickname} onInput={set('nickname')} error={errors.nickname} required />
        <Field label="HOST NAME" value={v.host} onInput={set('host')} error={errors.host} required />
        <Field label="ADMIN ADDRESS" type="email" value={v.adminAddress} onInput={set('adminAddress')} error={errors.adminAddress} required hint="The sender of every notification." />
        <div class="row">
          <Field label="PORT" value={v.port} onInput={set('port')} error={errors.port} inputMode="numeric" />
          <Field label="TIMEOUT (seconds)" value={v.timeout} onInput={set('timeout')} error={errors.timeoutSeconds} inputMode="numeric" />
          <div class="field">
            <label for={tlsId}>TLS</label>
            <select id={tlsId} value={v.tls} onChange={(e) => set('tls')((e.currentTarget as HTMLSelectElement).value)}>
              <option value="starttls">STARTTLS</option>
              <option value="tls">TLS (implicit)</option>
              <option value="none">None</option>
            </select>
            {errors.tls && <p class="error">{errors.tls}</p>}
          </div>
        </div>
        <label class="check" for={authId}>
          <input id={authId} type="checkbox" checked={v.useAuth} onChange={(e) => set('useAuth')((e.currentTarget as HTMLInputElement).checked)} />
          USE AUTH
        </label>
        {v.useAuth && (
          <div class="row">
            <Field label="USERNAME" value={v.username} onInput={set('username')} error={errors.username} autocomplete="off" />
            <Field label="PASSWORD" type="password" value={v.password} onInput={set('password')} error={errors.password} autocomplete="new-password" hint="Write-only: never shown again." />
          </div>
        )}
        <Field label="Send a test message to (optional)" type="email" value={v.to} onInput={set('to')} error={errors.to} />
        <ErrorBox error={error} />
        {result && <TestSteps result={result} />}
        <div class="actions">
          <button type="button" onClick={props.onClose}>CANCEL</button>
          <button type="button" onClick={test} disabled={!!busy}>TEST</button>
          <button type="submit" class="primary" disabled={!!busy}>CONNECT</button>
        </div>
      </form>
    </Dialog>
  );
}

function SmtpDetails(props: { server: Server; onClose: () => void; onDisconnected: () => void }) {
  const s = props.server;
  const [confirm, setConfirm] = useState(false);
  const [error, setError] = useState('');
  const [to, setTo] = useState('');
  const [result, setResult] = useState<Schemas['SMTPTestResult'] | null>(null);
  async function test() {
    setError(''); setResult(null);
    try {
      setResult(must(await api.POST('/v1/integrations/smtp/{id}/test', { params: { path: { id: s.id! } }, body: { to: to.trim() || undefined } })));
    } catch (e) { setError(message(e)); }
  }
  async function disconnect() {
    setConfirm(false);
    try {
      must(await api.DELETE('/v1/integrations/smtp/{id}', { params: { path: { id: s.id! }, header: { 'If-Match': etag(s.version) } } }));
      props.onDisconnected();
    } catch (e) { setError(message(e)); }
  }
  if (confirm) {
    return <Confirm title={`Disconnect ${s.nickname}?`} text="Email stops going through this server at once." action="DISCONNECT" onCancel={() => setConfirm(false)} onConfirm={disconnect} />;
  }
  return (
    <Dialog title={s.nickname} onClose={props.onClose}>
      <dl>
        <dt>Host</dt><dd>{s.host}:{s.port}</dd>
        <dt>TLS</dt><dd>{s.tls}</dd>
        <dt>Admin address</dt><dd>{s.adminAddress}</dd>
        <dt>Timeout</dt><dd>{s.timeoutSeconds} s</dd>
        <dt>Authentication</dt><dd>{s.useAuth ? `${s.username} (password ${s.passwordSet ? 'set' : 'not set'})` : 'none'}</dd>
      </dl>
      <Field label="Send a test message to (optional)" type="email" value={to} onInput={setTo} />
      {result && <TestSteps result={result} />}
      <ErrorBox error={error} />
      <div class="actions">
        <button type="button" onClick={props.onClose}>CLOSE</button>
        <button type="button" onClick={test}>TEST</button>
        <button type="button" class="danger" onClick={() => setConfirm(true)}>DISCONNECT</button>
      </div>
    </Dialog>
  );
}

function TestSteps(props: { result: Schemas['SMTPTestResult'] }) {
  const r = props.result;
  const id = useId('smtp-test');
  return (
    <section aria-labelledby={id} class={r.ok ? 'ok' : 'bad'}>
      <h3 id={id}>Test {r.ok ? 'passed' : 'failed'}</h3>
      <ol aria-label="Test steps">
        {(r.steps ?? []).map((s) => (
          <li key={s.name}>
            <span aria-hidden="true">{s.ok ? '✔' : '✘'}</span> {STEP_NAMES[s.name] ?? s.name}: {s.ok ? 'OK' : 'failed'}
            {s.detail && <small> {s.detail}</small>}
            {s.error && <small class="error"> {s.error}</small>}
          </li>
        ))}
      </ol>
    </section>
  );
}
