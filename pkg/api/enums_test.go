package api

import (
	"reflect"
	"strings"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// TestEnumsFollowTheDomain checks that every enum of the API's schema is
// the domain's list: the domain owns the values, the API only repeats them
// in struct tags (which must be constants), and this test keeps them equal.
func TestEnumsFollowTheDomain(t *testing.T) {
	join := func(vs any) string {
		v := reflect.ValueOf(vs)
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = v.Index(i).String()
		}
		return strings.Join(parts, ",")
	}
	var channels []string
	for _, c := range []notify.Channel{notify.ChannelEmail, notify.ChannelSlack, notify.ChannelWebhook} {
		channels = append(channels, string(c))
	}
	tests := []struct {
		typ   any
		field string
		want  string
	}{
		{Event{}, "Type", join(notify.EventTypes)},
		{Event{}, "Severity", join(notify.Severities)},
		{Event{}, "Status", join(notify.JobStatuses)},
		{Rule{}, "EventTypes", join(notify.EventTypes)},
		{Rule{}, "Severities", join(notify.Severities)},
		{User{}, "Role", join(notify.Roles)},
		{Delivery{}, "Channel", strings.Join(channels, ",")},
	}
	for _, tt := range tests {
		f, ok := reflect.TypeOf(tt.typ).FieldByName(tt.field)
		if !ok {
			t.Errorf("%T has no field %s", tt.typ, tt.field)
			continue
		}
		if got := f.Tag.Get("enum"); got != tt.want {
			t.Errorf("%T.%s enum %q, want the domain's %q", tt.typ, tt.field, got, tt.want)
		}
	}
}

// TestEventShapeFollowsTheDomain checks that the API's Event (which exists
// for its documentation tags) has exactly notify.Event's JSON fields.
func TestEventShapeFollowsTheDomain(t *testing.T) {
	names := func(typ reflect.Type) []string {
		var out []string
		for i := range typ.NumField() {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			out = append(out, name)
		}
		return out
	}
	got, want := names(reflect.TypeOf(Event{})), names(reflect.TypeOf(notify.Event{}))
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("api.Event JSON fields %v, want notify.Event's %v", got, want)
	}
}
