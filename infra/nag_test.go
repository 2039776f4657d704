package main

import (
	"strings"
	"testing"
)

func TestAwsSolutionsChecks(t *testing.T) {
	for name, s := range map[string]*synthesized{"full": full, "lean": lean} {
		t.Run(name, func(t *testing.T) {
			if len(s.nagError) > 0 {
				t.Errorf("%d unsuppressed cdk-nag AwsSolutions errors:\n%s", len(s.nagError), strings.Join(s.nagError, "\n"))
			}
			if len(s.nagWarn) > 0 {
				t.Errorf("%d unsuppressed cdk-nag AwsSolutions warnings:\n%s", len(s.nagWarn), strings.Join(s.nagWarn, "\n"))
			}
		})
	}
}
