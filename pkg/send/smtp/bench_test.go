package smtp_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	gsmtp "github.com/wneessen/go-mail/smtp"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/send/smtp"
	"github.com/argoproj-labs/argo-notify/pkg/send/smtp/smtptest"
)

// benchParallelism × GOMAXPROCS goroutines send at once: 8 on 2 cores, the
// pool's default size.
const benchParallelism = 4

// BenchmarkPeerRaw is the reference the Sender benchmarks compare to: what
// the in-process SMTP peer absorbs from a bare client that keeps one
// session per goroutine (STARTTLS and AUTH once) and sends a prebuilt
// message, with no rendering and no pool.
func BenchmarkPeerRaw(b *testing.B) {
	srv := smtptest.NewServer(b)
	msg := []byte("From: argo@example.com\r\nTo: ops@example.com\r\nSubject: raw\r\n\r\n" +
		"Backup failed: exit code 3\r\n")
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c, err := gsmtp.Dial(net.JoinHostPort(srv.Host, strconv.Itoa(srv.Port)))
		if err != nil {
			b.Error(err)
			return
		}
		defer func() { _ = c.Quit() }()
		if err := c.Hello("bench"); err != nil {
			b.Error(err)
			return
		}
		if err := c.StartTLS(&tls.Config{RootCAs: srv.RootCAs, ServerName: srv.Host}); err != nil {
			b.Error(err)
			return
		}
		if err := c.Auth(gsmtp.PlainAuth("", srv.Username, srv.Password, srv.Host, false)); err != nil {
			b.Error(err)
			return
		}
		for pb.Next() {
			if err := c.Mail("argo@example.com"); err != nil {
				b.Error(err)
				return
			}
			if err := c.Rcpt("ops@example.com"); err != nil {
				b.Error(err)
				return
			}
			w, err := c.Data()
			if err != nil {
				b.Error(err)
				return
			}
			if _, err := w.Write(msg); err != nil {
				b.Error(err)
				return
			}
			if err := w.Close(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkSender measures the Sender (rendering, Message-ID, STARTTLS and
// AUTH per session) against the same kind of peer, with its session pool
// and without it (one session per message, as before pooling).
func BenchmarkSender(b *testing.B) {
	for _, bc := range []struct {
		name string
		opt  smtp.Option
	}{
		{"pooled", smtp.WithPool(8, time.Minute)},
		{"unpooled", smtp.WithPool(0, 0)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			srv := smtptest.NewServer(b)
			cfg := notify.SMTP{
				ID: "smtp_1", Nickname: "bench", Host: srv.Host, Port: srv.Port, AdminAddress: "argo@example.com",
				TimeoutSeconds: 10, TLS: notify.TLSStartTLS, UseAuth: true, Username: srv.Username,
			}
			s := smtp.New(cfg, srv.Password, smtp.WithTLSConfig(srv.ClientTLSConfig()), bc.opt)
			b.Cleanup(func() { _ = s.Close() })
			var seq atomic.Int64
			b.SetParallelism(benchParallelism)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := notification(fmt.Sprintf("u%d@example.com", seq.Add(1)))
					if _, err := s.Send(context.Background(), n); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			conns := srv.SessionCount() / 2
			b.ReportMetric(float64(b.N)/float64(max(conns, 1)), "msgs/session")
		})
	}
}
