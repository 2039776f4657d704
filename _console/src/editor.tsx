// The rule editor: step 1 (name, ENABLE RULE / DISABLE RULE, event types
// and severities), step 2 (recipients, with a live preview), SUBMIT.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, api, etag, message, must, type Group, type Rule, type Schemas, type User } from './api';
import { EVENT_TYPES, SEVERITIES } from './constants';
import { navigate } from './router';
import { Dialog, ErrorBox, useId } from './ui';

type Draft = {
  name: string;
  enabled: boolean;
  eventTypes: string[];
  severities: string[];
  users: string[];
  groups: string[];
  emails: string[];
  slackChannels: string[];
  webhooks: string[];
  userChannels: ('email' | 'slack')[];
  window: string; // digest window in seconds, as typed; 0 or empty: off
  quiet: { on: boolean; timeZone: string; start: string; end: string; days: string[]; allowCritical: boolean };
  template: { subject: string; text: string; slack: string };
};

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
type Day = (typeof DAYS)[number];
const localZone = () => { try { return Intl.DateTimeFormat().resolvedOptions().timeZone; } catch { return 'UTC'; } };
const quietOff = () => ({ on: false, timeZone: localZone(), start: '22:00', end: '07:00', days: [], allowCritical: true });

const EMPTY: Draft = { name: '', enabled: true, eventTypes: [], severities: [], users: [], groups: [], emails: [], slackChannels: [], webhooks: [], userChannels: ['email'], window: '0', quiet: quietOff(), template: { subject: '', text: '', slack: '' } };
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function fromRule(r: Rule): Draft {
  const rc = r.recipients ?? {};
  return {
    name: r.name,
    enabled: r.enabled ?? true,
    eventTypes: [...(r.eventTypes ?? [])],
    severities: [...(r.severities ?? [])],
    users: [...(rc.users ?? [])],
    groups: [...(rc.groups ?? [])],
    emails: [...(rc.emails ?? [])],
    slackChannels: [...(rc.slackChannels ?? [])],
    webhooks: [...(rc.webhooks ?? [])],
    userChannels: rc.userChannels?.length ? [...rc.userChannels] : ['email'],
    window: String(r.digest?.windowSeconds ?? 0),
    quiet: r.quietHours
      ? { on: true, timeZone: r.quietHours.timeZone, start: r.quietHours.start, end: r.quietHours.end, days: [...(r.quietHours.days ?? [])], allowCritical: !!r.quietHours.allowCritical }
      : quietOff(),
    template: { subject: r.template?.subject ?? '', text: r.template?.text ?? '', slack: r.template?.slack ?? '' },
  };
}

function toBody(d: Draft): Rule {
  return {
    name: d.name.trim(),
    enabled: d.enabled,
    eventTypes: d.eventTypes as Rule['eventTypes'],
    severities: d.severities as Rule['severities'],
    recipients: { users: d.users, groups: d.groups, emails: d.emails, slackChannels: d.slackChannels, webhooks: d.webhooks, userChannels: d.userChannels },
    ...(Number(d.window) > 0 ? { digest: { windowSeconds: Number(d.window) } } : {}),
    ...(d.quiet.on ? { quietHours: { timeZone: d.quiet.timeZone.trim(), start: d.quiet.start, end: d.quiet.end, allowCritical: d.quiet.allowCritical, ...(d.quiet.days.length ? { days: d.quiet.days as Day[] } : {}) } } : {}),
    ...(d.template.subject || d.template.text || d.template.slack
      ? { template: Object.fromEntries(Object.entries(d.template).filter(([, v]) => v)) }
      : {}),
  };
}

/** windowError is what is wrong with a typed digest window, if anything. */
const windowError = (w: string) => (/^\d*$/.test(w.trim()) && Number(w) <= 86400 ? '' : 'Enter whole seconds from 0 to 86400 (0: off).');

