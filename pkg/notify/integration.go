package notify

import (
	"strings"
	"time"
	"unicode/utf8"
)

// TLS modes of an SMTP connection.
const (
	TLSStartTLS = "starttls" // plain connect, then STARTTLS (required)
	TLSImplicit = "tls"      // TLS from the first byte (SMTPS, usually port 465)
	TLSNone     = "none"     // no TLS; only for servers on a trusted network
)

// DefaultSMTPPort is the SMTP submission port.
const DefaultSMTPPort = 587

// SMTP is a connected SMTP server. The password is write-only: it is kept
// behind PasswordRef (a Secrets Manager ARN on AWS, a key of the embedded
// store locally) and never returned by the API.
type SMTP struct {
	ID             string    `json:"id"`
	Nickname       string    `json:"nickname"`
	Host           string    `json:"host"`
	Port           int       `json:"port"`
	AdminAddress   string    `json:"adminAddress"`
	TimeoutSeconds int       `json:"timeoutSeconds"`
	TLS            string    `json:"tls"`
	UseAuth        bool      `json:"useAuth"`
	Username       string    `json:"username,omitempty"`
	PasswordSet    bool      `json:"passwordSet"`
	PasswordRef    string    `json:"-"`
	Version        int64     `json:"version"`
	CreatedAt      time.Time `json:"createdAt"`
	UpdatedAt      time.Time `json:"updatedAt"`
}

// Defaults fills the port, timeout and TLS mode when they are unset.
func (s *SMTP) Defaults() {
	if s.Port == 0 {
		s.Port = DefaultSMTPPort
	}
	if s.TimeoutSeconds == 0 {
		s.TimeoutSeconds = 10
	}
	if s.TLS == "" {
		s.TLS = TLSStartTLS
	}
}

// Validate checks the SMTP settings (password is validated by the caller,
// which holds it separately).
func (s *SMTP) Validate() error {
	var v validator
	if n := utf8.RuneCountInString(s.Nickname); n == 0 || n > MaxRuleName || strings.TrimSpace(s.Nickname) != s.Nickname {
		v.add("nickname", "must be 1-%d characters without leading or trailing space", MaxRuleName)
	} else if p := NameProblem(s.Nickname); p != "" {
		v.add("nickname", "%s", p)
	}
	if s.Host == "" || len(s.Host) > 253 || strings.ContainsAny(s.Host, " /:@\t\r\n") {
		v.add("host", "must be a host name or IP address")
	}
	if s.Port < 1 || s.Port > 65535 {
		v.add("port", "must be 1-65535")
	}
	if !ValidEmail(s.AdminAddress) {
		v.add("adminAddress", "%q is not a valid email address", s.AdminAddress)
	}
	if s.TimeoutSeconds < 1 || s.TimeoutSeconds > 120 {
		v.add("timeoutSeconds", "must be 1-120")
	}
	switch s.TLS {
	case TLSStartTLS, TLSImplicit, TLSNone:
	default:
		v.add("tls", "must be starttls, tls or none")
	}
	if s.UseAuth && s.Username == "" {
		v.add("username", "is required when useAuth is true")
	}
	return v.err()
}

// Slack is a connected Slack workspace. The bot token is write-only, kept
// behind TokenRef.
type Slack struct {
	TeamID    string    `json:"teamId"`
	Team      string    `json:"team"`
	TeamURL   string    `json:"teamUrl,omitempty"`
	BotUserID string    `json:"botUserId"`
	BotName   string    `json:"botName"`
	TokenRef  string    `json:"-"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}
