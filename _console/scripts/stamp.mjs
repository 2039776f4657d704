// stamp.mjs records, after a build, the SHA-256 of the console's sources
// and of the built files in pkg/console/build.sha256. A Go test
// (pkg/console) recomputes both, without Node.js, and fails when the
// committed build is stale or edited by hand. Keep the algorithm in step
// with pkg/console/stamp_test.go.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));

// Source files: the console's own, and the OpenAPI document its types come from.
export const sourceRoots = ['_console/index.html', '_console/package.json', '_console/package-lock.json',
  '_console/tsconfig.json', '_console/vite.config.ts', '_console/src', 'pkg/api/testdata/openapi.json'];
const generated = new Set(['_console/src/openapi.d.ts']);

function files(root) {
  const abs = join(repo, root);
  if (statSync(abs).isFile()) return [root];
  return readdirSync(abs, { withFileTypes: true }).flatMap((e) =>
    files(relative(repo, join(abs, e.name)).split('\\').join('/')));
}

// digest: sha256 over "<path>\0<sha256 of content>\n" for every file, sorted by path.
function digest(list, strip = '') {
  const h = createHash('sha256');
  for (const f of [...list].sort()) {
    const sum = createHash('sha256').update(readFileSync(join(repo, f))).digest('hex');
    h.update(`${f.slice(strip.length)}\0${sum}\n`);
  }
  return h.digest('hex');
}

const sources = sourceRoots.flatMap(files).filter((f) => !generated.has(f));
const dist = files('pkg/console/dist');
const out = `sources ${digest(sources)}\ndist ${digest(dist, 'pkg/console/dist/')}\n`;
writeFileSync(join(repo, 'pkg/console/build.sha256'), out);
process.stdout.write(`pkg/console/build.sha256:\n${out}`);
