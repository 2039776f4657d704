package store

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// Kinds of directory entries a rule names, as Rule.References takes them.
const (
	RefUser  = "user"
	RefGroup = "group"
)

// MissingRef is a user or group a rule names that does not exist: Kind is
// RefUser or RefGroup, Index its place in the rule's list.
type MissingRef struct {
	Kind  string
	Index int
	ID    string
}

// UnknownRecipients is the EInvalid error every store returns from
// CreateRule and UpdateRule when the rule names users or groups that do not
// exist: one field per missing entry (recipients.users[i],
// recipients.groups[i]), sorted by field, with the message the API has
// always given ("carol" is not a known user id).
func UnknownRecipients(missing []MissingRef) error {
	if len(missing) == 0 {
		return nil
	}
	fields := make([]notify.FieldError, 0, len(missing))
	for _, m := range missing {
		list := "recipients.users"
		if m.Kind == RefGroup {
			list = "recipients.groups"
		}
		fields = append(fields, notify.FieldError{
			Field:   list + "[" + strconv.Itoa(m.Index) + "]",
			Message: strconv.Quote(m.ID) + " is not a known " + m.Kind + " id",
		})
	}
	sort.SliceStable(fields, func(i, j int) bool { return fields[i].Field < fields[j].Field })
	msg := "validation failed"
	if len(fields) == 1 {
		msg = fields[0].Field + ": " + fields[0].Message
	}
	return &notify.Error{Code: notify.EInvalid, Message: msg, Fields: fields}
}

// RuleRefs lists the users and groups r names, each with its index.
func RuleRefs(r *notify.Rule) []MissingRef {
	out := make([]MissingRef, 0, len(r.Recipients.Users)+len(r.Recipients.Groups))
	for i, id := range r.Recipients.Users {
		out = append(out, MissingRef{Kind: RefUser, Index: i, ID: id})
	}
	for i, id := range r.Recipients.Groups {
		out = append(out, MissingRef{Kind: RefGroup, Index: i, ID: id})
	}
	return out
}

// InUse is the EInUse error for a user or group (kind RefUser or RefGroup)
// that rules still name; refs are their ids.
func InUse(kind, id string, refs []string) error {
	return &notify.Error{Code: notify.EInUse,
		Message: fmt.Sprintf("%s %q is named by %d rule(s): %s", kind, id, len(refs), strings.Join(refs, ", ")),
		Refs:    refs}
}
