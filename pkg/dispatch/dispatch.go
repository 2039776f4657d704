// Package dispatch turns an event into notifications: it matches the event
// against the rules, resolves the recipients, and sends to each (event,
// channel, recipient) at most once, recording every delivery.
//
// At least once, with duplicates bounded: each delivery is claimed in the
// store with a conditional write before anything is sent, moved to
// `sending` (a versioned, conditional update only one attempt wins) right
// before the provider is called, and to a final status after. A delivery
// found final is never sent again, so a queue that delivers the same event
// twice notifies once. A delivery found in `sending` belongs to an attempt
// that may still be running (it is left alone for Config.SendingLease) or
// that crashed between handing the message to the provider and recording
// the outcome: past the lease, or at once when it was taken before
// Config.ResumeBefore (by a process that no longer runs), it is sent again
// and recorded with PossibleDuplicateNote — a crash can duplicate the
// notifications it had in flight, never lose one. Transient failures go
// back to `queued` and the handler returns an error so the queue redelivers
// the event; on the queue's last receive they are recorded as failed.
//
// The package uses the store, queue and send contracts and pkg/match; it
// must not import their implementations.
package dispatch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/argoproj-labs/argo-notify/pkg/channel"
	"github.com/argoproj-labs/argo-notify/pkg/match"
	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/queue"
	"github.com/argoproj-labs/argo-notify/pkg/send"
	"github.com/argoproj-labs/argo-notify/pkg/store"
)

// Defaults for Config.
const (
	DefaultSendingLease = 2 * time.Minute
	DefaultConcurrency  = 8
)

// Texts recorded as LastError.
const (
	// PossibleDuplicateNote is recorded on a delivery sent again after an
	// attempt left it in `sending` (a crash between handing the message to
	// the provider and recording the outcome): the recipient may have it
	// twice. Email carries the same Message-ID and webhooks the same
	// Idempotency-Key both times, so clients can fold the two.
	PossibleDuplicateNote = "possible duplicate: resent after an interrupted attempt whose outcome is unknown"
	// interruptedPrefix starts the LastError of a resent delivery that
	// then failed: the interrupted attempt may have delivered it.
	interruptedPrefix = "an earlier interrupted attempt may have delivered it; the resend failed: "
	giveUpPrefix      = "gave up after %d attempts: "
)

// recordTimeout bounds recording an outcome after a send, which runs even
// when the handler's context is cancelled: the provider has already been
// called, and the record is what keeps it from being called twice.
const recordTimeout = 30 * time.Second

// ErrPoison marks a message that can never be handled (its body is not an
// event with an id). Handle returns it wrapped, as a plain error: the queue
// retries it like any failure and parks it as dead after
// queue.MaxReceives receives, where an operator can see it.
var ErrPoison = errors.New("poison message")

// Config is what a Dispatcher needs.
type Config struct {
	Rules      store.Rules
	Directory  store.Directory
	Deliveries store.Deliveries
	Router     send.Router
	// Channels lists the channels and which addresses of a rule each
	// serves (a *channel.Registry). Default: Router, when it is one.
	// Without either, New panics: only users and groups could be planned.
	Channels Channels
	// RuleCacheTTL is how long the rule index, and the users and groups
	// read to resolve recipients since it was built, are reused before
	// they are read again; 0 reads them for every event. A user
	// deactivated or a member removed reaches a warm dispatcher within it.
	RuleCacheTTL time.Duration
	// SendingLease is how long a delivery in `sending` is presumed to
	// belong to an attempt still running (default 2 minutes; it must
	// exceed the longest send). Past it, the attempt is taken to have
	// crashed and the delivery is sent again, noted as a possible
	// duplicate.
	SendingLease time.Duration
	// ResumeBefore, if set, says that an attempt which moved a delivery to
	// `sending` before this instant no longer runs, whatever the lease:
	// local mode sets it to the process's start, as one process owns the
	// data directory, so what a killed process left in `sending` is
	// resent at start-up instead of after the lease.
	ResumeBefore time.Time
	// Concurrency bounds the sends in flight for one event (default 8).
	Concurrency int
	// Scheduler receives the messages that release held deliveries (a
	// digest) when they are due: the queue the dispatcher consumes, whose
	// messages can be sent with queue.Message.NotBefore. Without it a rule
	// with a digest fails its deliveries for a retry.
	Scheduler queue.Producer
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// Logger gets outcomes that need attention (slog.Default if nil).
	Logger *slog.Logger
}

// Channels lists the registered channels (*channel.Registry is one).
type Channels interface {
	Channels() []channel.Channel
}

// Dispatcher matches events and delivers them. It is safe for concurrent
// use.
type Dispatcher struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	idx      *match.Index
	dir      *dirCache // the users and groups read since idx was loaded
	loadedAt time.Time
}

