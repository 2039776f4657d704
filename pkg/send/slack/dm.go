package slack

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	slackapi "github.com/slack-go/slack"

	"github.com/argoproj-labs/argo-notify/pkg/send"
)

// UnknownUser is the skip reason of a direct message to an email that no
// user of the workspace has.
const UnknownUser = "no Slack user with this email in the workspace"

// users caches users.lookupByEmail: email (lower case) → user id, ""
// for an email no user has. It lives as long as its Sender, which the
// router rebuilds when the workspace changes.
type users struct {
	mu   sync.Mutex
	byEm map[string]string
}

// isEmail reports whether a Slack recipient is a user's email (a direct
// message) rather than a channel id.
func isEmail(to string) bool { return strings.Contains(to, "@") }

// userID returns the Slack user id of email, looked up once per Sender:
// a *send.Skip when no user of the workspace has it.
func (s *Sender) userID(ctx context.Context, email string) (string, error) {
	key := strings.ToLower(email)
	s.users.mu.Lock()
	id, ok := s.users.byEm[key]
	s.users.mu.Unlock()
	if !ok {
		u, err := s.api.GetUserByEmailContext(ctx, email)
		var se slackapi.SlackErrorResponse
		switch {
		case errors.As(err, &se) && se.Err == "users_not_found":
			id = ""
		case err != nil && err.Error() == "users_not_found":
			id = ""
		case err != nil:
			return "", classify(ctx, fmt.Errorf("slack: look up the user with email %s: %w", email, err))
		default:
			id = u.ID
		}
		s.users.mu.Lock()
		if s.users.byEm == nil {
			s.users.byEm = map[string]string{}
		}
		s.users.byEm[key] = id
		s.users.mu.Unlock()
	}
	if id == "" {
		return "", &send.Skip{Reason: UnknownUser}
	}
	return id, nil
}