/** changes names what differs between two versions of a rule. */
function changes(a: Draft, b: Draft): string[] {
  const out: string[] = [];
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  if (a.name !== b.name) out.push(`name: "${a.name}" → "${b.name}"`);
  if (a.enabled !== b.enabled) out.push(`enabled: ${a.enabled} → ${b.enabled}`);
  for (const k of ['eventTypes', 'severities', 'users', 'groups', 'emails', 'slackChannels', 'webhooks', 'userChannels'] as const) {
    if (!same([...a[k]].sort(), [...b[k]].sort())) out.push(`${k}: ${a[k].join(', ') || '—'} → ${b[k].join(', ') || '—'}`);
  }
  if (Number(a.window) !== Number(b.window)) out.push(`digest window: ${a.window}s → ${b.window}s`);
  if (!same(a.quiet.on && a.quiet, b.quiet.on && b.quiet)) out.push('quiet hours changed');
  if (!same(a.template, b.template)) out.push('template changed');
  return out;
}

export function RuleEditor(props: { id?: string }) {
  const [step, setStep] = useState<1 | 2>(1);
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [loaded, setLoaded] = useState<{ draft: Draft; version: number } | null>(null);
  const [users, setUsers] = useState<User[]>([]);
  const [groups, setGroups] = useState<Group[]>([]);
  const [channels, setChannels] = useState<Schemas['SlackChannel'][] | null>(null);
  const [channelsError, setChannelsError] = useState('');
  const [hooks, setHooks] = useState<Schemas['Webhook'][] | null>(null);
  const [hooksError, setHooksError] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState('');
  const [conflict, setConflict] = useState<{ theirs: Draft; version: number; what: string[] } | null>(null);
  const [dialog, setDialog] = useState<'' | 'users' | 'channels' | 'webhooks'>('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (props.id) {
      api.GET('/v1/rules/{id}', { params: { path: { id: props.id } } }).then(
        (r) => {
          const rule = must(r);
          const d = fromRule(rule);
          setDraft(d);
          setLoaded({ draft: d, version: rule.version ?? 0 });
        },
        (e) => setError(message(e)),
      );
    }
    api.GET('/v1/directory').then(
      (r) => {
        const d = must(r);
        setUsers(d.users ?? []);
        setGroups(d.groups ?? []);
      },
      (e) => setError(message(e)),
    );
    api.GET('/v1/integrations/slack/channels', { params: { query: { limit: 1000 } } }).then(
      (r) => {
        if (r.error) setChannelsError(message(new ApiError(r.error as Schemas['Problem'], r.response.status)));
        else setChannels(r.data?.items ?? []);
      },
      (e) => setChannelsError(message(e)),
    );
    api.GET('/v1/integrations/webhooks').then(
      (r) => {
        if (r.error) setHooksError(message(new ApiError(r.error as Schemas['Problem'], r.response.status)));
        else setHooks(r.data?.items ?? []);
      },
      (e) => setHooksError(message(e)),
    );
  }, [props.id]);

  const set = (p: Partial<Draft>) => setDraft({ ...draft, ...p });
  const toggleIn = (k: 'eventTypes' | 'severities', v: string) =>
    set({ [k]: draft[k].includes(v) ? draft[k].filter((x) => x !== v) : [...draft[k], v] } as Partial<Draft>);

  function next() {
    const e: Record<string, string> = {};
    if (!draft.name.trim()) e.name = 'Give the rule a name.';
    if (!draft.eventTypes.length) e.eventTypes = 'Choose at least one event type.';
    if (!draft.severities.length) e.severities = 'Choose at least one severity.';
    setErrors(e);
    if (!Object.keys(e).length) setStep(2);
  }

  async function submit(version?: number) {
    if (windowError(draft.window)) {
      setErrors({ 'digest.windowSeconds': windowError(draft.window) });
      return;
    }
    setBusy(true);
    setError('');
    setErrors({});
    try {
      if (props.id) {
        const r = await api.PUT('/v1/rules/{id}', {
          params: { path: { id: props.id }, header: { 'If-Match': etag(version ?? loaded?.version) } },
          body: toBody(draft),
        });
        if (r.response.status === 412) {
          const cur = must(await api.GET('/v1/rules/{id}', { params: { path: { id: props.id } } }));
          const theirs = fromRule(cur);
          setConflict({ theirs, version: cur.version ?? 0, what: changes(loaded?.draft ?? EMPTY, theirs) });
          return;
        }
        must(r);
      } else {
        must(await api.POST('/v1/rules', { body: toBody(draft) }));
      }
      navigate('/rules');
    } catch (e) {
      if (e instanceof ApiError && e.problem.errors?.length) {
        const fe = e.fieldErrors();
        setErrors(fe);
        if (Object.keys(fe).some((f) => f === 'name' || f.startsWith('eventTypes') || f.startsWith('severities'))) setStep(1);
      }
      setError(message(e));
    } finally {
      setBusy(false);
    }
  }

  const fieldError = (prefix: string) =>
    Object.entries(errors)
      .filter(([f]) => f === prefix || f.startsWith(prefix + '[') || f.startsWith(prefix + '.'))
      .map(([, m]) => m)
      .join(' ');

  const title = props.id ? `Edit rule ${loaded?.draft.name ?? ''}` : 'New notification rule';
  const nameId = useId('name');
  return (
    <section aria-labelledby="ed-h" class="editor">
      <h1 id="ed-h">{title}</h1>
      <ol class="steps" aria-label="Steps">
        <li aria-current={step === 1 ? 'step' : undefined}>1. Rule</li>
        <li aria-current={step === 2 ? 'step' : undefined}>2. Recipients</li>
      </ol>
      <ErrorBox error={error} />
      {conflict && (
        <div class="conflict" role="alert">
          <h2>This rule was changed by someone else since you opened it</h2>
          <p>Their version {conflict.version} changed:</p>
          <ul>{conflict.what.length ? conflict.what.map((w) => <li key={w}>{w}</li>) : <li>nothing you can see (only its version)</li>}</ul>
          <div class="actions">
            <button type="button" onClick={() => {
              setDraft(conflict.theirs);
              setLoaded({ draft: conflict.theirs, version: conflict.version });
              setConflict(null);
            }}>LOAD THEIR VERSION</button>
            <button type="button" class="danger" onClick={() => {
              const v = conflict.version;
              setLoaded({ draft: conflict.theirs, version: v });
              setConflict(null);
              submit(v);
            }}>OVERWRITE WITH MINE</button>
          </div>
        </div>
      )}
      {step === 1 ? (
        <form onSubmit={(e) => { e.preventDefault(); next(); }} noValidate>
          <div class="field">
            <label for={nameId}>RULE NAME</label>
            <input id={nameId} value={draft.name} aria-invalid={errors.name ? 'true' : undefined} aria-describedby={errors.name ? `${nameId}-err` : undefined}
              onInput={(e) => set({ name: (e.currentTarget as HTMLInputElement).value })} />
            {errors.name && <p id={`${nameId}-err`} class="error">{errors.name}</p>}
          </div>
          <div role="radiogroup" aria-label="Rule status" class="segmented">
            <button type="button" role="radio" aria-checked={draft.enabled ? 'true' : 'false'} onClick={() => set({ enabled: true })}>ENABLE RULE</button>
            <button type="button" role="radio" aria-checked={!draft.enabled ? 'true' : 'false'} onClick={() => set({ enabled: false })}>DISABLE RULE</button>
          </div>
          <fieldset aria-describedby={errors.eventTypes ? 'types-err' : undefined}>
            <legend>EVENT TYPES</legend>
            {EVENT_TYPES.map((t) => (
              <label class="check" key={t.id}>
                <input type="checkbox" checked={draft.eventTypes.includes(t.id)} onChange={() => toggleIn('eventTypes', t.id)} />
                <span><strong>{t.id}</strong> <small>{t.text}</small></span>
              </label>
            ))}
            {fieldError('eventTypes') && <p id="types-err" class="error">{fieldError('eventTypes')}</p>}
          </fieldset>
          <fieldset aria-describedby={errors.severities ? 'sev-err' : undefined}>
            <legend>SEVERITIES</legend>
            {SEVERITIES.map((s) => (
              <label class="check" key={s.id}>
                <input type="checkbox" checked={draft.severities.includes(s.id)} onChange={() => toggleIn('severities', s.id)} />
                <span><strong>{s.id}</strong> <small>{s.text}</small></span>
              </label>
            ))}
            {fieldError('severities') && <p id="sev-err" class="error">{fieldError('severities')}</p>}
          </fieldset>
          <div class="actions">
            <button type="button" onClick={() => navigate('/rules')}>CANCEL</button>
            <button type="submit" class="primary">NEXT</button>
          </div>
        </form>
      ) : (
        <form onSubmit={(e) => { e.preventDefault(); submit(); }} noValidate>
          <Recipients draft={draft} set={set} users={users} groups={groups} channels={channels} channelsError={channelsError}
            hooks={hooks} hooksError={hooksError} openHooks={() => setDialog('webhooks')}
            openUsers={() => setDialog('users')} openChannels={() => setDialog('channels')} fieldError={fieldError} />
          <Delivery draft={draft} set={set} fieldError={fieldError} />
          <Template draft={draft} set={set} fieldError={fieldError} />
          <Preview draft={draft} users={users} groups={groups} channels={channels} ruleId={props.id} />
          <div class="actions">
            <button type="button" onClick={() => setStep(1)}>BACK</button>
            <button type="submit" class="primary" disabled={busy}>SUBMIT</button>
          </div>
        </form>
      )}
      {dialog === 'users' && (
        <AddUsers users={users} groups={groups} chosen={draft} onClose={() => setDialog('')}
          onAdd={(u, g) => { set({ users: [...draft.users, ...u], groups: [...draft.groups, ...g] }); setDialog(''); }} />
      )}
      {dialog === 'channels' && (
        <AddChannels channels={channels ?? []} chosen={draft.slackChannels} onClose={() => setDialog('')}
          onAdd={(c) => { set({ slackChannels: [...draft.slackChannels, ...c] }); setDialog(''); }} />
      )}
      {dialog === 'webhooks' && (
        <AddWebhooks hooks={hooks ?? []} chosen={draft.webhooks} onClose={() => setDialog('')}
          onAdd={(w) => { set({ webhooks: [...draft.webhooks, ...w] }); setDialog(''); }} />
      )}
    </section>
  );
}

