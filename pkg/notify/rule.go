package notify

import (
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Source says who manages a rule.
type Source string

// Rule sources.
const (
	SourceUser   Source = "user"   // created and edited by administrators through /v1/rules
	SourcePolicy Source = "policy" // carried by a policy, edited through /v1/policies/{id}/notification
)

// MaxRuleName is the longest rule name, in characters.
const MaxRuleName = 128

// MaxRecipients bounds each recipient list of a rule.
const MaxRecipients = 500

// Recipients are whom a rule notifies.
type Recipients struct {
	Users         []string `json:"users"`
	Groups        []string `json:"groups"`
	Emails        []string `json:"emails"`
	SlackChannels []string `json:"slackChannels"`
	Webhooks      []string `json:"webhooks"` // ids of connected webhooks
	// UserChannels says how users and group members are reached: by
	// email, by Slack direct message (the Slack user found by their
	// email), or both. Empty: email.
	UserChannels []Channel `json:"userChannels,omitempty"`
}

// UserChannelsOf returns the channels users are reached on (email when
// none is named).
func (r Recipients) UserChannelsOf() []Channel {
	if len(r.UserChannels) == 0 {
		return []Channel{ChannelEmail}
	}
	return r.UserChannels
}

// Empty reports whether no recipient is named.
func (r Recipients) Empty() bool {
	return len(r.Users)+len(r.Groups)+len(r.Emails)+len(r.SlackChannels)+len(r.Webhooks) == 0
}

// Normalize makes nil lists empty, so JSON shows [] rather than null.
func (r *Recipients) Normalize() {
	for _, l := range []*[]string{&r.Users, &r.Groups, &r.Emails, &r.SlackChannels, &r.Webhooks} {
		if *l == nil {
			*l = []string{}
		}
	}
}

// Policy is the part of a policy rule that names the policy and when it fires.
type Policy struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	OnSuccess bool   `json:"onSuccess"`
	OnFailure bool   `json:"onFailure"`
}