// New returns a Dispatcher.
func New(cfg Config) *Dispatcher {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	// Every time the service records is UTC with millisecond precision,
	// as the admin services write them.
	clock := cfg.Now
	cfg.Now = func() time.Time { return clock().UTC().Truncate(time.Millisecond) }
	if cfg.SendingLease <= 0 {
		cfg.SendingLease = DefaultSendingLease
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Channels == nil {
		c, ok := cfg.Router.(Channels)
		if !ok {
			panic("dispatch.New: Config.Channels is nil and Config.Router is not a channel registry")
		}
		cfg.Channels = c
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.Default()
	}
	return &Dispatcher{cfg: cfg, log: lg}
}

// InvalidateRules makes the next event read the rules, users and groups
// again (for a local process that has just changed them; with
// RuleCacheTTL 0 it does nothing).
func (d *Dispatcher) InvalidateRules() {
	d.mu.Lock()
	d.idx, d.dir = nil, nil
	d.mu.Unlock()
}

// index returns the rule index and the directory to resolve recipients
// with, reading the rules when the cache is off, empty or expired. With
// the cache on, the users and groups read are kept as long as the index:
// a warm dispatcher reads nothing per event.
func (d *Dispatcher) index(ctx context.Context) (*match.Index, directory, error) {
	if d.cfg.RuleCacheTTL <= 0 {
		idx, err := d.loadIndex(ctx)
		return idx, d.cfg.Directory, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.cfg.Now()
	if d.idx != nil && now.Sub(d.loadedAt) < d.cfg.RuleCacheTTL {
		return d.idx, d.dir, nil
	}
	idx, err := d.loadIndex(ctx)
	if err != nil {
		return nil, nil, err
	}
	d.idx, d.dir, d.loadedAt = idx, newDirCache(d.cfg.Directory), now
	return idx, d.dir, nil
}

// directory is what a plan reads of the directory.
type directory interface {
	GetUser(ctx context.Context, id string) (*notify.User, error)
	GetGroup(ctx context.Context, id string) (*notify.Group, error)
}

// dirCache keeps the users and groups read, and those found missing. The
// records it returns are shared: planners only read them.
type dirCache struct {
	dir    directory
	mu     sync.Mutex
	users  map[string]dirEntry[notify.User]
	groups map[string]dirEntry[notify.Group]
}

// dirEntry is a cached record, or the ENotFound error read for it.
type dirEntry[T any] struct {
	v   *T
	err error
}

func newDirCache(dir directory) *dirCache {
	return &dirCache{dir: dir, users: map[string]dirEntry[notify.User]{}, groups: map[string]dirEntry[notify.Group]{}}
}

func (c *dirCache) GetUser(ctx context.Context, id string) (*notify.User, error) {
	return cached(ctx, &c.mu, c.users, id, c.dir.GetUser)
}

func (c *dirCache) GetGroup(ctx context.Context, id string) (*notify.Group, error) {
	return cached(ctx, &c.mu, c.groups, id, c.dir.GetGroup)
}

// cached answers id from m, or reads it with get and keeps the record or
// its ENotFound (other errors are not kept).
func cached[T any](ctx context.Context, mu *sync.Mutex, m map[string]dirEntry[T], id string, get func(context.Context, string) (*T, error)) (*T, error) {
	mu.Lock()
	e, ok := m[id]
	mu.Unlock()
	if ok {
		return e.v, e.err
	}
	v, err := get(ctx, id)
	if err == nil || notify.IsCode(err, notify.ENotFound) {
		mu.Lock()
		m[id] = dirEntry[T]{v: v, err: err}
		mu.Unlock()
	}
	return v, err
}

func (d *Dispatcher) loadIndex(ctx context.Context) (*match.Index, error) {
	rules, err := d.cfg.Rules.AllRules(ctx)
	if err != nil {
		return nil, fmt.Errorf("load rules: %w", err)
	}
	return match.New(rules), nil
}

// Plan is what an event would do: the rules it matches and the recipients
// they reach, one entry per (channel, recipient).
type Plan struct {
	Rules      []send.RuleRef `json:"rules"`
	Recipients []Recipient    `json:"recipients"`
	// Notes say what was left out and why (a user or group a rule names
	// that does not exist).
	Notes []string `json:"notes,omitempty"`
	// Rendered is, for each matched rule with a template, what it
	// renders for the event (a preview for rule editors).
	Rendered []RenderedRule `json:"rendered,omitempty"`
}

// RenderedRule is one rule's template rendered for an event; Error, if
// set, says why it could not be (the default rendering is used then).
type RenderedRule struct {
	RuleID string `json:"ruleId"`
	notify.Rendered
	Error string `json:"error,omitempty"`
}

// Recipient is one (channel, recipient) of a plan with every rule that
// reached it.
type Recipient struct {
	Channel notify.Channel `json:"channel"`
	// Recipient is an address of the channel: an email address, a Slack
	// channel id, a webhook id. Email addresses are merged
	// case-insensitively; the first spelling met is kept.
	Recipient string         `json:"recipient"`
	Rules     []send.RuleRef `json:"rules"`
	// Via says how the rules named it: "user:<id>", "group:<id>", or the
	// channel's Via ("email", "slackChannel", "webhook").
	Via []string `json:"via"`
	// Skip, if set, is why the recipient is recorded skipped rather than
	// sent to: only deactivated users reached it.
	Skip string `json:"skip,omitempty"`
}

// Plan matches ev against the rules and resolves the recipients, sending
// nothing. Users and group members are resolved to their email addresses;
// a user or group that does not exist is skipped with a note. Recipients
// are sorted by channel, then recipient.
func (d *Dispatcher) Plan(ctx context.Context, ev *notify.Event) (*Plan, error) {
	p, _, err := d.plan(ctx, ev)
	return p, err
}

// plan is Plan that also returns the matched rules by id.
func (d *Dispatcher) plan(ctx context.Context, ev *notify.Event) (*Plan, map[string]*notify.Rule, error) {
	idx, dir, err := d.index(ctx)
	if err != nil {
		return nil, nil, err
	}
	rules := idx.Match(ev)
	byID := make(map[string]*notify.Rule, len(rules))
	for _, r := range rules {
		byID[r.ID] = r
	}
	p := &planner{
		ctx:      ctx,
		dir:      dir,
		channels: d.cfg.Channels.Channels(),
		plan:     &Plan{Rules: make([]send.RuleRef, 0, len(rules)), Recipients: []Recipient{}},
		at:       map[string]int{},
		users:    map[string]*notify.User{},
	}
	for _, r := range rules {
		if err := p.add(r); err != nil {
			return nil, nil, err
		}
		if r.Template != nil {
			rr := RenderedRule{RuleID: r.ID}
			rr.Rendered, rr.Error = renderRule(r, ev)
			p.plan.Rendered = append(p.plan.Rendered, rr)
		}
	}
	slices.SortFunc(p.plan.Recipients, func(a, b Recipient) int {
		return cmp.Or(cmp.Compare(a.Channel, b.Channel),
			cmp.Compare(strings.ToLower(a.Recipient), strings.ToLower(b.Recipient)),
			cmp.Compare(a.Recipient, b.Recipient))
	})
	return p.plan, byID, nil
}

// renderRule renders r's template over ev, or says why it could not.
func renderRule(r *notify.Rule, ev *notify.Event) (notify.Rendered, string) {
	out, err := r.Template.Render(ev)
	if err != nil {
		return notify.Rendered{}, err.Error()
	}
	return out, ""
}

// byRule indexes the plan's renderings by rule id, so that each rule's
// template is rendered once per event, not once per recipient.
func (p *Plan) byRule() map[string]RenderedRule {
	m := make(map[string]RenderedRule, len(p.Rendered))
	for _, rr := range p.Rendered {
		m[rr.RuleID] = rr
	}
	return m
}

// planner resolves the recipients of a plan.
type planner struct {
	ctx      context.Context
	dir      directory
	channels []channel.Channel
	plan     *Plan
	at       map[string]int          // (channel, normalized recipient) → index in plan.Recipients
	users    map[string]*notify.User // looked up; nil: does not exist
}

func (p *planner) add(r *notify.Rule) error {
	ref := send.RuleRef{ID: r.ID, Name: r.Name}
	p.plan.Rules = append(p.plan.Rules, ref)
	for _, id := range r.Recipients.Users {
		u, err := p.user(id)
		if err != nil {
			return err
		}
		if u == nil {
			p.note("rule %q names user %q, which does not exist: skipped", r.Name, id)
			continue
		}
		p.reachUser(u, r, ref, "user:"+id)
	}
	for _, id := range r.Recipients.Groups {
		g, err := p.dir.GetGroup(p.ctx, id)
		if notify.IsCode(err, notify.ENotFound) {
			p.note("rule %q names group %q, which does not exist: skipped", r.Name, id)
			continue
		}
		if err != nil {
			return fmt.Errorf("resolve group %q of rule %q: %w", id, r.ID, err)
		}
		for _, uid := range g.Members {
			u, err := p.user(uid)
			if err != nil {
				return err
			}
			if u == nil {
				p.note("group %q lists user %q, which does not exist: skipped", g.Name, uid)
				continue
			}
			p.reachUser(u, r, ref, "group:"+id)
		}
	}
	for _, ch := range p.channels {
		for _, a := range ch.Addresses(r.Recipients) {
			p.reach(ch.Name, a, ref, ch.Via)
		}
	}
	return nil
}

// user looks a user up once per plan; nil if it does not exist.
func (p *planner) user(id string) (*notify.User, error) {
	if u, ok := p.users[id]; ok {
		return u, nil
	}
	u, err := p.dir.GetUser(p.ctx, id)
	if notify.IsCode(err, notify.ENotFound) {
		u, err = nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("resolve user %q: %w", id, err)
	}
	if u != nil && u.Email == "" {
		u = nil
	}
	p.users[id] = u
	return u, nil
}

func (p *planner) note(format string, args ...any) {
	n := fmt.Sprintf(format, args...)
	if !slices.Contains(p.plan.Notes, n) {
		p.plan.Notes = append(p.plan.Notes, n)
	}
}

// inactiveSkip is recorded on a delivery to a deactivated user.
const inactiveSkip = "the user is deactivated in the directory"

// reachUser reaches u by email; a deactivated user is planned as skipped,
// unless something else reaches the same address.
//
// With recipients.userChannels naming slack, the user is also (or only)
// reached by Slack direct message: the Slack delivery's recipient is the
// user's email, lower case, which the Slack sender looks up.
func (p *planner) reachUser(u *notify.User, r *notify.Rule, ref send.RuleRef, via string) {
	skip := ""
	if !u.Notified() {
		skip = inactiveSkip
	}
	for _, ch := range r.Recipients.UserChannelsOf() {
		to := u.Email
		if ch == notify.ChannelSlack {
			to = strings.ToLower(u.Email)
		}
		p.reachOr(ch, to, ref, via, skip)
	}
}

func (p *planner) reach(ch notify.Channel, to string, ref send.RuleRef, via string) {
	p.reachOr(ch, to, ref, via, "")
}

// reachOr adds a recipient; skip is why it is not sent to, kept only while
// every way it is reached says so.
func (p *planner) reachOr(ch notify.Channel, to string, ref send.RuleRef, via, skip string) {
	key := notify.DeliveryID("", ch, to)
	i, ok := p.at[key]
	if ok && skip == "" {
		p.plan.Recipients[i].Skip = ""
	}
	if !ok {
		i = len(p.plan.Recipients)
		p.at[key] = i
		p.plan.Recipients = append(p.plan.Recipients, Recipient{Channel: ch, Recipient: to, Skip: skip})
	}
	rc := &p.plan.Recipients[i]
	if !slices.ContainsFunc(rc.Rules, func(x send.RuleRef) bool { return x.ID == ref.ID }) {
		rc.Rules = append(rc.Rules, ref)
	}
	if !slices.Contains(rc.Via, via) {
		rc.Via = append(rc.Via, via)
	}
}

// Handle is a queue.Handler: it decodes the event in m and dispatches it,
// treating m.ReceiveCount >= queue.MaxReceives as the last chance (transient
// failures are then recorded as failed and Handle returns nil). A body that
// is not an event with an id returns an error wrapping ErrPoison.
func (d *Dispatcher) Handle(ctx context.Context, m queue.Message) error {
	if id := dueID(m); id != "" {
		return d.handleDue(ctx, id, m.ReceiveCount >= queue.MaxReceives)
	}
	ev, err := queue.DecodeEvent(m)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrPoison, err)
	}
	// An event put back for pacing was handled before: the deliveries of
	// recipients its rules no longer reach must be settled as on any
	// redelivery.
	again := m.ReceiveCount > 1 || m.Attributes[queue.AttrPutBack] != ""
	err = d.dispatch(ctx, ev, again, m.ReceiveCount >= queue.MaxReceives)
	var po *putOff
	if !errors.As(err, &po) {
		return err
	}
	return d.putBack(ctx, ev, m, po)
}