function Chips(props: { label: string; items: string[]; name: (id: string) => string; onRemove: (id: string) => void }) {
  if (!props.items.length) return <p class="muted">None yet.</p>;
  return (
    <ul class="chips" aria-label={props.label}>
      {props.items.map((id) => (
        <li key={id}>
          {props.name(id)}
          <button type="button" class="icon" aria-label={`Remove ${props.name(id)}`} onClick={() => props.onRemove(id)}>×</button>
        </li>
      ))}
    </ul>
  );
}

function Recipients(p: {
  draft: Draft; set: (d: Partial<Draft>) => void; users: User[]; groups: Group[];
  channels: Schemas['SlackChannel'][] | null; channelsError: string;
  hooks: Schemas['Webhook'][] | null; hooksError: string; openHooks: () => void;
  openUsers: () => void; openChannels: () => void; fieldError: (f: string) => string;
}) {
  const [email, setEmail] = useState('');
  const emailId = useId('email');
  const typedError = email && !EMAIL.test(email.trim()) ? `"${email.trim()}" is not a valid email address` : '';
  const emailError = typedError || p.fieldError('recipients.emails');
  const addEmail = () => {
    const v = email.trim();
    if (!v || !EMAIL.test(v) || p.draft.emails.includes(v)) return;
    p.set({ emails: [...p.draft.emails, v] });
    setEmail('');
  };
  const userName = (id: string) => p.users.find((u) => u.id === id)?.name ?? id;
  const groupName = (id: string) => p.groups.find((g) => g.id === id)?.name ?? id;
  const channelName = (id: string) => {
    const c = p.channels?.find((c) => c.id === id);
    return c ? `#${c.name}` : id;
  };
  return (
    <>
      <fieldset>
        <legend>Argo Users and Groups</legend>
        <button type="button" onClick={p.openUsers}>+ADD USERS</button>
        <Chips label="Users" items={p.draft.users} name={userName} onRemove={(id) => p.set({ users: p.draft.users.filter((x) => x !== id) })} />
        <Chips label="Groups" items={p.draft.groups} name={(id) => `${groupName(id)} (group)`} onRemove={(id) => p.set({ groups: p.draft.groups.filter((x) => x !== id) })} />
        {(p.fieldError('recipients.users') || p.fieldError('recipients.groups')) && (
          <p class="error">{p.fieldError('recipients.users')} {p.fieldError('recipients.groups')}</p>
        )}
        <fieldset class="inline-checks">
          <legend>Reach users by</legend>
          {([['email', 'Email'], ['slack', 'Slack DM']] as const).map(([v, l]) => (
            <label class="check" key={v}>
              <input type="checkbox" checked={p.draft.userChannels.includes(v)}
                onChange={() => p.set({ userChannels: p.draft.userChannels.includes(v) ? p.draft.userChannels.filter((x) => x !== v) : [...p.draft.userChannels, v] })} />
              <span>{l}</span>
            </label>
          ))}
          {p.fieldError('recipients.userChannels') && <p class="error">{p.fieldError('recipients.userChannels')}</p>}
        </fieldset>
      </fieldset>
      <fieldset>
        <legend>Email Users</legend>
        <div class="field inline">
          <label for={emailId}>Email address</label>
          <input id={emailId} type="email" value={email} aria-invalid={emailError ? 'true' : undefined} aria-describedby={emailError ? `${emailId}-err` : undefined}
            onInput={(e) => setEmail((e.currentTarget as HTMLInputElement).value)}
            onKeyDown={(e) => { if (e.key === 'Enter') { e.preventDefault(); addEmail(); } }} />
          <button type="button" onClick={addEmail} disabled={!email || !!typedError}>ADD EMAIL</button>
        </div>
        {emailError && <p id={`${emailId}-err`} class="error">{emailError}</p>}
        <Chips label="Email addresses" items={p.draft.emails} name={(e) => e} onRemove={(e) => p.set({ emails: p.draft.emails.filter((x) => x !== e) })} />
      </fieldset>
      <fieldset>
        <legend>Slack</legend>
        <button type="button" onClick={p.openChannels} disabled={!p.channels}>ADD CHANNELS</button>
        {p.channelsError && <p class="muted">Slack channels unavailable: {p.channelsError}</p>}
        <Chips label="Slack channels" items={p.draft.slackChannels} name={channelName} onRemove={(c) => p.set({ slackChannels: p.draft.slackChannels.filter((x) => x !== c) })} />
        {p.fieldError('recipients.slackChannels') && <p class="error">{p.fieldError('recipients.slackChannels')}</p>}
      </fieldset>
      <fieldset>
        <legend>Webhooks</legend>
        <button type="button" onClick={p.openHooks} disabled={!p.hooks}>ADD WEBHOOKS</button>
        {p.hooksError && <p class="muted">Webhooks unavailable: {p.hooksError}</p>}
        <Chips label="Webhooks" items={p.draft.webhooks} name={(id) => p.hooks?.find((h) => h.id === id)?.name ?? id}
          onRemove={(w) => p.set({ webhooks: p.draft.webhooks.filter((x) => x !== w) })} />
        {p.fieldError('recipients.webhooks') && <p class="error">{p.fieldError('recipients.webhooks')}</p>}
        {p.fieldError('recipients') && <p class="error">{p.fieldError('recipients')}</p>}
      </fieldset>
    </>
  );
}

