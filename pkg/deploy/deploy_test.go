package deploy_test

import (
	"go/build"
	"strings"
	"testing"
)

// TestStandardLibraryOnly keeps the package importable by infra/ without
// the service's dependencies.
func TestStandardLibraryOnly(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		if first, _, _ := strings.Cut(imp, "/"); strings.Contains(first, ".") {
			t.Errorf("deploy imports %s; it may import only the standard library", imp)
		}
	}
}
