package notify

import (
	"slices"
	"strings"
	"testing"
)

func validRule() *Rule {
	return &Rule{
		Name:       "Critical jobs",
		Enabled:    true,
		EventTypes: []EventType{TypeJob},
		Severities: []Severity{SeverityCritical},
		Recipients: Recipients{Emails: []string{"ops@example.com"}},
		Source:     SourceUser,
	}
}

// fields returns the fields an error names, or nil for nil.
func fields(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("error %T is not *Error: %v", err, err)
	}
	if e.Code != EInvalid && e.Code != EConflict {
		t.Fatalf("code = %q, want invalid or conflict", e.Code)
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestRuleValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(r *Rule)
		want   []string // fields at fault; nil = valid
	}{
		{"valid", func(r *Rule) {}, nil},
		{"empty name", func(r *Rule) { r.Name = "" }, []string{"name"}},
		{"blank name", func(r *Rule) { r.Name = "   " }, []string{"name"}},
		{"padded name", func(r *Rule) { r.Name = " x" }, []string{"name"}},
		{"128 characters", func(r *Rule) { r.Name = strings.Repeat("é", 128) }, nil},
		{"129 characters", func(r *Rule) { r.Name = strings.Repeat("a", 129) }, []string{"name"}},
		{"no types", func(r *Rule) { r.EventTypes = nil }, []string{"eventTypes"}},
		{"unknown type", func(r *Rule) { r.EventTypes = []EventType{"JOB", "BUILD"} }, []string{"eventTypes[1]"}},
		{"repeated type", func(r *Rule) { r.EventTypes = []EventType{"JOB", "JOB"} }, []string{"eventTypes[1]"}},
		{"no severities", func(r *Rule) { r.Severities = nil }, []string{"severities"}},
		{"lower-case severity", func(r *Rule) { r.Severities = []Severity{"critical"} }, []string{"severities[0]"}},
		{"no recipients", func(r *Rule) { r.Recipients = Recipients{} }, []string{"recipients"}},
		{"bad email", func(r *Rule) { r.Recipients.Emails = []string{"ops@example.com", "not-an-address"} }, []string{"recipients.emails[1]"}},
		{"display name", func(r *Rule) { r.Recipients.Emails = []string{"Ops <ops@example.com>"} }, []string{"recipients.emails[0]"}},
		{"repeated email", func(r *Rule) { r.Recipients.Emails = []string{"a@x.io", "a@x.io"} }, []string{"recipients.emails[1]"}},
		{"slack channel name", func(r *Rule) { r.Recipients.SlackChannels = []string{"#ops"} }, []string{"recipients.slackChannels[0]"}},
		{"slack channel id", func(r *Rule) { r.Recipients.SlackChannels = []string{"C0123456789", "G0123456789"} }, nil},
		{"bad user id", func(r *Rule) { r.Recipients.Users = []string{"-x"} }, []string{"recipients.users[0]"}},
		{"several at once", func(r *Rule) { r.Name = ""; r.EventTypes = nil }, []string{"name", "eventTypes"}},
		{"policy on a user rule", func(r *Rule) { r.Policy = &Policy{ID: "p1", OnSuccess: true} }, []string{"policy"}},
		{"policy rule without policy", func(r *Rule) { r.Source = SourcePolicy }, []string{"policy"}},
		{"policy rule firing never", func(r *Rule) { r.Source = SourcePolicy; r.Policy = &Policy{ID: "p1"} }, []string{"policy"}},
		{"policy rule", func(r *Rule) { r.Source = SourcePolicy; r.Policy = &Policy{ID: "p1", OnFailure: true} }, nil},
		{"unknown source", func(r *Rule) { r.Source = "robot" }, []string{"source"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRule()
			tt.change(r)
			if got := fields(t, r.Validate()); !slices.Equal(got, tt.want) {
				t.Errorf("fields at fault = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestValidEmail(t *testing.T) {
	for s, want := range map[string]bool{
		"a@example.com":                    true,
		"first.last+tag@sub.ex.io":         true,
		`"quoted local"@example.io`:        false, // net/mail rewrites it: not a bare addr-spec as typed
		"":                                 false,
		"a@":                               false,
		"@example.com":                     false,
		"a b@example.com":                  false,
		"a@example.com\r\nBcc: x@y":        false,
		"<a@example.com>":                  false,
		strings.Repeat("a", 250) + "@x.io": false,
	} {
		if got := ValidEmail(s); got != want {
			t.Errorf("ValidEmail(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestEventValidate(t *testing.T) {
	valid := func() *Event {
		return &Event{Type: TypeJob, Severity: SeverityCritical, Title: "Job failed"}
	}
	tests := []struct {
		name   string
		change func(e *Event)
		want   []string
	}{
		{"valid", func(e *Event) {}, nil},
		{"unknown type", func(e *Event) { e.Type = "BUILD" }, []string{"type"}},
		{"unknown severity", func(e *Event) { e.Severity = "LOW" }, []string{"severity"}},
		{"no title", func(e *Event) { e.Title = "" }, []string{"title"}},
		{"256-character title", func(e *Event) { e.Title = strings.Repeat("ü", 256) }, nil},
		{"long title", func(e *Event) { e.Title = strings.Repeat("a", 257) }, []string{"title"}},
		{"16 KiB message", func(e *Event) { e.Message = strings.Repeat("a", MaxMessage) }, nil},
		{"long message", func(e *Event) { e.Message = strings.Repeat("a", MaxMessage+1) }, []string{"message"}},
		{"bad status", func(e *Event) { e.Status = "DONE" }, []string{"status"}},
		{"relative url", func(e *Event) { e.URL = "/jobs/1" }, []string{"url"}},
		{"javascript url", func(e *Event) { e.URL = "javascript:alert(1)" }, []string{"url"}},
		{"bad id", func(e *Event) { e.ID = "has space" }, []string{"id"}},
		{"33 labels", func(e *Event) {
			e.Labels = map[string]string{}
			for i := range 33 {
				e.Labels[strings.Repeat("k", i+1)] = "v"
			}
		}, []string{"labels"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := valid()
			tt.change(e)
			if got := fields(t, e.Validate()); !slices.Equal(got, tt.want) {
				t.Errorf("fields at fault = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDirectoryCheck(t *testing.T) {
	alice := User{ID: "alice", Email: "alice@example.com"}
	bob := User{ID: "bob", Email: "bob@example.com"}
	tests := []struct {
		name string
		d    Directory
		code string
		want []string
	}{
		{"valid", Directory{Users: []User{alice, bob}, Groups: []Group{{ID: "g", Name: "Ops", Members: []string{"bob"}}}}, "", nil},
		{"repeated id", Directory{Users: []User{alice, {ID: "alice", Email: "x@example.com"}}}, EConflict, []string{"users[1].id"}},
		{"repeated email in another case", Directory{Users: []User{alice, {ID: "a2", Email: "ALICE@example.com"}}}, EConflict, []string{"users[1].email"}},
		{"repeated group name", Directory{Groups: []Group{{ID: "g1", Name: "Ops"}, {ID: "g2", Name: "ops"}}}, EConflict, []string{"groups[1].name"}},
		{"unknown member", Directory{Users: []User{alice}, Groups: []Group{{ID: "g", Name: "Ops", Members: []string{"alice", "carol"}}}}, EInvalid, []string{"groups[0].members[1]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.d.Check()
			if got := ErrorCode(err); got != tt.code {
				t.Fatalf("code = %q, want %q (%v)", got, tt.code, err)
			}
			if got := fields(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("fields at fault = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDeliveryID(t *testing.T) {
	if a, b := DeliveryID("e1", ChannelEmail, "Ops@Example.com"), DeliveryID("e1", ChannelEmail, "ops@example.com"); a != b {
		t.Errorf("email delivery ids differ by case: %q, %q", a, b)
	}
	if a, b := DeliveryID("e1", ChannelSlack, "C0123456789"), DeliveryID("e2", ChannelSlack, "C0123456789"); a == b {
		t.Errorf("deliveries of two events share id %q", a)
	}
}
