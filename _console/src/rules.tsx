// Administration > Settings > Notification Rules: every rule, user and
// policy, with filters and paging; enable/disable and delete user rules.
import { useEffect, useState } from 'preact/hooks';
import { api, etag, message, must, type Rule, type Schemas } from './api';
import { navigate } from './router';
import { Confirm, Dialog, ErrorBox, Notice, list, useId } from './ui';

const PAGE = 50;

// Icons drawn here: no icon font or emoji font is needed (or loaded).
const PENCIL = 'M3 17.25V21h3.75L17.81 9.94l-3.75-3.75L3 17.25zM20.71 7.04a1 1 0 0 0 0-1.41l-2.34-2.34a1 1 0 0 0-1.41 0l-1.83 1.83 3.75 3.75 1.83-1.83z';
const BIN = 'M6 19a2 2 0 0 0 2 2h8a2 2 0 0 0 2-2V7H6v12zM19 4h-3.5l-1-1h-5l-1 1H5v2h14V4z';

function Icon(props: { d: string }) {
  return (
    <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false">
      <path d={props.d} fill="currentColor" />
    </svg>
  );
}

export function summary(r: Schemas['Recipients']): string {
  const n = (a: readonly string[] | null | undefined, one: string, many: string) =>
    a && a.length ? `${a.length} ${a.length === 1 ? one : many}` : '';
  return [n(r.users, 'user', 'users'), n(r.groups, 'group', 'groups'), n(r.emails, 'email', 'emails'), n(r.slackChannels, 'channel', 'channels'), n(r.webhooks, 'webhook', 'webhooks')]
    .filter(Boolean)
    .join(', ') || 'nobody';
}

type Filters = { source: '' | 'user' | 'policy'; enabled: '' | 'true' | 'false'; q: string };

async function fetchPage(f: Filters, cursor: string | undefined): Promise<{ items: Rule[]; next?: string }> {
  const query = {
    limit: f.q ? 500 : PAGE,
    cursor,
    source: f.source || undefined,
    enabled: f.enabled || undefined,
  };
  if (!f.q) {
    const page = must(await api.GET('/v1/rules', { params: { query } }));
    return { items: page.items ?? [], next: page.next };
  }
  // The API has no name search: scan pages until a page's worth matches.
  const q = f.q.toLowerCase();
  const items: Rule[] = [];
  let next = cursor;
  do {
    const page = must(await api.GET('/v1/rules', { params: { query: { ...query, cursor: next } } }));
    items.push(...(page.items ?? []).filter((r) => r.name.toLowerCase().includes(q)));
    next = page.next;
  } while (next && items.length < PAGE);
  return { items, next };
}

