package notify

import (
	"slices"
	"strings"
	"testing"
)

func TestValidateWebhook(t *testing.T) {
	tests := []struct {
		name, url string
		headers   map[string]string
		fields    []string
	}{
		{"Pager", "https://hooks.example.com/x?k=v", map[string]string{"Authorization": "Bearer t"}, nil},
		{"Local", "http://127.0.0.1:9000/in", nil, nil}, // scheme and host are the channel's to refuse
		{" padded", "https://h.example.com", nil, []string{"name"}},
		{"", "https://h.example.com", nil, []string{"name"}},
		{"n", "ftp://h.example.com", nil, []string{"url"}},
		{"n", "hooks.example.com/x", nil, []string{"url"}},
		{"n", "https://user:pw@h.example.com", nil, []string{"url"}},
		{"n", "https://h.example.com/#frag", nil, []string{"url"}},
		{"n", "https://h.example.com/" + strings.Repeat("a", 2048), nil, []string{"url"}},
		{"n", "https://h.example.com", map[string]string{"idempotency-key": "x"}, []string{"headers"}},
		{"n", "https://h.example.com", map[string]string{"X-Argo-Signature": "x"}, []string{"headers"}},
		{"n", "https://h.example.com", map[string]string{"Host": "x"}, []string{"headers"}},
		{"n", "https://h.example.com", map[string]string{"Bad Name": "x"}, []string{"headers"}},
		{"n", "https://h.example.com", map[string]string{"X-Ok": "line\r\nInjected: 1"}, []string{"headers"}},
		{"n", "https://h.example.com", map[string]string{"x-team": "a", "X-Team": "b"}, []string{"headers"}},
	}
	for _, tt := range tests {
		t.Run(tt.name+" "+tt.url[:min(len(tt.url), 40)], func(t *testing.T) {
			err := ValidateWebhook(tt.name, tt.url, tt.headers)
			var got []string
			if e, ok := err.(*Error); ok {
				for _, f := range e.Fields {
					got = append(got, f.Field)
				}
			} else if err != nil {
				t.Fatalf("err %T %v", err, err)
			}
			if !slices.Equal(got, tt.fields) {
				t.Errorf("fields = %v, want %v (%v)", got, tt.fields, err)
			}
		})
	}
}

func TestRuleWebhookRecipients(t *testing.T) {
	r := validRule()
	r.Recipients = Recipients{Webhooks: []string{"whk_1"}}
	if err := r.Validate(); err != nil {
		t.Errorf("a rule naming only a webhook: %v", err)
	}
	r.Recipients = Recipients{Webhooks: []string{"whk_1", "whk_1", "bad|id"}}
	err := r.Validate()
	e, ok := err.(*Error)
	if !ok || len(e.Fields) != 2 || e.Fields[0].Field != "recipients.webhooks[1]" || e.Fields[1].Field != "recipients.webhooks[2]" {
		t.Errorf("Validate = %v, want a repeat and a bad id on recipients.webhooks", err)
	}
	var n Recipients
	n.Normalize()
	if n.Webhooks == nil || !n.Empty() {
		t.Errorf("Normalize left webhooks nil or Empty is wrong")
	}
}
