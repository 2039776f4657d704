package ingest_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/argoproj-labs/argo-notify/pkg/ingest"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// counter returns an id function that yields gen-1, gen-2, …
func counter() func() string {
	n := 0
	return func() string { n++; return fmt.Sprintf("gen-%d", n) }
}

const okEvent = `{"type":"SYSTEM","severity":"INFO","title":"hello"}`

func TestDecodeAccepts(t *testing.T) {
	occurred := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		body string
		want []notify.Event
	}{
		{
			name: "one object, id generated",
			body: okEvent,
			want: []notify.Event{{ID: "gen-1", Type: notify.TypeSystem, Severity: notify.SeverityInfo, Title: "hello", ReceivedAt: now}},
		},
		{
			name: "every field, id kept, receivedAt replaced",
			body: `{"id":"evt-1","type":"JOB","severity":"CRITICAL","title":"t","message":"m","source":"s",
				"occurredAt":"2026-11-26T03:00:00+01:00","receivedAt":"2000-01-01T00:00:00Z","policyId":"p1","policyName":"P",
				"jobId":"j1","status":"FAILED","url":"https://argo.example.com/x","labels":{"a":"b"}}`,
			want: []notify.Event{{
				ID: "evt-1", Type: notify.TypeJob, Severity: notify.SeverityCritical, Title: "t", Message: "m", Source: "s",
				OccurredAt: occurred, ReceivedAt: now, PolicyID: "p1", PolicyName: "P", JobID: "j1", Status: notify.JobFailed,
				URL: "https://argo.example.com/x", Labels: map[string]string{"a": "b"},
			}},
		},
		{
			name: "array, same id twice is fine, ids generated in order",
			body: " \n[" + okEvent + `,{"id":"x","type":"JOB","severity":"WARNING","title":"a"},{"id":"x","type":"JOB","severity":"WARNING","title":"a"},` + okEvent + "]\n",
			want: []notify.Event{
				{ID: "gen-1", Type: notify.TypeSystem, Severity: notify.SeverityInfo, Title: "hello", ReceivedAt: now},
				{ID: "x", Type: notify.TypeJob, Severity: notify.SeverityWarning, Title: "a", ReceivedAt: now},
				{ID: "x", Type: notify.TypeJob, Severity: notify.SeverityWarning, Title: "a", ReceivedAt: now},
				{ID: "gen-2", Type: notify.TypeSystem, Severity: notify.SeverityInfo, Title: "hello", ReceivedAt: now},
			},
		},
		{
			name: "100 events",
			body: "[" + strings.TrimSuffix(strings.Repeat(`{"id":"a","type":"SPENDING","severity":"INFO","title":"x"},`, 100), ",") + "]",
			want: func() []notify.Event {
				evs := make([]notify.Event, 100)
				for i := range evs {
					evs[i] = notify.Event{ID: "a", Type: notify.TypeSpending, Severity: notify.SeverityInfo, Title: "x", ReceivedAt: now}
				}
				return evs
			}(),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ingest.Decode([]byte(tc.body), now, counter())
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Decode (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeNilIDFunc(t *testing.T) {
	evs, err := ingest.Decode([]byte("["+okEvent+","+okEvent+"]"), now, nil)
	if err != nil {
		t.Fatal(err)
	}
	if evs[0].ID == "" || evs[0].ID == evs[1].ID || !notify.ValidID(evs[0].ID) {
		t.Errorf("generated ids %q, %q: want two distinct valid ids", evs[0].ID, evs[1].ID)
	}
}

func TestDecodeRejects(t *testing.T) {
	type field struct{ name, contains string }
	tests := []struct {
		name   string
		body   string
		code   string
		fields []field // the fields the error must name (in order), with a fragment of each message
	}{
		{"too large", `{"title":"` + strings.Repeat("a", notify.MaxEventBody) + `"}`, notify.ETooLarge, nil},
		{"empty", "", notify.EInvalid, []field{{"body", "empty"}}},
		{"whitespace", " \n\t", notify.EInvalid, []field{{"body", "empty"}}},
		{"null", "null", notify.EInvalid, []field{{"body", "object or an array"}}},
		{"string", `"hi"`, notify.EInvalid, []field{{"body", "object or an array"}}},
		{"number", `42`, notify.EInvalid, []field{{"body", "object or an array"}}},
		{"syntax error", `{"type":`, notify.EInvalid, []field{{"body", "not valid JSON"}}},
		{"syntax error in object", `{"type" "JOB"}`, notify.EInvalid, []field{{"body", "not valid JSON"}}},
		{"trailing data", okEvent + `{}`, notify.EInvalid, []field{{"body", "after the JSON value"}}},
		{"trailing garbage after array", "[" + okEvent + "]x", notify.EInvalid, []field{{"body", "after the JSON value"}}},
		{"empty array", `[]`, notify.EInvalid, []field{{"body", "1-100 events, not 0"}}},
		{"101 events", "[" + strings.TrimSuffix(strings.Repeat(okEvent+",", 101), ",") + "]", notify.EInvalid, []field{{"body", "not 101"}}},
		{"array syntax error", "[" + okEvent + ",", notify.EInvalid, []field{{"body", "not valid JSON"}}},
		{"unknown field", `{"type":"JOB","severity":"INFO","title":"x","colour":"red"}`, notify.EInvalid, []field{{"colour", "not a known field"}}},
		{"wrong type", `{"type":5,"severity":"INFO","title":"x"}`, notify.EInvalid, []field{{"type", "must be a string"}}},
		{"labels not an object", `{"type":"JOB","severity":"INFO","title":"x","labels":["a"]}`, notify.EInvalid, []field{{"labels", "object"}}},
		{"label value not a string", `{"type":"JOB","severity":"INFO","title":"x","labels":{"a":1}}`, notify.EInvalid, []field{{"labels", "object of string values"}}},
		{"bad occurredAt", `{"type":"JOB","severity":"INFO","title":"x","occurredAt":"yesterday"}`, notify.EInvalid, []field{{"occurredAt", "RFC 3339"}}},
		{"occurredAt not a string", `{"type":"JOB","severity":"INFO","title":"x","occurredAt":12}`, notify.EInvalid, []field{{"occurredAt", "string"}}},
		{"missing everything", `{}`, notify.EInvalid, []field{{"type", ""}, {"severity", ""}, {"title", ""}}},
		{"bad type", `{"type":"JOBS","severity":"INFO","title":"x"}`, notify.EInvalid, []field{{"type", "one of"}}},
		{"bad severity", `{"type":"JOB","severity":"info","title":"x"}`, notify.EInvalid, []field{{"severity", "one of"}}},
		{"title too long", `{"type":"JOB","severity":"INFO","title":"` + strings.Repeat("é", 257) + `"}`, notify.EInvalid, []field{{"title", "1-256"}}},
		{"message too long", `{"type":"JOB","severity":"INFO","title":"x","message":"` + strings.Repeat("a", 16<<10+1) + `"}`, notify.EInvalid, []field{{"message", "16384"}}},
		{"too many labels", `{"type":"JOB","severity":"INFO","title":"x","labels":{` + manyLabels(33) + `}}`, notify.EInvalid, []field{{"labels", "32"}}},
		{"bad id", `{"id":"-x","type":"JOB","severity":"INFO","title":"x"}`, notify.EInvalid, []field{{"id", ""}}},
		{"bad status", `{"type":"JOB","severity":"INFO","title":"x","status":"DONE"}`, notify.EInvalid, []field{{"status", ""}}},
		{"bad url", `{"type":"JOB","severity":"INFO","title":"x","url":"javascript:alert(1)"}`, notify.EInvalid, []field{{"url", ""}}},
		{"array element not an object", "[" + okEvent + `,"x",null]`, notify.EInvalid, []field{{"[1]", "event object"}, {"[2]", "event object"}}},
		{"array: every bad element named with its index", "[" + okEvent + `,{"type":"JOB","severity":"LOUD","title":"x"},` + okEvent + `,{"type":"JOB","severity":"INFO","title":"x","extra":1}]`,
			notify.EInvalid, []field{{"[1].severity", "one of"}, {"[3].extra", "not a known field"}}},
		{"array: type error names index and field", `[` + okEvent + `,{"type":"JOB","severity":"INFO","title":["x"]}]`, notify.EInvalid, []field{{"[1].title", "string"}}},
		{"array of arrays", `[[` + okEvent + `]]`, notify.EInvalid, []field{{"[0]", "event object"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := ingest.Decode([]byte(tc.body), now, counter())
			if err == nil {
				t.Fatalf("Decode accepted %d events, want code %s", len(evs), tc.code)
			}
			if evs != nil {
				t.Errorf("Decode returned events with an error: %v", evs)
			}
			if got := notify.ErrorCode(err); got != tc.code {
				t.Fatalf("code = %q (%v), want %q", got, err, tc.code)
			}
			if tc.fields == nil {
				return
			}
			fe := err.(*notify.Error).Fields
			if len(fe) != len(tc.fields) {
				t.Fatalf("fields = %+v, want %d fields %+v", fe, len(tc.fields), tc.fields)
			}
			for i, f := range tc.fields {
				if fe[i].Field != f.name || !strings.Contains(fe[i].Message, f.contains) {
					t.Errorf("field %d = %+v, want field %q with message containing %q", i, fe[i], f.name, f.contains)
				}
			}
		})
	}
}

func manyLabels(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`"k%d":"v"`, i)
	}
	return strings.Join(parts, ",")
}
