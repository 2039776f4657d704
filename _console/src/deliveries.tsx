// Deliveries: per event, who was notified through which channel, the
// status, the error and the attempts; filters by event, rule and status.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, message, must, type Schemas } from './api';
import { navigate } from './router';
import { ErrorBox, useId } from './ui';

type Status = NonNullable<Schemas['Delivery']['status']>;

export function DeliveriesScreen(props: { eventId: string }) {
  const [eventId, setEventId] = useState(props.eventId);
  const [ruleId, setRuleId] = useState('');
  const [status, setStatus] = useState<'' | Status>('');
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState<Schemas['DeliveryList'] | null>(null);
  const [error, setError] = useState('');
  const [reload, setReload] = useState(0);
  const ev = useId('ev');
  const ru = useId('ru');
  const st = useId('st');
  const lastReload = useRef(reload);
  useEffect(() => setEventId(props.eventId), [props.eventId]);
  useEffect(() => {
    let live = true;
    // Typing in a filter waits for a pause; REFRESH and paging do not.
    const refresh = lastReload.current !== reload;
    lastReload.current = reload;
    const t = setTimeout(() => {
      api.GET('/v1/deliveries', {
        params: { query: { eventId: eventId.trim() || undefined, ruleId: ruleId.trim() || undefined, status: status || undefined, limit: 50, cursor: cursors[cursors.length - 1] } },
      }).then((r) => { if (live) { setPage(must(r)); setError(''); } }, (e) => live && setError(message(e)));
    }, refresh ? 0 : 200);
    return () => { live = false; clearTimeout(t); };
  }, [eventId, ruleId, status, cursors, reload]);
  const filter = (f: () => void) => { f(); setCursors([undefined]); };
  const showEvent = (id: string) => navigate(`/deliveries?eventId=${encodeURIComponent(id)}`);
  return (
    <section aria-labelledby="del-h">
      <div class="titlebar">
        <h1 id="del-h">Deliveries</h1>
        <button type="button" onClick={() => setReload((n) => n + 1)}>REFRESH</button>
      </div>
      <form class="filters" role="search" aria-label="Filter deliveries" onSubmit={(e) => e.preventDefault()}>
        <label for={ev}>Event id</label>
        <input id={ev} value={eventId} onInput={(e) => filter(() => setEventId((e.currentTarget as HTMLInputElement).value))} />
        <label for={ru}>Rule id</label>
        <input id={ru} value={ruleId} onInput={(e) => filter(() => setRuleId((e.currentTarget as HTMLInputElement).value))} />
        <label for={st}>Status</label>
        <select id={st} value={status} onChange={(e) => filter(() => setStatus((e.currentTarget as HTMLSelectElement).value as Status))}>
          <option value="">All</option>
          {['queued', 'sending', 'sent', 'failed', 'skipped'].map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
      </form>
      <ErrorBox error={error} />
      {page && (page.items ?? []).length === 0 && <p>No deliveries{eventId || ruleId || status ? ' match these filters' : ' yet'}.</p>}
      {page && (page.items ?? []).length > 0 && (
        <table aria-label="Deliveries">
          <thead><tr><th scope="col">Event</th><th scope="col">Channel</th><th scope="col">Recipient</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Error or note</th><th scope="col">When</th></tr></thead>
          <tbody>
            {(page.items ?? []).map((d) => (
              <tr key={d.id}>
                <td><a href={`/deliveries?eventId=${encodeURIComponent(d.eventId)}`} onClick={(e) => { e.preventDefault(); showEvent(d.eventId); }}>{d.eventId}</a></td>
                <td>{d.channel}{d.provider ? ` (${d.provider})` : ''}</td>
                <th scope="row">{d.recipient}</th>
                <td><span class={`status status-${d.status}`}>{d.status}</span></td>
                <td>{d.attempts}</td>
                <td>{d.lastError || d.note || ''}</td>
                <td><time dateTime={d.updatedAt}>{new Date(d.updatedAt).toLocaleString()}</time></td>
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
    </section>
  );
}