function AddUsers(p: { users: User[]; groups: Group[]; chosen: Draft; onClose: () => void; onAdd: (u: string[], g: string[]) => void }) {
  const [q, setQ] = useState('');
  const [u, setU] = useState<string[]>([]);
  const [g, setG] = useState<string[]>([]);
  const qid = useId('uq');
  const m = (s: string) => s.toLowerCase().includes(q.toLowerCase());
  const users = p.users.filter((x) => !p.chosen.users.includes(x.id!) && (m(x.name) || m(x.email) || m(x.id ?? '')));
  const groups = p.groups.filter((x) => !p.chosen.groups.includes(x.id!) && (m(x.name) || m(x.id ?? '')));
  const flip = (a: string[], set: (v: string[]) => void, id: string) => set(a.includes(id) ? a.filter((x) => x !== id) : [...a, id]);
  return (
    <Dialog title="Add users and groups" onClose={p.onClose} wide>
      <label for={qid}>Search users and groups</label>
      <input id={qid} type="search" value={q} onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)} />
      <fieldset class="pick">
        <legend>Users</legend>
        {users.length === 0 && <p class="muted">No users match.</p>}
        {users.map((x) => (
          <label class="check" key={x.id}>
            <input type="checkbox" checked={u.includes(x.id!)} onChange={() => flip(u, setU, x.id!)} />
            <span>{x.name} <small>{x.email}</small> <span class={`role role-${x.role}`}>{x.role}</span></span>
          </label>
        ))}
      </fieldset>
      <fieldset class="pick">
        <legend>Groups</legend>
        {groups.length === 0 && <p class="muted">No groups match.</p>}
        {groups.map((x) => (
          <label class="check" key={x.id}>
            <input type="checkbox" checked={g.includes(x.id!)} onChange={() => flip(g, setG, x.id!)} />
            <span>{x.name} <small>{(x.members ?? []).length} members</small></span>
          </label>
        ))}
      </fieldset>
      <div class="actions">
        <button type="button" onClick={p.onClose}>CANCEL</button>
        <button type="button" class="primary" disabled={!u.length && !g.length} onClick={() => p.onAdd(u, g)}>ADD</button>
      </div>
    </Dialog>
  );
}