// putBack puts an event whose sends pacing put off back on the queue as a
// new message, visible when a send slot is free, and reports the message
// handled: waiting for the provider's rate is not a failure, and must not
// spend the receives that decide when a message is dead. Without a
// Scheduler, or when the put fails, the event is retried as any failure
// (a receive is spent). A crash between the put and the acknowledgement
// leaves two copies of the event, which the delivery claims absorb.
func (d *Dispatcher) putBack(ctx context.Context, ev *notify.Event, m queue.Message, po *putOff) error {
	retryErr := &queue.RetryError{After: po.After, Err: po.Err}
	if d.cfg.Scheduler == nil {
		return retryErr
	}
	attrs := maps.Clone(m.Attributes)
	if attrs == nil {
		attrs = map[string]string{}
	}
	attrs[queue.AttrPutBack] = "1"
	again := queue.Message{Body: m.Body, Attributes: attrs, NotBefore: d.cfg.Now().Add(po.After)}
	if err := d.cfg.Scheduler.Send(ctx, []queue.Message{again}); err != nil {
		d.log.WarnContext(ctx, "dispatch: putting an event back for its paced sends failed; retrying it instead", "event_id", ev.ID, "err", err)
		return retryErr
	}
	d.log.InfoContext(ctx, "dispatch: sends put off by pacing; event put back on the queue", "event_id", ev.ID, "after", po.After.Round(time.Millisecond))
	return nil
}

