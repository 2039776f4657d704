package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/queue"
	"github.com/argoproj-labs/argo-notify/pkg/send"
)

// The hold stage sits between planning and sending: for each (channel,
// recipient) of an event it decides send-now, hold, or fold.
//
// Digests. A recipient reached only through rules with a digest window is
// folded: the delivery's claim names the digest of the window it fell in
// (notify.DigestID: one per rule, recipient and aligned window). The
// digest is itself a delivery, claimed held with a dueAt at the window's
// end; the event whose claim created it opened the window and is sent at
// once, and schedules the digest (a queue message that becomes visible at
// dueAt). Every later event in the window is folded into the held digest
// with a versioned update (so concurrent folds serialize, and a fold
// after the digest has left `held` fails and the event is sent on its
// own: nothing is lost at the window's edge) and its own delivery is
// recorded held, due with the digest. When the digest is due its delivery
// goes through the same claim → sending → final path as any other, so it
// is sent once and resent only after an interrupted attempt; then the
// events folded into it are recorded with its outcome.

// Notes recorded by the hold stage.
const (
	foldedNote      = "folded into digest "
	inDigestNote    = "sent in digest "
	emptyDigestNote = "no further event in the window: nothing to digest"
)

// maxFoldTurns bounds the versioned updates one fold tries before it asks
// the queue to redeliver the event.
const maxFoldTurns = 100

// dueMessage is the body of the queue message that releases a held
// delivery at its due time.
type dueMessage struct {
	Due string `json:"dueDelivery"`
}

// dueID returns the delivery a due message releases ("" when m is not one).
func dueID(m queue.Message) string {
	var b dueMessage
	if json.Unmarshal(m.Body, &b) != nil {
		return ""
	}
	return b.Due
}

// holdPlan is what the hold stage does with one (channel, recipient) of
// an event: fold it into the digest id, due at end.
type holdPlan struct {
	rule       *notify.Rule
	id         string
	start, end time.Time
	// quiet: the rule's quiet hours hold every event of the window (none
	// goes out at once); otherwise a digest window, whose first event
	// goes out at once.
	quiet bool
}

// planHold decides, for recipient r of ev at now, between send-now (nil)
// and a hold. When several rules reach r: if any of them would send ev now
// (no quiet hours holding it, and no digest), it is sent now — that rule
// asks for it; else quiet hours win over digests (nothing is sent in a
// quiet window), the quiet window that ends first, then the shortest
// digest window; ties go to the lowest rule id.
func planHold(ev *notify.Event, r Recipient, rules map[string]*notify.Rule, now time.Time) *holdPlan {
	if r.Skip != "" {
		return nil
	}
	var quiet, digest *holdPlan
	for _, ref := range r.Rules {
		rule := rules[ref.ID]
		if rule == nil {
			return nil
		}
		if start, end, held := rule.QuietHours.Holds(ev, now); held {
			if quiet == nil || end.Before(quiet.end) || (end.Equal(quiet.end) && rule.ID < quiet.rule.ID) {
				quiet = &holdPlan{rule: rule, id: notify.QuietID(rule.ID, start, r.Channel, r.Recipient), start: start, end: end, quiet: true}
			}
			continue
		}
		if !rule.Digest.Enabled() {
			return nil
		}
		w := rule.Digest.WindowSeconds
		if digest == nil || w < digest.rule.Digest.WindowSeconds || (w == digest.rule.Digest.WindowSeconds && rule.ID < digest.rule.ID) {
			start, end := rule.Digest.Window(now)
			digest = &holdPlan{rule: rule, id: notify.DigestID(rule.ID, start, r.Channel, r.Recipient), start: start, end: end}
		}
	}
	if quiet != nil {
		return quiet
	}
	return digest
}

// schedule enqueues the message that releases the held delivery del at
// its due time.
func (d *Dispatcher) schedule(ctx context.Context, del *notify.Delivery) error {
	if d.cfg.Scheduler == nil {
		return errors.New("no scheduler: held deliveries cannot be released")
	}
	body, err := json.Marshal(dueMessage{Due: del.ID})
	if err != nil {
		return err
	}
	m := queue.Message{Body: body, NotBefore: *del.DueAt}
	if err := d.cfg.Scheduler.Send(ctx, []queue.Message{m}); err != nil {
		return fmt.Errorf("schedule delivery %s: %w", del.ID, err)
	}
	return nil
}