function AddChannels(p: { channels: Schemas['SlackChannel'][]; chosen: string[]; onClose: () => void; onAdd: (c: string[]) => void }) {
  const [c, setC] = useState<string[]>([]);
  const avail = p.channels.filter((x) => !p.chosen.includes(x.id));
  return (
    <Dialog title="Add Slack channels" onClose={p.onClose}>
      <fieldset class="pick">
        <legend>Channels of the connected workspace</legend>
        {avail.length === 0 && <p class="muted">No more channels.</p>}
        {avail.map((x) => (
          <label class="check" key={x.id}>
            <input type="checkbox" checked={c.includes(x.id)} onChange={() => setC(c.includes(x.id) ? c.filter((y) => y !== x.id) : [...c, x.id])} />
            <span>#{x.name} {x.isPrivate && <small>private</small>} {!x.isMember && <small>bot not a member</small>}</span>
          </label>
        ))}
      </fieldset>
      <div class="actions">
        <button type="button" onClick={p.onClose}>CANCEL</button>
        <button type="button" class="primary" disabled={!c.length} onClick={() => p.onAdd(c)}>ADD</button>
      </div>
    </Dialog>
  );
}

/** Field is a labelled input with its API error next to it. */
function Field(p: { label: string; field: string; fieldError: (f: string) => string; value: string; onInput: (v: string) => void; type?: string; area?: boolean; list?: string; hint?: string }) {
  const id = useId('f');
  const err = p.fieldError(p.field);
  const attrs = {
    id, value: p.value, 'aria-invalid': err ? ('true' as const) : undefined, 'aria-describedby': err ? `${id}-err` : p.hint ? `${id}-hint` : undefined,
    onInput: (e: Event) => p.onInput((e.currentTarget as HTMLInputElement).value),
  };
  return (
    <div class="field">
      <label for={id}>{p.label}</label>
      {p.area ? <textarea rows={3} {...attrs} /> : <input type={p.type ?? 'text'} list={p.list} {...attrs} />}
      {p.hint && !err && <small id={`${id}-hint`} class="muted">{p.hint}</small>}
      {err && <p id={`${id}-err`} class="error">{err}</p>}
    </div>
  );
}

