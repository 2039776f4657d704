package admin

import (
	"go/build"
	"strings"
	"testing"
)

// TestImports holds the line the package comment draws: the standard
// library (but not net/http) and, of this module, the domain and the
// store interfaces only.
func TestImports(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	const module = "github.com/argoproj-labs/argo-notify/"
	allowed := map[string]bool{module + "pkg/notify": true, module + "pkg/store": true}
	for _, imp := range pkg.Imports {
		first, _, _ := strings.Cut(imp, "/")
		stdlib := !strings.Contains(first, ".")
		switch {
		case allowed[imp]:
		case stdlib && !strings.HasPrefix(imp, "net"):
		default:
			t.Errorf("pkg/admin imports %s", imp)
		}
	}
}