// hold runs the hold stage for a claimed, never attempted delivery cur:
// held reports that it was folded into a digest (nothing to send now).
func (d *Dispatcher) hold(ctx context.Context, ev *notify.Event, r Recipient, hp *holdPlan, cur *notify.Delivery) (held bool, rt *retry) {
	if hp == nil || cur.DigestID == "" || cur.DueAt == nil {
		return false, nil
	}
	now := d.cfg.Now()
	due := *cur.DueAt
	rule, start, first := hp.rule, hp.start, ev.ID
	if hp.id != cur.DigestID { // decided by an earlier attempt
		start = cur.CreatedAt
	}
	if strings.HasPrefix(cur.DigestID, "quiet:") {
		first = "" // quiet hours: nothing goes out at once
	}
	digestEvent, _, _ := strings.Cut(cur.DigestID, "|")
	claim := &notify.Delivery{
		ID: cur.DigestID, EventID: digestEvent, Channel: r.Channel, Recipient: r.Recipient, RuleIDs: []string{rule.ID},
		Status: notify.DeliveryHeld, Version: 1, CreatedAt: now, UpdatedAt: now, DueAt: &due,
		Digest: &notify.Digest{
			RuleID: rule.ID, RuleName: rule.Name, WindowStart: start, WindowEnd: due, Opener: ev.ID, First: first,
			Counts: []notify.DigestCount{}, Recent: []notify.Event{}, EventIDs: []string{},
		},
	}
	dg, _, err := d.cfg.Deliveries.ClaimDelivery(ctx, claim)
	if err != nil {
		return false, &retry{err: fmt.Errorf("claim digest %s: %w", claim.ID, err)}
	}
	if dg.Digest != nil && dg.Digest.Opener == ev.ID {
		// This event opened the window: the digest is scheduled (again,
		// if a crash interrupted the first try: a duplicate due message
		// finds the digest final and does nothing), and, unless quiet
		// hours hold it too, the event goes out now.
		if dg.Status == notify.DeliveryHeld {
			if err := d.schedule(ctx, dg); err != nil {
				return false, &retry{err: err}
			}
		}
		if dg.Digest != nil && dg.Digest.First == ev.ID {
			return false, nil
		}
	}
	for turn := 0; ; turn++ {
		if dg.Digest == nil {
			return false, nil
		}
		if dg.Digest.Has(ev.ID) {
			break
		}
		if dg.Status != notify.DeliveryHeld {
			return false, nil // the window is closed: send this one on its own
		}
		if turn == maxFoldTurns {
			return false, &retry{err: fmt.Errorf("fold into digest %s: changed by other attempts too often", dg.ID)}
		}
		next := *dg
		g := *dg.Digest
		g.Counts, g.Recent, g.EventIDs = slices.Clone(g.Counts), slices.Clone(g.Recent), slices.Clone(g.EventIDs)
		g.Fold(ev)
		next.Digest = &g
		err := d.update(ctx, &next, d.cfg.Now())
		if err == nil {
			dg = &next
			break
		}
		if !notify.IsCode(err, notify.EStale) {
			return false, &retry{err: err}
		}
		// Back off a little, at random, so concurrent folds spread out.
		time.Sleep(time.Duration(rand.IntN(1+min(turn, 10))) * time.Millisecond)
		if dg, err = d.cfg.Deliveries.GetDelivery(ctx, dg.ID); err != nil {
			return false, &retry{err: fmt.Errorf("reread digest %s: %w", claim.ID, err)}
		}
	}
	next := *cur
	switch dg.Status {
	case notify.DeliveryHeld, notify.DeliveryQueued, notify.DeliverySending:
		next.Status, next.Note, next.DueAt = notify.DeliveryHeld, foldedNote+dg.ID, dg.DueAt
	default: // folded before a crash; the digest has gone out since
		copyOutcome(&next, dg)
	}
	if err := d.update(ctx, &next, d.cfg.Now()); err != nil {
		return false, &retry{err: err} // EStale: the redelivery sees the winner
	}
	d.logOutcome(ctx, ev, r, &next, 0)
	return true, nil
}

// copyOutcome records on a folded delivery the outcome of its digest dg.
func copyOutcome(next, dg *notify.Delivery) {
	next.Status = dg.Status
	next.Provider, next.ProviderMessageID, next.SentAt = dg.Provider, dg.ProviderMessageID, dg.SentAt
	next.LastError = dg.LastError
	next.Note = inDigestNote + dg.ID
	if dg.Status == notify.DeliverySkipped {
		next.Note = dg.Note
	}
}