function Delivery(p: { draft: Draft; set: (d: Partial<Draft>) => void; fieldError: (f: string) => string }) {
  const q = p.draft.quiet;
  const setQ = (v: Partial<Draft['quiet']>) => p.set({ quiet: { ...q, ...v } });
  const fe = (f: string) => p.fieldError(f) || (f === 'digest.windowSeconds' ? windowError(p.draft.window) : '');
  const zones = useMemo(() => { try { return (Intl as unknown as { supportedValuesOf(k: string): string[] }).supportedValuesOf('timeZone'); } catch { return []; } }, []);
  return (
    <fieldset>
      <legend>Delivery</legend>
      <Field label="DIGEST WINDOW (seconds)" field="digest.windowSeconds" fieldError={fe} type="text" value={p.draft.window}
        hint="The first event of each window goes out at once, the others in one digest when it closes. 0: off."
        onInput={(v) => p.set({ window: v })} />
      <label class="check">
        <input type="checkbox" checked={q.on} onChange={() => setQ({ on: !q.on })} />
        <span>QUIET HOURS <small>events in the window are held and sent as one digest when it ends</small></span>
      </label>
      {q.on && (
        <>
          <Field label="TIME ZONE (IANA)" field="quietHours.timeZone" fieldError={p.fieldError} value={q.timeZone} list="tz-list" onInput={(v) => setQ({ timeZone: v })} />
          <datalist id="tz-list">{zones.map((z) => <option key={z} value={z} />)}</datalist>
          <div class="field inline">
            <Field label="START" field="quietHours.start" fieldError={p.fieldError} type="time" value={q.start} onInput={(v) => setQ({ start: v })} />
            <Field label="END" field="quietHours.end" fieldError={p.fieldError} type="time" value={q.end} onInput={(v) => setQ({ end: v })} />
          </div>
          <fieldset>
            <legend>Days the window starts (none: every day)</legend>
            {DAYS.map((d) => (
              <label class="check inline-check" key={d}>
                <input type="checkbox" checked={q.days.includes(d)} onChange={() => setQ({ days: q.days.includes(d) ? q.days.filter((x) => x !== d) : [...q.days, d] })} />
                <span>{d}</span>
              </label>
            ))}
            {p.fieldError('quietHours.days') && <p class="error">{p.fieldError('quietHours.days')}</p>}
          </fieldset>
          <label class="check">
            <input type="checkbox" checked={q.allowCritical} onChange={() => setQ({ allowCritical: !q.allowCritical })} />
            <span>Allow CRITICAL events during quiet hours</span>
          </label>
        </>
      )}
    </fieldset>
  );
}

