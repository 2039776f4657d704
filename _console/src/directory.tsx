// Directory: the users and groups rules name (read-only here; it is kept
// by the organization's directory sync or the API).
import { useEffect, useState } from 'preact/hooks';
import { api, message, must, type Schemas } from './api';
import { ErrorBox } from './ui';

export function DirectoryScreen() {
  const [dir, setDir] = useState<Schemas['Directory'] | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    api.GET('/v1/directory').then((r) => setDir(must(r)), (e) => setError(message(e)));
  }, []);
  const users = dir?.users ?? [];
  const name = (id: string) => users.find((u) => u.id === id)?.name ?? id;
  return (
    <section aria-labelledby="dir-h">
      <h1 id="dir-h">Directory</h1>
      <p>Read-only here: the directory is kept by your organization's sync (PUT /v1/directory) or the API.</p>
      <ErrorBox error={error} />
      <h2 id="dir-users">Users</h2>
      {dir && users.length === 0 && <p>No users.</p>}
      {users.length > 0 && (
        <table aria-labelledby="dir-users">
          <thead><tr><th scope="col">Name</th><th scope="col">Id</th><th scope="col">Email</th><th scope="col">Role</th></tr></thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id}><th scope="row">{u.name}</th><td>{u.id}</td><td>{u.email}</td><td><span class={`role role-${u.role}`}>{u.role}</span></td></tr>
            ))}
          </tbody>
        </table>
      )}
      <h2 id="dir-groups">Groups</h2>
      {dir && (dir.groups ?? []).length === 0 && <p>No groups.</p>}
      {(dir?.groups ?? []).length > 0 && (
        <table aria-labelledby="dir-groups">
          <thead><tr><th scope="col">Name</th><th scope="col">Id</th><th scope="col">Members</th></tr></thead>
          <tbody>
            {(dir?.groups ?? []).map((g) => (
              <tr key={g.id}><th scope="row">{g.name}</th><td>{g.id}</td><td>{(g.members ?? []).map(name).join(', ') || '—'}</td></tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