// Dispatch delivers ev to every recipient its rules reach, each at most
// once however often it is called. It returns nil when every delivery is
// final (sent, failed or skipped); otherwise a *queue.RetryError with the
// longest delay a provider asked for, or a plain error when none did, and
// the event should be dispatched again later.
func (d *Dispatcher) Dispatch(ctx context.Context, ev *notify.Event) error {
	if ev.ID == "" {
		return notify.Invalid("id", "an event must have an id to be dispatched")
	}
	return d.dispatch(ctx, ev, false, false)
}

// retry is the outcome of one delivery that must be tried again. lease
// marks a wait for another attempt that holds the delivery in `sending`
// (after: what is left of its lease), as opposed to a failure of this one.
type retry struct {
	after time.Duration
	err   error
	lease bool
	// notTried marks a send our pacing put off (send.NotTried): nothing
	// reached the provider.
	notTried bool
}

// putOff is the error of a dispatch whose every failure is a send put off
// by pacing: Handle puts the event back on the queue for After, as a new
// message, instead of spending one of its receives.
type putOff struct {
	After time.Duration
	Err   error
}

func (e *putOff) Error() string { return e.Err.Error() }
func (e *putOff) Unwrap() error { return e.Err }

// dispatch delivers ev. redelivered says the event may have been handled
// before, so deliveries left unfinished by an earlier attempt whose
// recipient the rules no longer reach are settled too; last that this is
// the queue's last receive.
func (d *Dispatcher) dispatch(ctx context.Context, ev *notify.Event, redelivered, last bool) error {
	plan, rules, err := d.plan(ctx, ev)
	if err != nil {
		return fmt.Errorf("dispatch event %s: %w", ev.ID, err)
	}
	retries := make([]*retry, len(plan.Recipients), len(plan.Recipients)+1)
	var took []taken
	if redelivered {
		retries = append(retries, d.settleOrphans(ctx, ev, plan, last))
	} else {
		took = d.takeAll(ctx, ev, plan, rules)
	}
	rendered := plan.byRule()
	sem := make(chan struct{}, d.cfg.Concurrency)
	var wg sync.WaitGroup
	for i, r := range plan.Recipients {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if took != nil && took[i].d != nil {
				retries[i] = d.send(ctx, d.templated(ctx, ev, r, rules, rendered), r, took[i].d, took[i].sender, false, last)
				return
			}
			retries[i] = d.deliver(ctx, ev, r, rules, rendered, last)
		}()
	}
	wg.Wait()
	// The event comes back after the longest delay its own failures ask
	// for (a provider's Retry-After); waits for deliveries another attempt
	// holds count only when nothing failed here: that attempt settles them
	// itself, and its lease (minutes) must not hold back a retry a provider
	// wants in a second (a duplicate message racing the first one).
	var (
		n, failures, notTried int
		after, leaseAfter     time.Duration
		errs                  []error
	)
	for _, r := range retries {
		if r == nil {
			continue
		}
		n++
		if r.lease {
			leaseAfter = max(leaseAfter, r.after)
		} else {
			failures++
			after = max(after, r.after)
			if r.notTried {
				notTried++
			}
		}
		if len(errs) < 3 {
			errs = append(errs, r.err)
		}
	}
	if failures == 0 {
		after = leaseAfter
	}
	if n == 0 {
		return nil
	}
	err = fmt.Errorf("event %s: %d of %d deliveries to retry: %w", ev.ID, n, len(retries), errors.Join(errs...))
	if failures > 0 && notTried == failures && after > 0 {
		return &putOff{After: after, Err: err}
	}
	if after > 0 {
		return &queue.RetryError{After: after, Err: err}
	}
	return err
}