// handleDue releases the held digest delivery id once it is due: sends it
// (or skips it when nothing was folded), then records its outcome on the
// deliveries folded into it.
func (d *Dispatcher) handleDue(ctx context.Context, id string, last bool) error {
	cur, err := d.cfg.Deliveries.GetDelivery(ctx, id)
	if notify.IsCode(err, notify.ENotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("due delivery %s: %w", id, err)
	}
	if cur.Digest == nil {
		return nil // only digests are scheduled
	}
	r := Recipient{
		Channel: cur.Channel, Recipient: cur.Recipient, Via: []string{"digest"},
		Rules: []send.RuleRef{{ID: cur.Digest.RuleID, Name: cur.Digest.RuleName}},
	}
	if cur.Status == notify.DeliveryHeld {
		now := d.cfg.Now()
		if cur.DueAt != nil && now.Before(*cur.DueAt) {
			// Early: SQS delays at most 15 minutes; ask for the rest.
			return &queue.RetryError{After: cur.DueAt.Sub(now), Err: fmt.Errorf("delivery %s is held until %s", id, cur.DueAt.Format(time.RFC3339))}
		}
		next := *cur
		next.Status = notify.DeliveryQueued
		if cur.Digest.Total() == 0 {
			next.Status, next.Note = notify.DeliverySkipped, emptyDigestNote
		}
		// Leaving `held` closes the digest to folds (they are versioned).
		if err := d.update(ctx, &next, now); err != nil {
			return err // EStale: a fold got in first; the retry sees it
		}
		if next.Status.Final() {
			d.logOutcome(ctx, cur.Digest.Event(id), r, &next, 0)
			return nil
		}
		cur = &next
	}
	if rt := d.settle(ctx, cur.Digest.Event(id), r, cur, d.cfg.Now(), last); rt != nil {
		if rt.after > 0 {
			return &queue.RetryError{After: rt.after, Err: rt.err}
		}
		return rt.err
	}
	return d.settleFolded(ctx, id)
}

// settleFolded records the outcome of the final digest id on every event
// delivery still held for it.
func (d *Dispatcher) settleFolded(ctx context.Context, id string) error {
	dg, err := d.cfg.Deliveries.GetDelivery(ctx, id)
	if err != nil {
		return fmt.Errorf("reread digest %s: %w", id, err)
	}
	if !dg.Status.Final() || dg.Digest == nil {
		return nil
	}
	var errs []error
	for _, eid := range dg.Digest.EventIDs {
		did := notify.DeliveryID(eid, dg.Channel, dg.Recipient)
		cur, err := d.cfg.Deliveries.GetDelivery(ctx, did)
		if notify.IsCode(err, notify.ENotFound) {
			continue // folded, then crashed before its claim was read back
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if cur.Status != notify.DeliveryHeld || cur.DigestID != id {
			continue
		}
		next := *cur
		copyOutcome(&next, dg)
		if err := d.update(ctx, &next, d.cfg.Now()); err != nil && !notify.IsCode(err, notify.EStale) {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("record the outcome of digest %s on %d folded deliveries: %w", id, len(errs), errors.Join(errs...))
	}
	return nil
}

// templated is ev as r gets it: rendered with the template of the rule
// that reaches r with the lowest id among those that have one (an order
// that does not depend on how rules are stored or matched); ev itself
// when none has one, or when it fails on this event (logged). rendered is
// the plan's renderings by rule id (Plan.byRule).
func (d *Dispatcher) templated(ctx context.Context, ev *notify.Event, r Recipient, rules map[string]*notify.Rule, rendered map[string]RenderedRule) *notify.Event {
	var pick *notify.Rule
	for _, ref := range r.Rules {
		if rule := rules[ref.ID]; rule != nil && rule.Template != nil && (pick == nil || rule.ID < pick.ID) {
			pick = rule
		}
	}
	if pick == nil {
		return ev
	}
	out := rendered[pick.ID] // the plan rendered every matched rule's template
	if out.Error != "" {
		d.log.WarnContext(ctx, "dispatch: a rule's template failed on this event; the default rendering is used", "event_id", ev.ID, "rule_id", pick.ID, "err", out.Error)
		return ev
	}
	return out.Apply(ev, r.Channel)
}