function Template(p: { draft: Draft; set: (d: Partial<Draft>) => void; fieldError: (f: string) => string }) {
  const t = p.draft.template;
  const setT = (v: Partial<Draft['template']>) => p.set({ template: { ...t, ...v } });
  return (
    <fieldset>
      <legend>Template (optional)</legend>
      <p class="muted">Go text/template over the event, e.g. <code>{'{{.Severity}} {{.Title}}'}</code>. Empty: the default message.</p>
      <Field label="SUBJECT" field="template.subject" fieldError={p.fieldError} value={t.subject} onInput={(v) => setT({ subject: v })} />
      <Field label="TEXT" field="template.text" fieldError={p.fieldError} value={t.text} area onInput={(v) => setT({ text: v })} />
      <Field label="SLACK" field="template.slack" fieldError={p.fieldError} value={t.slack} area onInput={(v) => setT({ slack: v })} />
    </fieldset>
  );
}

const host = (u: string) => { try { return new URL(u).host; } catch { return u; } };

function AddWebhooks(p: { hooks: Schemas['Webhook'][]; chosen: string[]; onClose: () => void; onAdd: (w: string[]) => void }) {
  const [c, setC] = useState<string[]>([]);
  const avail = p.hooks.filter((x) => !p.chosen.includes(x.id!));
  return (
    <Dialog title="Add webhooks" onClose={p.onClose}>
      <fieldset class="pick">
        <legend>Connected webhooks</legend>
        {avail.length === 0 && <p class="muted">No more webhooks.</p>}
        {avail.map((x) => (
          <label class="check" key={x.id}>
            <input type="checkbox" checked={c.includes(x.id!)} onChange={() => setC(c.includes(x.id!) ? c.filter((y) => y !== x.id) : [...c, x.id!])} />
            <span>{x.name} <small>{host(x.url)}</small></span>
          </label>
        ))}
      </fieldset>
      <div class="actions">
        <button type="button" onClick={p.onClose}>CANCEL</button>
        <button type="button" class="primary" disabled={!c.length} onClick={() => p.onAdd(c)}>ADD</button>
      </div>
    </Dialog>
  );
}