// Rule says which events reach which recipients.
//
// A policy rule (Source == SourcePolicy) fires on JOB events whose PolicyID
// is Policy.ID and whose Status is SUCCEEDED (if OnSuccess) or FAILED (if
// OnFailure), whatever their severity.
type Rule struct {
	ID         string      `json:"id"`
	Name       string      `json:"name"`
	Enabled    bool        `json:"enabled"`
	EventTypes []EventType `json:"eventTypes"`
	Severities []Severity  `json:"severities"`
	Recipients Recipients  `json:"recipients"`
	Source     Source      `json:"source"`
	Policy     *Policy     `json:"policy,omitempty"`
	// Digest, if set with a window, folds the events after the first in
	// each window into one message per recipient.
	Digest *DigestPolicy `json:"digest,omitempty"`
	// QuietHours, if set, holds the events of its window and delivers
	// them as one digest when it ends.
	QuietHours *QuietHours `json:"quietHours,omitempty"`
	// Template, if set, renders the subject and text of this rule's
	// notifications.
	Template  *Template `json:"template,omitempty"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// PolicyRuleID is the id of the rule that policy policyID carries.
func PolicyRuleID(policyID string) string { return "policy:" + policyID }

// ValidSlackChannel reports whether s looks like a Slack channel id (C… or
// G…, upper-case letters and digits): ^[CG][A-Z0-9]{8,20}$, checked by hand
// so that no regexp is compiled at start (a test holds the two together).
func ValidSlackChannel(s string) bool {
	if len(s) < 9 || len(s) > 21 || (s[0] != 'C' && s[0] != 'G') {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// ValidEmail reports whether s is a bare RFC 5322 addr-spec (no display
// name), at most 254 bytes, with a domain part.
func ValidEmail(s string) bool {
	if len(s) > 254 || strings.ContainsAny(s, "<> \t\r\n") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	// No domain literal (a@[127.0.0.1]): mail goes to a domain, not to
	// an address a rule's author picked.
	return at > 0 && at < len(s)-1 && s[at+1] != '['
}

// Validate checks what can be checked of a rule on its own: name, types,
// severities and the form of each recipient. Whether the name is unique and
// the users and groups exist is checked against the store.
func (r *Rule) Validate() error {
	var v validator
	name := strings.TrimSpace(r.Name)
	if n := utf8.RuneCountInString(name); n == 0 || n > MaxRuleName || name != r.Name {
		v.add("name", "must be 1-%d characters without leading or trailing space", MaxRuleName)
	} else if p := NameProblem(r.Name); p != "" {
		v.add("name", "%s", p)
	}
	if r.Source != SourceUser && r.Source != SourcePolicy {
		v.add("source", "must be user or policy")
	}
	if r.Source == SourcePolicy {
		switch {
		case r.Policy == nil:
			v.add("policy", "is required for a policy rule")
		default:
			if !ValidID(r.Policy.ID) {
				v.add("policy.id", "is not a valid id")
			}
			// Optional; when given, a name like any other.
			if pn := r.Policy.Name; pn != "" {
				if n := utf8.RuneCountInString(pn); n > MaxRuleName || strings.TrimSpace(pn) != pn || strings.TrimSpace(pn) == "" {
					v.add("policy.name", "must be 1-%d characters without leading or trailing space", MaxRuleName)
				} else if p := NameProblem(pn); p != "" {
					v.add("policy.name", "%s", p)
				}
			}
			if !r.Policy.OnSuccess && !r.Policy.OnFailure {
				v.add("policy", "onSuccess, onFailure or both must be true")
			}
		}
	} else if r.Policy != nil {
		v.add("policy", "is only allowed on policy rules")
	}
	if len(r.EventTypes) == 0 {
		v.add("eventTypes", "must name at least one event type")
	}
	for i, t := range r.EventTypes {
		if !t.Valid() {
			v.add(index("eventTypes", i), "%s", notOneOf(t, EventTypes))
		} else if slices.Index(r.EventTypes, t) != i {
			v.add(index("eventTypes", i), "%q is repeated", t)
		}
	}
	if len(r.Severities) == 0 {
		v.add("severities", "must name at least one severity")
	}
	for i, s := range r.Severities {
		if !s.Valid() {
			v.add(index("severities", i), "%s", notOneOf(s, Severities))
		} else if slices.Index(r.Severities, s) != i {
			v.add(index("severities", i), "%q is repeated", s)
		}
	}
	if r.Digest != nil && (r.Digest.WindowSeconds < 0 || r.Digest.WindowSeconds > MaxDigestWindow) {
		v.add("digest.windowSeconds", "must be 0 (off) to %d", MaxDigestWindow)
	}
	if r.QuietHours != nil {
		r.QuietHours.validate(&v)
	}
	if r.Template != nil {
		r.Template.validate(&v)
	}
	rc := r.Recipients
	if rc.Empty() {
		v.add("recipients", "must name at least one user, group, email, Slack channel or webhook")
	}
	checkList(&v, "recipients.users", rc.Users, ValidID, "is not a valid user id")
	checkList(&v, "recipients.groups", rc.Groups, ValidID, "is not a valid group id")
	checkList(&v, "recipients.emails", rc.Emails, ValidEmail, "is not a valid email address")
	checkList(&v, "recipients.slackChannels", rc.SlackChannels, ValidSlackChannel, "is not a Slack channel id (like C0123456789)")
	checkList(&v, "recipients.webhooks", rc.Webhooks, ValidID, "is not a valid webhook id")
	for i, c := range rc.UserChannels {
		switch {
		case c != ChannelEmail && c != ChannelSlack:
			v.add(index("recipients.userChannels", i), "%q is not email or slack", c)
		case slices.Index(rc.UserChannels, c) != i:
			v.add(index("recipients.userChannels", i), "%q is repeated", c)
		}
	}
	return v.err()
}

func checkList(v *validator, field string, l []string, ok func(string) bool, msg string) {
	if len(l) > MaxRecipients {
		v.add(field, "must have at most %d entries", MaxRecipients)
		return
	}
	for i, s := range l {
		switch {
		case !ok(s):
			v.add(index(field, i), "%q %s", s, msg)
		case slices.Index(l, s) != i:
			v.add(index(field, i), "%q is repeated", s)
		}
	}
}

func index(field string, i int) string { return field + "[" + strconv.Itoa(i) + "]" }

// References reports whether the rule names user or group id.
func (r *Rule) References(kind, id string) bool {
	switch kind {
	case "user":
		return slices.Contains(r.Recipients.Users, id)
	case "group":
		return slices.Contains(r.Recipients.Groups, id)
	}
	return false
}