// orphanNote is recorded on a delivery an earlier attempt left queued whose
// recipient no enabled rule reaches any more.
const orphanNote = "no enabled rule reaches this recipient any more"

// orphanInterruptedNote is recorded on a delivery an interrupted attempt
// left in `sending` whose recipient no enabled rule reaches any more: it
// is not sent again (the rules no longer ask for it); the interrupted
// attempt may or may not have delivered it.
const orphanInterruptedNote = "interrupted attempt, outcome unknown; not resent: no enabled rule reaches this recipient any more"

// settleOrphans finishes the deliveries of ev that an earlier attempt left
// unfinished (queued after a transient failure, or sending when it crashed)
// and that plan no longer reaches, because a rule was disabled, changed or
// deleted, or a user left a group, in between. Without this they would stay
// unfinished for good. A queued one is recorded skipped; a sending one
// too once its lease is over (orphanInterruptedNote). It returns a retry when one could not be settled
// yet (nil otherwise).
func (d *Dispatcher) settleOrphans(ctx context.Context, ev *notify.Event, plan *Plan, last bool) *retry {
	reached := make(map[string]bool, len(plan.Recipients))
	for _, r := range plan.Recipients {
		reached[notify.DeliveryID(ev.ID, r.Channel, r.Recipient)] = true
	}
	var out *retry
	f := store.DeliveryFilter{EventID: ev.ID, Page: store.Page{Limit: store.MaxLimit}}
	for {
		ds, next, err := d.cfg.Deliveries.ListDeliveries(ctx, f)
		if err != nil {
			return &retry{err: fmt.Errorf("list the deliveries of event %s: %w", ev.ID, err)}
		}
		for _, cur := range ds {
			if cur.Status.Final() || cur.Status == notify.DeliveryHeld || reached[cur.ID] {
				continue
			}
			now := d.cfg.Now()
			upd := *cur
			switch {
			case cur.Status == notify.DeliveryQueued:
				upd.Status, upd.Note = notify.DeliverySkipped, orphanNote
			case d.leaseLeft(cur, now) > 0 && !last:
				out = &retry{after: d.leaseLeft(cur, now), lease: true, err: fmt.Errorf("delivery %s: another attempt is sending it", cur.ID)}
				continue
			default:
				upd.Status, upd.Note = notify.DeliverySkipped, orphanInterruptedNote
			}
			// EStale: another attempt got there first and settles it.
			if err := d.update(ctx, &upd, now); err != nil && !notify.IsCode(err, notify.EStale) {
				out = &retry{err: err}
			}
		}
		if next == "" {
			return out
		}
		f.Cursor = next
	}
}