export function RulesScreen() {
  const [filters, setFilters] = useState<Filters>({ source: '', enabled: '', q: '' });
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState<{ items: Rule[]; next?: string } | null>(null);
  const [error, setError] = useState('');
  const [status, setStatus] = useState('');
  const [deleting, setDeleting] = useState<Rule | null>(null);
  const [policy, setPolicy] = useState<Rule | null>(null);
  const [reload, setReload] = useState(0);
  const cursor = cursors[cursors.length - 1];

  useEffect(() => {
    let live = true;
    setError('');
    const t = setTimeout(() => {
      fetchPage(filters, cursor).then(
        (p) => live && setPage(p),
        (e) => live && setError(message(e)),
      );
    }, filters.q ? 250 : 0);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [filters, cursor, reload]);

  const setFilter = (f: Partial<Filters>) => {
    setFilters({ ...filters, ...f });
    setCursors([undefined]);
  };

  async function toggle(r: Rule) {
    try {
      must(await api.PUT('/v1/rules/{id}', { params: { path: { id: r.id! }, header: { 'If-Match': etag(r.version) } }, body: { ...r, enabled: !r.enabled } }));
      setStatus(`${r.name} ${r.enabled ? 'disabled' : 'enabled'}`);
      setReload((n) => n + 1);
    } catch (e) {
      setError(message(e));
    }
  }

  async function remove(r: Rule) {
    setDeleting(null);
    try {
      must(await api.DELETE('/v1/rules/{id}', { params: { path: { id: r.id! }, header: { 'If-Match': etag(r.version) } } }));
      setStatus(`${r.name} deleted`);
      setReload((n) => n + 1);
    } catch (e) {
      setError(message(e));
    }
  }

  const qid = useId('q');
  return (
    <section aria-labelledby="rules-h">
      <div class="titlebar">
        <h1 id="rules-h">Notification Rules</h1>
        <button type="button" class="primary round" aria-label="+ New rule" title="New rule" onClick={() => navigate('/rules/new')}>+</button>
      </div>
      <form class="filters" role="search" aria-label="Filter rules" onSubmit={(e) => e.preventDefault()}>
        <label>
          Source
          <select value={filters.source} onChange={(e) => setFilter({ source: (e.currentTarget as HTMLSelectElement).value as Filters['source'] })}>
            <option value="">All</option>
            <option value="user">User rules</option>
            <option value="policy">Policy rules</option>
          </select>
        </label>
        <label>
          Status
          <select value={filters.enabled} onChange={(e) => setFilter({ enabled: (e.currentTarget as HTMLSelectElement).value as Filters['enabled'] })}>
            <option value="">All</option>
            <option value="true">Enabled</option>
            <option value="false">Disabled</option>
          </select>
        </label>
        <label for={qid}>Search by name</label>
        <input id={qid} type="search" value={filters.q} onInput={(e) => setFilter({ q: (e.currentTarget as HTMLInputElement).value })} />
      </form>
      <ErrorBox error={error} />
      <Notice text={status} />
      {!page ? (
        <p aria-busy="true">Loading rules…</p>
      ) : page.items.length === 0 ? (
        <p>No rules{filters.q || filters.source || filters.enabled ? ' match these filters' : ' yet: + creates one'}.</p>
      ) : (
        <table aria-label="Notification rules">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Enabled</th>
              <th scope="col">Types</th>
              <th scope="col">Severities</th>
              <th scope="col">Recipients</th>
              <th scope="col">Source</th>
              <th scope="col"><span class="sr-only">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((r) => (
              <tr key={r.id}>
                <th scope="row">{r.name}</th>
                <td>
                  {r.source === 'policy' ? (
                    r.enabled ? 'Enabled' : 'Disabled'
                  ) : (
                    <button type="button" role="switch" aria-checked={r.enabled ? 'true' : 'false'} aria-label={`Enabled: ${r.name}`} class="switch" onClick={() => toggle(r)}>
                      {r.enabled ? 'On' : 'Off'}
                    </button>
                  )}
                </td>
                <td>{r.source === 'policy' ? policyWhen(r) : list(r.eventTypes)}</td>
                <td>{r.source === 'policy' ? '—' : list(r.severities)}</td>
                <td>{summary(r.recipients)}</td>
                <td>
                  {r.source === 'policy' ? (
                    <>
                      Policy{' '}
                      <button type="button" class="link" onClick={() => setPolicy(r)}>{r.policy?.name || r.policy?.id}</button>
                    </>
                  ) : (
                    'User'
                  )}
                </td>
                <td class="row-actions">
                  {r.source !== 'policy' && (
                    <>
                      <button type="button" class="icon" aria-label={`Edit ${r.name}`} title="Edit" onClick={() => navigate(`/rules/${encodeURIComponent(r.id!)}/edit`)}><Icon d={PENCIL} /></button>
                      <button type="button" class="icon" aria-label={`Delete ${r.name}`} title="Delete" onClick={() => setDeleting(r)}><Icon d={BIN} /></button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav class="pager" aria-label="Pages">
        <button type="button" disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>Previous page</button>
        <span>Page {cursors.length}</span>
        <button type="button" disabled={!page?.next} onClick={() => setCursors([...cursors, page!.next])}>Next page</button>
      </nav>
      {deleting && (
        <Confirm
          title={`Delete ${deleting.name}?`}
          text="The rule stops notifying anyone at once. This cannot be undone."
          action="DELETE"
          onCancel={() => setDeleting(null)}
          onConfirm={() => remove(deleting)}
        />
      )}
      {policy && <PolicyDetails rule={policy} onClose={() => setPolicy(null)} />}
    </section>
  );
}

function policyWhen(r: Rule): string {
  const p = r.policy;
  if (!p) return 'JOB';
  return `JOB ${[p.onSuccess && 'succeeded', p.onFailure && 'failed'].filter(Boolean).join(' or ') || '(never)'}`;
}

function PolicyDetails(props: { rule: Rule; onClose: () => void }) {
  const id = props.rule.policy?.id ?? '';
  const [n, setN] = useState<Schemas['PolicyNotification'] | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    api.GET('/v1/policies/{policyId}/notification', { params: { path: { policyId: id } } }).then(
      (r) => setN(must(r)),
      (e) => setError(message(e)),
    );
  }, [id]);
  const rc = n?.recipients;
  return (
    <Dialog title={`Policy ${props.rule.policy?.name || id}`} onClose={props.onClose}>
      <ErrorBox error={error} />
      {n && (
        <dl>
          <dt>Policy id</dt>
          <dd>{n.policyId}</dd>
          <dt>Rule</dt>
          <dd>{n.name} ({n.enabled ? 'enabled' : 'disabled'})</dd>
        </dl>
      )}
      {n && (
        <section aria-labelledby="pol-notif">
          <h3 id="pol-notif">NOTIFICATION</h3>
          <dl>
            <dt>On success</dt>
            <dd>{n.onSuccess ? 'Yes' : 'No'}</dd>
            <dt>On failure</dt>
            <dd>{n.onFailure ? 'Yes' : 'No'}</dd>
            <dt>Users</dt>
            <dd>{list(rc?.users)}</dd>
            <dt>Groups</dt>
            <dd>{list(rc?.groups)}</dd>
            <dt>Emails</dt>
            <dd>{list(rc?.emails)}</dd>
            <dt>Slack channels</dt>
            <dd>{list(rc?.slackChannels)}</dd>
          </dl>
          <p class="hint">Policy rules are managed with their policy (PUT /v1/policies/{'{policyId}'}/notification); they are read-only here.</p>
        </section>
      )}
      <div class="actions">
        <button type="button" onClick={props.onClose}>CLOSE</button>
      </div>
    </Dialog>
  );
}
