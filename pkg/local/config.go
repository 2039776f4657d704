// Package local assembles argo-notify's local mode: configuration from the
// environment, the secrets kept in the data directory, the embedded store,
// the durable queue with the dispatcher consuming it (email to a connected
// SMTP server, else printed on the console; Slack to a connected
// workspace), the HTTP server with graceful shutdown, and the start-up
// message. The
// binary in functions/local only wires it to the process (signals, stdout,
// stderr).
//
// It may import every adapter that local mode uses; no other package
// imports it.
package local

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Environment variables of local mode. Scripts and tests rely on these names.
const (
	EnvAddr         = "ARGO_NOTIFY_ADDR"
	EnvData         = "ARGO_NOTIFY_DATA"
	EnvAdminToken   = "ARGO_NOTIFY_ADMIN_TOKEN"
	EnvIngestSecret = "ARGO_NOTIFY_INGEST_SECRET"
	EnvSlackAPIURL  = "ARGO_NOTIFY_SLACK_API_URL"
	EnvSMTPCAFile   = "ARGO_NOTIFY_SMTP_CA_FILE"
	EnvSendingLease = "ARGO_NOTIFY_SENDING_LEASE"
	EnvSlackRate    = "ARGO_NOTIFY_SLACK_RATE"
)

// Defaults of local mode.
const (
	DefaultAddr = "127.0.0.1:8080"
	DefaultData = "./.argo-notify"
)

// Files in the data directory.
const (
	StoreFile        = "argo-notify.db"
	QueueFile        = "queue.db"
	AdminTokenFile   = "admin-token"
	IngestSecretFile = "ingest-secret"
)

// Config is the configuration of local mode.
type Config struct {
	// Addr is the listen address, host:port (port 0 picks a free one).
	Addr string
	// DataDir holds the store and the generated secrets.
	DataDir string
	// AdminToken is the bearer token of the admin API; empty: generated
	// once and kept in DataDir/admin-token.
	AdminToken string
	// IngestSecret is the HMAC secret of POST /v1/events; empty:
	// generated once and kept in DataDir/ingest-secret.
	IngestSecret string
	// SlackAPIURL is the Slack Web API base (slack-go's OptionAPIURL), e.g.
	// https://slack.com/api/; empty: Slack's own.
	SlackAPIURL string
	// SMTPCAFile is a PEM file of certificates to trust, besides the
	// system's, when connecting to an SMTP server (a private CA, a test
	// server's self-signed certificate); empty: the system's only.
	SMTPCAFile string
	// SendingLease is how long a delivery left in `sending` is presumed to
	// belong to an attempt still running (a Go duration, e.g. 30s); past
	// it, an attempt that finds it sends it again, noted as a possible
	// duplicate. What a previous process left in `sending` is resent at
	// start-up regardless (this process owns the data directory).
	// 0: dispatch.DefaultSendingLease. It must exceed the longest send
	// (the SMTP timeout).
	SendingLease time.Duration
	// SlackRate is how many posts a second the dispatcher sends to one
	// Slack channel (a burst waits for its slots, and past pace.MaxWait
	// goes back on the queue until then). 0: slack.ChannelRate, Slack's
	// own limit; a Slack-compatible server with other limits, or a test
	// server, may take more.
	SlackRate float64
}

// ConfigFromEnv reads the configuration from the environment through
// getenv (os.Getenv in main), with the defaults for unset variables.
func ConfigFromEnv(getenv func(string) string) Config {
	c := Config{
		Addr:         strings.TrimSpace(getenv(EnvAddr)),
		DataDir:      strings.TrimSpace(getenv(EnvData)),
		AdminToken:   strings.TrimSpace(getenv(EnvAdminToken)),
		IngestSecret: strings.TrimSpace(getenv(EnvIngestSecret)),
		SlackAPIURL:  strings.TrimSpace(getenv(EnvSlackAPIURL)),
		SMTPCAFile:   strings.TrimSpace(getenv(EnvSMTPCAFile)),
	}
	if v := strings.TrimSpace(getenv(EnvSendingLease)); v != "" {
		// An unparsable value is kept as -1 so Validate reports it.
		c.SendingLease = -1
		if d, err := time.ParseDuration(v); err == nil {
			c.SendingLease = d
		}
	}
	if v := strings.TrimSpace(getenv(EnvSlackRate)); v != "" {
		// An unparsable value is kept as -1 so Validate reports it.
		c.SlackRate = -1
		if r, err := strconv.ParseFloat(v, 64); err == nil && r > 0 && !math.IsInf(r, 0) {
			c.SlackRate = r
		}
	}
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.DataDir == "" {
		c.DataDir = DefaultData
	}
	return c
}

// Validate checks the values that can be wrong before anything starts.
func (c Config) Validate() error {
	if c.Addr == "" || !strings.Contains(c.Addr, ":") {
		return fmt.Errorf("%s=%q: want host:port, e.g. %s", EnvAddr, c.Addr, DefaultAddr)
	}
	if c.DataDir == "" {
		return fmt.Errorf("%s is empty", EnvData)
	}
	if c.SendingLease < 0 {
		return fmt.Errorf("%s: want a positive duration such as 2m", EnvSendingLease)
	}
	if c.SlackRate < 0 {
		return fmt.Errorf("%s: want a positive number of posts a second per channel, such as 1", EnvSlackRate)
	}
	if c.SlackAPIURL != "" {
		u, err := url.Parse(c.SlackAPIURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			return fmt.Errorf("%s: want an http(s) URL like https://slack.com/api/", EnvSlackAPIURL)
		}
	}
	return nil
}

// secret is a value that either came from the environment or is kept in a
// file of the data directory.
type secret struct {
	value string
	file  string // the file it is kept in; "" if from the environment
	fresh bool   // generated by this start
}

// loadSecret returns fromEnv if set; otherwise the value kept in
// dir/name, generating and storing one (mode 0600) the first time.
func loadSecret(dir, name, fromEnv string) (secret, error) {
	if fromEnv != "" {
		return secret{value: fromEnv}, nil
	}
	path := filepath.Join(dir, name)
	b, err := os.ReadFile(path)
	switch {
	case err == nil && strings.TrimSpace(string(b)) != "":
		if err := os.Chmod(path, 0o600); err != nil {
			return secret{}, fmt.Errorf("restrict %s to 0600: %w", path, err)
		}
		return secret{value: strings.TrimSpace(string(b)), file: path}, nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return secret{}, fmt.Errorf("read %s: %w", path, err)
	}
	v := rand.Text() // 26 base32 characters, 130 random bits
	if err := writeFile0600(path, []byte(v+"\n")); err != nil {
		return secret{}, err
	}
	return secret{value: v, file: path, fresh: true}, nil
}

// writeFile0600 writes a file readable by its owner only, atomically, so a
// crash never leaves an empty secret behind.
func writeFile0600(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("restrict %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("install %s: %w", path, err)
	}
	return nil
}