// taken is a delivery takeAll moved straight to sending, with the sender
// to send it with.
type taken struct {
	d      *notify.Delivery
	sender send.Sender
}

// takeAll is the first attempt's shortcut: the deliveries of ev that go
// out now (not held, not skipped, with a sender) are stored in sending in
// one store write (store.Deliveries.ClaimDeliveries), where claiming each
// and moving it to sending took two writes per delivery. It returns, by
// recipient index, what it took, or nil when it took nothing: then every
// delivery goes the one-by-one way (deliver), as when any of them exists
// already (the event was dispatched before: a replay, or a retry the
// queue did not count). A crash after this write leaves the deliveries in
// sending: the next attempt sends them again after the lease, noted as
// possible duplicates, as it does for one taken by deliver.
func (d *Dispatcher) takeAll(ctx context.Context, ev *notify.Event, plan *Plan, rules map[string]*notify.Rule) []taken {
	now := d.cfg.Now()
	out := make([]taken, len(plan.Recipients))
	senders := map[notify.Channel]send.Sender{}
	var ds []*notify.Delivery
	for i, r := range plan.Recipients {
		if r.Skip != "" || planHold(ev, r, rules, now) != nil {
			continue
		}
		sender, ok := senders[r.Channel]
		if !ok {
			var err error
			if sender, err = d.cfg.Router.Sender(ctx, r.Channel); err != nil {
				sender = nil // deliver records why
			}
			senders[r.Channel] = sender
		}
		if sender == nil {
			continue
		}
		del := firstVersion(ev, r, now)
		del.Status, del.Attempts = notify.DeliverySending, 1
		out[i] = taken{d: del, sender: sender}
		ds = append(ds, del)
	}
	if len(ds) == 0 {
		return nil
	}
	ok, err := d.cfg.Deliveries.ClaimDeliveries(ctx, ds)
	if err != nil {
		d.log.WarnContext(ctx, "dispatch: claiming the deliveries at once failed; claiming them one by one", "event_id", ev.ID, "err", err)
		return nil
	}
	if !ok {
		return nil
	}
	return out
}

// firstVersion is the delivery of ev to r as first stored: queued,
// version 1, created now.
func firstVersion(ev *notify.Event, r Recipient, now time.Time) *notify.Delivery {
	return &notify.Delivery{
		ID: notify.DeliveryID(ev.ID, r.Channel, r.Recipient), EventID: ev.ID, Channel: r.Channel, Recipient: r.Recipient,
		RuleIDs: r.ruleIDs(), Status: notify.DeliveryQueued, Version: 1, CreatedAt: now, UpdatedAt: now,
	}
}

// ruleIDs are the ids of the rules that reached r.
func (r Recipient) ruleIDs() []string {
	ids := make([]string, len(r.Rules))
	for i, ref := range r.Rules {
		ids[i] = ref.ID
	}
	return ids
}

// deliver takes one (channel, recipient) of ev as far as it can: nil when
// its delivery is final, a retry otherwise.
func (d *Dispatcher) deliver(ctx context.Context, ev *notify.Event, r Recipient, rules map[string]*notify.Rule, rendered map[string]RenderedRule, last bool) *retry {
	now := d.cfg.Now()
	claim := firstVersion(ev, r, now)
	id := claim.ID
	hp := planHold(ev, r, rules, now)
	if hp != nil {
		claim.DigestID, claim.DueAt = hp.id, &hp.end
	}
	cur, _, err := d.cfg.Deliveries.ClaimDelivery(ctx, claim)
	if err != nil {
		return &retry{err: fmt.Errorf("claim delivery %s: %w", id, err)}
	}
	if cur.Status == notify.DeliveryQueued && cur.Attempts == 0 {
		held, rt := d.hold(ctx, ev, r, hp, cur)
		if held || rt != nil {
			return rt
		}
	}
	return d.settle(ctx, d.templated(ctx, ev, r, rules, rendered), r, cur, now, last)
}

