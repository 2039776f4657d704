package local_test

import (
	"bytes"
	"net/mail"
	"strings"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/dispatch"
	"github.com/argoproj-labs/argo-notify/pkg/send/smtp/smtptest"
)

// TestFaultSMTPDiesMidData: the SMTP server dies during DATA, after the
// whole message was sent and before its final reply, on the first attempt.
// The client cannot tell whether the server kept the message, so the
// retry is noted as a possible duplicate either way. Server died before
// keeping it: one mail. Server kept it and died before its 250 reached us:
// two mails with one Message-ID (a mail client folds them). The history
// says sent in both cases, never failed.
func TestFaultSMTPDiesMidData(t *testing.T) {
	tests := []struct {
		name      string
		fault     error
		wantMails int
		wantNote  string
	}{
		{name: "before the final 250", fault: smtptest.ErrDropBeforeReply, wantMails: 1, wantNote: dispatch.PossibleDuplicateNote},
		{name: "after accepting, before the 250 arrives", fault: smtptest.ErrAcceptThenDrop, wantMails: 2, wantNote: dispatch.PossibleDuplicateNote},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newFaultRig(t, false)
			r.smtp.SetDataReply(func(n int) error {
				if n == 1 {
					return tc.fault
				}
				return nil
			})
			r.s.mustPost(t, event("d-1", "JOB", "CRITICAL"))
			d := r.finalDelivery(t, "d-1")
			if d.Status != "sent" || d.Attempts != 2 || !strings.HasPrefix(d.Note, tc.wantNote) {
				t.Errorf("delivery: %s after %d attempts, note %q (%s); want sent after 2, note %q", d.Status, d.Attempts, d.Note, d.LastError, tc.wantNote)
			}
			msgs := r.smtp.Messages()
			if len(msgs) != tc.wantMails {
				t.Fatalf("%d mails arrived, want %d", len(msgs), tc.wantMails)
			}
			ids := map[string]bool{}
			for _, m := range msgs {
				pm, err := mail.ReadMessage(bytes.NewReader(m.Data))
				if err != nil {
					t.Fatal(err)
				}
				ids[pm.Header.Get("Message-ID")] = true
			}
			if len(ids) != 1 {
				t.Errorf("Message-IDs %v, want one for every copy", ids)
			}
			t.Logf("FIGURE SMTP dies mid-DATA %s: 1 event, lost 0, %d mail(s) arrived (duplicates %d, same Message-ID), history: %s after %d attempts, note %q",
				tc.name, len(msgs), len(msgs)-1, d.Status, d.Attempts, d.Note)
		})
	}
}
