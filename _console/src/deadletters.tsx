// Dead letters: events the dispatcher gave up on, with REDRIVE.
import { useEffect, useState } from 'preact/hooks';
import { api, message, must, type Schemas } from './api';
import { ErrorBox, Notice } from './ui';

export function DeadLettersScreen() {
  const [items, setItems] = useState<Schemas['DeadLetter'][] | null>(null);
  const [error, setError] = useState('');
  const [status, setStatus] = useState('');
  const [reload, setReload] = useState(0);
  useEffect(() => {
    api.GET('/v1/dead-letters', { params: { query: { limit: 100 } } }).then((r) => setItems(must(r).items ?? []), (e) => setError(message(e)));
  }, [reload]);
  async function redrive(id: string) {
    try {
      must(await api.POST('/v1/dead-letters/{id}/redrive', { params: { path: { id } } }));
      setStatus(`${id} sent back to the queue`);
      setReload((n) => n + 1);
    } catch (e) { setError(message(e)); }
  }
  return (
    <section aria-labelledby="dl-h">
      <h1 id="dl-h">Dead letters</h1>
      <p>Events the dispatcher failed to handle after every retry. REDRIVE sends one back to the queue.</p>
      <ErrorBox error={error} />
      <Notice text={status} />
      {items && items.length === 0 && <p>No dead letters.</p>}
      {items && items.length > 0 && (
        <table aria-label="Dead letters">
          <thead><tr><th scope="col">Event</th><th scope="col">Type</th><th scope="col">Received</th><th scope="col">Last error</th><th scope="col">Dead since</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {items.map((d) => (
              <tr key={d.id}>
                <th scope="row">{d.id}</th>
                <td>{d.attributes?.eventType ?? ''} {d.attributes?.severity ?? ''}</td>
                <td>{d.receiveCount}×</td>
                <td>{d.lastError ?? ''}</td>
                <td>{d.deadAt ? new Date(d.deadAt).toLocaleString() : ''}</td>
                <td><button type="button" aria-label={`REDRIVE ${d.id}`} onClick={() => redrive(d.id)}>REDRIVE</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