// settle takes a claimed delivery cur past the hold stage to a final
// status: nil when it is final, a retry otherwise.
func (d *Dispatcher) settle(ctx context.Context, ev *notify.Event, r Recipient, cur *notify.Delivery, now time.Time, last bool) *retry {
	id := cur.ID
	for range 5 { // each turn follows a concurrent change (EStale)
		var err error
		switch {
		case cur.Status.Final(), cur.Status == notify.DeliveryHeld:
			return nil // held: released with its digest
		case cur.Status == notify.DeliverySending:
			if wait := d.leaseLeft(cur, now); wait > 0 && !last {
				return &retry{after: wait, lease: true, err: fmt.Errorf("delivery %s: another attempt is sending it", id)}
			}
			d.log.Warn("dispatch: delivery left in sending by an interrupted attempt; sending it again", "delivery_id", id, "attempt", cur.Attempts+1)
			var rt *retry
			rt, err = d.attempt(ctx, ev, r, cur, now, last)
			if err == nil {
				return rt
			}
		default:
			var rt *retry
			rt, err = d.attempt(ctx, ev, r, cur, now, last)
			if err == nil {
				return rt
			}
		}
		if !notify.IsCode(err, notify.EStale) {
			return &retry{err: err}
		}
		if cur, err = d.cfg.Deliveries.GetDelivery(ctx, id); err != nil {
			return &retry{err: fmt.Errorf("reread delivery %s: %w", id, err)}
		}
		now = d.cfg.Now()
	}
	return &retry{err: fmt.Errorf("delivery %s: changed by other attempts too often", id)}
}

// update writes next (copied from the stored version) as the following
// version. EStale if another attempt changed it first.
func (d *Dispatcher) update(ctx context.Context, next *notify.Delivery, now time.Time) error {
	next.Version++
	next.UpdatedAt = now
	if err := d.cfg.Deliveries.UpdateDelivery(ctx, next); err != nil {
		return fmt.Errorf("update delivery %s to %s: %w", next.ID, next.Status, err)
	}
	return nil
}

// leaseLeft is how long the attempt that moved cur to `sending` is still
// presumed to run: 0 once the lease is over or the attempt was taken
// before Config.ResumeBefore.
func (d *Dispatcher) leaseLeft(cur *notify.Delivery, now time.Time) time.Duration {
	if !d.cfg.ResumeBefore.IsZero() && cur.UpdatedAt.Before(d.cfg.ResumeBefore) {
		return 0
	}
	return max(0, d.cfg.SendingLease-now.Sub(cur.UpdatedAt))
}

// attempt sends a queued delivery cur, or one an interrupted attempt left
// in `sending` (sent again, noted as a possible duplicate). It returns EStale (as err) when
// another attempt changed the delivery before this one took it; otherwise
// the retry to report (nil once the delivery is final).
func (d *Dispatcher) attempt(ctx context.Context, ev *notify.Event, r Recipient, cur *notify.Delivery, now time.Time, last bool) (*retry, error) {
	resend := cur.Status == notify.DeliverySending || cur.Note == PossibleDuplicateNote

	var sender send.Sender
	var err error
	if r.Skip != "" {
		err = &send.Skip{Reason: r.Skip}
	} else {
		sender, err = d.cfg.Router.Sender(ctx, r.Channel)
	}
	if err != nil {
		next := *cur
		var skip *send.Skip
		var rt *retry
		if errors.As(err, &skip) {
			next.Status, next.Note = notify.DeliverySkipped, skip.Reason
		} else {
			rt = d.giveUp(ctx, &next, fmt.Errorf("pick a sender: %w", err), resend, last)
		}
		if err := d.update(ctx, &next, now); err != nil {
			return nil, err
		}
		d.logOutcome(ctx, ev, r, &next, 0)
		return rt, nil
	}

	// Take the delivery: of concurrent attempts, one moves it to sending.
	taken := *cur
	taken.Status = notify.DeliverySending
	taken.Attempts++
	if resend {
		taken.Note = PossibleDuplicateNote
	}
	if err := d.update(ctx, &taken, now); err != nil {
		return nil, err
	}
	return d.send(ctx, ev, r, &taken, sender, resend, last), nil
}