function Preview(p: { draft: Draft; users: User[]; groups: Group[]; channels: Schemas['SlackChannel'][] | null; ruleId?: string }) {
  const [choice, setChoice] = useState({ type: '', severity: '' });
  const type = p.draft.eventTypes.includes(choice.type) ? choice.type : p.draft.eventTypes[0] ?? 'JOB';
  const severity = p.draft.severities.includes(choice.severity) ? choice.severity : p.draft.severities[0] ?? 'CRITICAL';
  const [match, setMatch] = useState<Schemas['MatchResult'] | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    const t = setTimeout(() => {
      api.POST('/v1/match', { body: { type: type as Schemas['Event']['type'], severity: severity as Schemas['Event']['severity'], title: 'Console preview' } }).then(
        (r) => { setMatch(must(r)); setError(''); },
        (e) => setError(message(e)),
      );
    }, 200);
    return () => clearTimeout(t);
  }, [type, severity]);
  // Whom this draft reaches: its users, its groups' members, its addresses, its channels.
  const reach = useMemo(() => {
    const email = new Set<string>();
    const byId = new Map(p.users.map((u) => [u.id, u.email]));
    p.draft.users.forEach((id) => byId.get(id) && email.add(byId.get(id)!.toLowerCase()));
    p.draft.groups.forEach((gid) => p.groups.find((g) => g.id === gid)?.members?.forEach((id) => byId.get(id) && email.add(byId.get(id)!.toLowerCase())));
    p.draft.emails.forEach((e) => email.add(e.toLowerCase()));
    const slack = p.draft.slackChannels.map((c) => { const ch = p.channels?.find((x) => x.id === c); return ch ? `#${ch.name}` : c; });
    return { email: [...email].sort(), slack };
  }, [p.draft, p.users, p.groups, p.channels]);
  const others = match ? (match.recipients.email ?? []).length + (match.recipients.slack ?? []).length : 0;
  return (
    <section class="preview" aria-labelledby="pv-h" aria-live="polite">
      <h2 id="pv-h">Preview</h2>
      <div class="filters">
        <label>
          Sample event type
          <select value={type} onChange={(e) => setChoice({ ...choice, type: (e.currentTarget as HTMLSelectElement).value })}>
            {p.draft.eventTypes.map((t) => <option key={t} value={t}>{t}</option>)}
          </select>
        </label>
        <label>
          Severity
          <select value={severity} onChange={(e) => setChoice({ ...choice, severity: (e.currentTarget as HTMLSelectElement).value })}>
            {p.draft.severities.map((t) => <option key={t} value={t}>{t}</option>)}
          </select>
        </label>
      </div>
      <p>A sample <strong>{type}</strong> event of severity <strong>{severity}</strong> would reach, through this rule:</p>
      <ul aria-label="Reached by this rule">
        {reach.email.map((e) => <li key={e}>✉ {e}</li>)}
        {reach.slack.map((c) => <li key={c}>Slack {c}</li>)}
        {p.draft.webhooks.map((w) => <li key={w}>Webhook {w}</li>)}
        {!reach.email.length && !reach.slack.length && !p.draft.webhooks.length && <li>nobody yet</li>}
      </ul>
      {match && (
        <p class="muted">
          With the rules saved now, the same event reaches {others} recipient{others === 1 ? '' : 's'}
          {(match.rules ?? []).length ? ` through ${(match.rules ?? []).map((r) => r.name).join(', ')}` : ''}
          {p.ruleId && (match.rules ?? []).some((r) => r.id === p.ruleId) ? ' (this rule included, as saved)' : ''}.
        </p>
      )}
      {error && <p class="muted">Preview unavailable: {error}</p>}
    </section>
  );
}
