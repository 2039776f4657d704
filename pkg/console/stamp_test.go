package console

// The committed build must match its sources, as the OpenAPI golden must
// match the API: _console/scripts/stamp.mjs records, after each build, the
// SHA-256 of the sources and of the built files in build.sha256; this test
// recomputes both without Node.js. Keep the algorithm in step with
// stamp.mjs.

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// repoRoot is the repository, relative to this package's directory.
const repoRoot = "../.."

// sourceRoots are the console's sources and the OpenAPI document its
// types are generated from (as in stamp.mjs).
var sourceRoots = []string{"_console/index.html", "_console/package.json", "_console/package-lock.json",
	"_console/tsconfig.json", "_console/vite.config.ts", "_console/src", "pkg/api/testdata/openapi.json"}

// generated files are derived from a source and left out.
var generated = map[string]bool{"_console/src/openapi.d.ts": true}

// files lists the regular files under root (a file or a folder), as
// slash-separated paths relative to the repository.
func files(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join(repoRoot, root), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(repoRoot, p)
		if err != nil {
			return err
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// digest is the SHA-256 over "<path>\x00<hex SHA-256 of content>\n" for
// every file, sorted by path, with strip removed from each path.
func digest(t *testing.T, list []string, strip string) string {
	t.Helper()
	sort.Strings(list)
	h := sha256.New()
	for _, f := range list {
		data, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(h, "%s\x00%s\n", strings.TrimPrefix(f, strip), hex.EncodeToString(sum[:]))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestBuildIsFresh(t *testing.T) {
	stamp, err := os.ReadFile("build.sha256")
	if err != nil {
		t.Fatalf("read build.sha256 (written by make console-build): %v", err)
	}
	want := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(stamp)), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok {
			want[k] = v
		}
	}
	var sources []string
	for _, root := range sourceRoots {
		for _, f := range files(t, root) {
			if !generated[f] {
				sources = append(sources, f)
			}
		}
	}
	if got := digest(t, sources, ""); got != want["sources"] {
		t.Errorf("the console's sources (_console/, pkg/api/testdata/openapi.json) changed since pkg/console/dist was built: run make console-build and commit pkg/console (sources %s, built from %s)", got, want["sources"])
	}
	if got := digest(t, files(t, "pkg/console/dist"), "pkg/console/dist/"); got != want["dist"] {
		t.Errorf("pkg/console/dist differs from what make console-build wrote: run make console-build and commit pkg/console (dist %s, build wrote %s)", got, want["dist"])
	}
}