// send sends a delivery this attempt has taken (in sending) and records
// the outcome; resend says an earlier attempt may have sent it. It
// returns the retry to report (nil once the delivery is final).
func (d *Dispatcher) send(ctx context.Context, ev *notify.Event, r Recipient, taken *notify.Delivery, sender send.Sender, resend, last bool) *retry {
	sendStart := time.Now()
	res, serr := sender.Send(ctx, &send.Notification{Event: ev, Rules: r.Rules, Channel: r.Channel, To: []string{r.Recipient}})
	latency := time.Since(sendStart)

	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	done := d.cfg.Now()
	next := *taken
	var rt *retry
	var skipped *send.Skip
	if errors.As(serr, &skipped) { // e.g. no Slack user with this email
		next.Status, next.Note = notify.DeliverySkipped, skipped.Reason
	} else if send.NotTried(serr) {
		// Put off by pacing before anything reached the provider: no
		// attempt, nothing to note; queued for when a slot is free.
		next = *taken
		next.Status = notify.DeliveryQueued
		next.Attempts--
		rt = &retry{after: send.RetryAfter(serr), err: fmt.Errorf("delivery %s: %w", next.ID, serr), notTried: true}
	} else if serr == nil {
		next.Status = notify.DeliverySent
		next.Provider, next.ProviderMessageID, next.Note = res.Provider, res.MessageID, res.Note
		if resend {
			next.Note = strings.TrimSuffix(PossibleDuplicateNote+"; "+res.Note, "; ")
		}
		next.SentAt = &done
	} else {
		rt = d.giveUp(ctx, &next, serr, resend, last)
	}
	if err := d.record(rctx, &next, done); err != nil {
		// The delivery stays in sending and is sent again by a later
		// attempt after the lease, noted as a possible duplicate.
		d.log.Error("dispatch: recording a delivery outcome failed", "delivery", next.ID, "status", next.Status, "providerMessageId", next.ProviderMessageID, "error", err)
		return &retry{err: err}
	}
	d.logOutcome(ctx, ev, r, &next, latency)
	return rt
}

// giveUp sets next after the send error serr: failed when it is permanent
// or this is the last receive, otherwise queued again, with the retry to
// report. resend says an earlier attempt may have sent it.
func (d *Dispatcher) giveUp(ctx context.Context, next *notify.Delivery, serr error, resend, last bool) *retry {
	next.LastError = serr.Error()
	if resend {
		next.LastError = interruptedPrefix + next.LastError
	}
	switch {
	case send.IsPermanent(serr):
		next.Status = notify.DeliveryFailed
	case last && ctx.Err() == nil: // not when shutdown interrupted the attempt
		next.Status = notify.DeliveryFailed
		next.LastError = fmt.Sprintf(giveUpPrefix, next.Attempts) + serr.Error()
	default:
		next.Status = notify.DeliveryQueued
		if outcomeUnknown(serr) {
			next.Note = PossibleDuplicateNote // the retry may deliver it twice
		}
		return &retry{after: send.RetryAfter(serr), err: fmt.Errorf("delivery %s: %w", next.ID, serr)}
	}
	return nil
}

// unknownOutcome is a send error that knows whether the provider may have
// accepted the message before the failure (SMTP: the connection dropped
// after the final dot, before the reply).
type unknownOutcome interface{ OutcomeUnknown() bool }

// outcomeUnknown reports whether err says the provider may have accepted
// the message.
func outcomeUnknown(err error) bool {
	var u unknownOutcome
	return errors.As(err, &u) && u.OutcomeUnknown()
}

// logOutcome writes the one line each delivery attempt's outcome gets: at
// INFO when sent, skipped or queued for a retry, at WARN when failed.
func (d *Dispatcher) logOutcome(ctx context.Context, ev *notify.Event, r Recipient, del *notify.Delivery, latency time.Duration) {
	level := slog.LevelInfo
	if del.Status == notify.DeliveryFailed {
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.String("event_id", ev.ID), slog.String("delivery_id", del.ID), slog.Any("rule_ids", r.ruleIDs()),
		slog.String("channel", string(r.Channel)), slog.String("recipient", r.Recipient),
		slog.String("status", string(del.Status)), slog.Int("attempt", del.Attempts),
		slog.Int64("latency_ms", latency.Milliseconds()),
	}
	if del.Provider != "" {
		attrs = append(attrs, slog.String("provider", del.Provider))
	}
	if del.Note != "" {
		attrs = append(attrs, slog.String("note", del.Note))
	}
	if del.LastError != "" {
		attrs = append(attrs, slog.String("err", del.LastError))
	}
	d.log.LogAttrs(ctx, level, "delivery", attrs...)
}

// record writes the outcome of this attempt. When another attempt has
// meanwhile taken the delivery over (this one outlived the lease and was
// presumed interrupted), the outcome is written over it unless the
// delivery is already recorded sent: a send is never undone.
func (d *Dispatcher) record(ctx context.Context, next *notify.Delivery, now time.Time) error {
	for range 3 {
		want := *next
		err := d.update(ctx, &want, now)
		if !notify.IsCode(err, notify.EStale) {
			return err
		}
		latest, gerr := d.cfg.Deliveries.GetDelivery(ctx, next.ID)
		if gerr != nil {
			return fmt.Errorf("reread delivery %s: %w", next.ID, gerr)
		}
		if latest.Status == notify.DeliverySent {
			return nil // cannot happen while this attempt held it; never undo a send
		}
		next.Version = latest.Version
		next.Attempts = max(next.Attempts, latest.Attempts)
	}
	return fmt.Errorf("record delivery %s: changed by other attempts too often", next.ID)
}
