package local

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
	"github.com/argoproj-labs/argo-notify/pkg/queue"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func open(t testing.TB, path string, opts Options) *Queue {
	t.Helper()
	q, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return q
}

func msgs(bodies ...string) []queue.Message {
	var ms []queue.Message
	for _, b := range bodies {
		ms = append(ms, queue.Message{Body: []byte(b), Attributes: map[string]string{"k": b}})
	}
	return ms
}

// waitFor polls cond until it holds; it fails the test after a generous
// deadline (a hang guard, not a timing assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// runQueue runs q.Run in the background; the returned stop cancels it and
// waits for it to return.
func runQueue(t *testing.T, q *Queue, h queue.Handler, workers int) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Run(ctx, h, workers) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func stats(t *testing.T, q *Queue) Stats {
	t.Helper()
	s, err := q.Stats(context.Background())
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	return s
}

func TestSendSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue.db")
	q := open(t, path, Options{})
	first := msgs("a", "b")
	if err := q.Send(context.Background(), first); err != nil {
		t.Fatalf("Send: %v", err)
	}
	second := msgs("c")
	second[0].ID = "given-id"
	if err := q.Send(context.Background(), second); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if err := q.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	want := map[string]string{first[0].ID: "a", first[1].ID: "b", "given-id": "c"}
	if first[0].ID == "" || first[0].ID == first[1].ID {
		t.Fatalf("Send did not assign distinct ids: %q %q", first[0].ID, first[1].ID)
	}

	q = open(t, path, Options{})
	defer q.Close()
	var mu sync.Mutex
	got := map[string]string{}
	stop := runQueue(t, q, func(ctx context.Context, m queue.Message) error {
		mu.Lock()
		defer mu.Unlock()
		if m.ReceiveCount != 1 {
			t.Errorf("message %s: ReceiveCount = %d, want 1", m.ID, m.ReceiveCount)
		}
		if m.Attributes["k"] != string(m.Body) {
			t.Errorf("message %s: attributes %v do not match body %q", m.ID, m.Attributes, m.Body)
		}
		got[m.ID] = string(m.Body)
		return nil
	}, 2)
	waitFor(t, "three messages", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 3 })
	waitFor(t, "acks", func() bool { return stats(t, q) == Stats{} })
	stop()
	for id, body := range want {
		if got[id] != body {
			t.Errorf("message %s: got body %q, want %q", id, got[id], body)
		}
	}
}

func TestVisibilityTimeoutRedelivers(t *testing.T) {
	q := open(t, filepath.Join(t.TempDir(), "queue.db"), Options{Visibility: 50 * time.Millisecond})
	defer q.Close()
	var mu sync.Mutex
	var receives []int
	second := make(chan struct{})
	stop := runQueue(t, q, func(ctx context.Context, m queue.Message) error {
		mu.Lock()
		receives = append(receives, m.ReceiveCount)
		mu.Unlock()
		if m.ReceiveCount == 1 { // hangs past the visibility timeout
			select {
			case <-second:
			case <-ctx.Done():
			}
			return nil
		}
		close(second)
		return nil
	}, 2)
	if err := q.Send(context.Background(), msgs("x")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	waitFor(t, "an empty queue", func() bool {
		mu.Lock()
		n := len(receives)
		mu.Unlock()
		return n == 2 && stats(t, q) == Stats{}
	})
	stop()
	if want := []int{1, 2}; fmt.Sprint(receives) != fmt.Sprint(want) {
		t.Errorf("receive counts = %v, want %v", receives, want)
	}
}

// TestStaleAckIgnored: the late ack of a receive whose visibility timeout
// expired must not delete the message a later receive now owns.
func TestStaleAckIgnored(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	q := open(t, filepath.Join(t.TempDir(), "queue.db"), Options{Now: clk.Now, Visibility: time.Minute})
	defer q.Close()
	if err := q.Send(context.Background(), msgs("x")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	r1, _, err := q.receive(5)
	if err != nil || len(r1) != 1 || r1[0].msg.ReceiveCount != 1 {
		t.Fatalf("first receive = %+v, %v", r1, err)
	}
	if again, _, _ := q.receive(5); len(again) != 0 {
		t.Fatalf("received an in-flight message before its visibility timeout")
	}
	clk.Add(time.Minute)
	r2, _, err := q.receive(5)
	if err != nil || len(r2) != 1 || r2[0].msg.ReceiveCount != 2 {
		t.Fatalf("receive after the timeout = %+v, %v; want ReceiveCount 2", r2, err)
	}
	ok := func(context.Context, queue.Message) error { return nil }
	fail := func(context.Context, queue.Message) error { return errors.New("late failure") }
	q.handle(context.Background(), ok, r1[0])
	q.handle(context.Background(), fail, r1[0])
	if s := stats(t, q); s != (Stats{InFlight: 1}) {
		t.Fatalf("after stale outcomes stats = %+v, want the message still in flight", s)
	}
	if rec := readRecord(t, q, r2[0].seq); rec.LastError != "" || rec.ReceiveCount != 2 {
		t.Errorf("stale failure changed the record: %+v", rec)
	}
	q.handle(context.Background(), ok, r2[0])
	if s := stats(t, q); s != (Stats{}) {
		t.Errorf("after the ack stats = %+v, want empty", s)
	}
}

func TestBackoff(t *testing.T) {
	q := &Queue{opts: Options{BackoffBase: time.Second, BackoffMax: 5 * time.Minute}}
	tests := []struct {
		receives int
		max      time.Duration
	}{
		{1, time.Second},
		{2, 2 * time.Second},
		{3, 4 * time.Second},
		{5, 16 * time.Second},
		{9, 256 * time.Second},
		{10, 5 * time.Minute},
		{60, 5 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.receives), func(t *testing.T) {
			seen := map[time.Duration]bool{}
			for range 200 {
				d := q.backoff(tt.receives)
				if d < tt.max/2 || d > tt.max {
					t.Fatalf("backoff(%d) = %s, want within [%s, %s]", tt.receives, d, tt.max/2, tt.max)
				}
				seen[d] = true
			}
			if len(seen) < 2 {
				t.Errorf("backoff(%d) has no jitter: always %v", tt.receives, seen)
			}
		})
	}
}

// TestFailureSchedulesRetry checks when a failed message becomes visible
// again, on a fixed clock.
func TestFailureSchedulesRetry(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		min, max time.Duration
	}{
		{"plain error backs off", errors.New("boom"), 5 * time.Second, 10 * time.Second},
		{"RetryAfter is honoured", &queue.RetryError{After: 7 * time.Minute, Err: errors.New("429")}, 7 * time.Minute, 7 * time.Minute},
		{"wrapped RetryAfter", fmt.Errorf("send: %w", &queue.RetryError{After: 3 * time.Second, Err: errors.New("429")}), 3 * time.Second, 3 * time.Second},
		{"zero RetryAfter backs off", &queue.RetryError{Err: errors.New("x")}, 5 * time.Second, 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
			q := open(t, filepath.Join(t.TempDir(), "queue.db"), Options{Now: clk.Now, BackoffBase: 10 * time.Second})
			defer q.Close()
			if err := q.Send(context.Background(), msgs("m")); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got, _, err := q.receive(10)
			if err != nil || len(got) != 1 {
				t.Fatalf("receive = %d messages, %v; want 1", len(got), err)
			}
			q.handle(context.Background(), func(context.Context, queue.Message) error { return tt.err }, got[0])
			rec := readRecord(t, q, got[0].seq)
			delay := time.Unix(0, rec.VisibleAt).Sub(clk.Now())
			if delay < tt.min || delay > tt.max {
				t.Errorf("visible again after %s, want within [%s, %s]", delay, tt.min, tt.max)
			}
			if rec.LastError != tt.err.Error() {
				t.Errorf("LastError = %q, want %q", rec.LastError, tt.err.Error())
			}
			if again, _, _ := q.receive(10); len(again) != 0 {
				t.Errorf("received %d messages before the retry delay, want 0", len(again))
			}
			clk.Add(tt.max)
			again, _, err := q.receive(10)
			if err != nil || len(again) != 1 || again[0].msg.ReceiveCount != 2 {
				t.Fatalf("after the delay: receive = %+v, %v; want the message with ReceiveCount 2", again, err)
			}
		})
	}
}

func readRecord(t *testing.T, q *Queue, seq []byte) *record {
	t.Helper()
	var rec *record
	err := q.db.View(func(tx *bolt.Tx) error {
		var err error
		rec, err = getRecord(tx, seq)
		return err
	})
	if err != nil || rec == nil {
		t.Fatalf("read record %x: %v, %v", seq, rec, err)
	}
	return rec
}

func TestDeadLetterAfterMaxReceivesAndRedrive(t *testing.T) {
	q := open(t, filepath.Join(t.TempDir(), "queue.db"), Options{BackoffBase: time.Millisecond, BackoffMax: 2 * time.Millisecond})
	defer q.Close()
	var mu sync.Mutex
	calls := map[string]int{}
	fail := true
	stop := runQueue(t, q, func(ctx context.Context, m queue.Message) error {
		mu.Lock()
		defer mu.Unlock()
		calls[m.ID]++
		if fail {
			return fmt.Errorf("attempt %d failed", m.ReceiveCount)
		}
		return nil
	}, 3)
	ms := msgs("poison", "also")
	if err := q.Send(context.Background(), ms); err != nil {
		t.Fatalf("Send: %v", err)
	}
	waitFor(t, "two dead letters", func() bool { return stats(t, q).Dead == 2 })
	if s := stats(t, q); s != (Stats{Dead: 2}) {
		t.Errorf("stats = %+v, want only 2 dead", s)
	}
	mu.Lock()
	for _, m := range ms {
		if calls[m.ID] != queue.MaxReceives {
			t.Errorf("message %s handled %d times, want %d", m.ID, calls[m.ID], queue.MaxReceives)
		}
	}
	fail = false
	mu.Unlock()

	dead, next, err := q.ListDead(context.Background(), 0, "")
	if err != nil || next != "" || len(dead) != 2 {
		t.Fatalf("ListDead = %d, %q, %v; want 2 on one page", len(dead), next, err)
	}
	for i, d := range dead {
		if d.ID != ms[i].ID || string(d.Body) != string(ms[i].Body) || d.ReceiveCount != queue.MaxReceives || d.LastError != "attempt 5 failed" || d.DeadAt.IsZero() {
			t.Errorf("dead[%d] = %+v, want message %s received 5 times with the last error", i, d, ms[i].ID)
		}
	}

	if err := q.Redrive(context.Background(), "no-such-id"); !notify.IsCode(err, notify.ENotFound) {
		t.Errorf("Redrive(unknown) = %v, want ENotFound", err)
	}
	if err := q.Redrive(context.Background(), ms[0].ID); err != nil {
		t.Fatalf("Redrive: %v", err)
	}
	waitFor(t, "the redriven message", func() bool { mu.Lock(); defer mu.Unlock(); return calls[ms[0].ID] == queue.MaxReceives+1 })
	waitFor(t, "its ack", func() bool { return stats(t, q) == Stats{Dead: 1} })
	stop()
	if err := q.Redrive(context.Background(), ms[0].ID); !notify.IsCode(err, notify.ENotFound) {
		t.Errorf("second Redrive = %v, want ENotFound", err)
	}
}

// TestUnfinishedReceivesAreParked: a message whose handler never finishes
// (a crash each time) is parked after MaxReceives receives instead of
// being received forever.
func TestUnfinishedReceivesAreParked(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	q := open(t, filepath.Join(t.TempDir(), "queue.db"), Options{Now: clk.Now, Visibility: time.Minute})
	defer q.Close()
	if err := q.Send(context.Background(), msgs("crasher")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	for i := 1; i <= queue.MaxReceives; i++ {
		got, _, err := q.receive(1)
		if err != nil || len(got) != 1 || got[0].msg.ReceiveCount != i {
			t.Fatalf("receive %d = %+v, %v", i, got, err)
		}
		clk.Add(time.Minute)
	}
	if got, _, err := q.receive(1); err != nil || len(got) != 0 {
		t.Fatalf("receive after %d = %+v, %v; want nothing", queue.MaxReceives, got, err)
	}
	dead, _, err := q.ListDead(context.Background(), 10, "")
	if err != nil || len(dead) != 1 || !strings.Contains(dead[0].LastError, "without the handler finishing") {
		t.Fatalf("ListDead = %+v, %v; want the message parked", dead, err)
	}
}

func TestListDeadPages(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	q := open(t, filepath.Join(t.TempDir(), "queue.db"), Options{Now: clk.Now})
	defer q.Close()
	ms := msgs("1", "2", "3", "4", "5")
	if err := q.Send(context.Background(), ms); err != nil {
		t.Fatalf("Send: %v", err)
	}
	for range queue.MaxReceives {
		got, _, err := q.receive(10)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range got {
			q.handle(context.Background(), func(context.Context, queue.Message) error { return errors.New("no") }, r)
		}
		clk.Add(time.Hour)
	}
	var ids []string
	cursor := ""
	for page := 0; ; page++ {
		dead, next, err := q.ListDead(context.Background(), 2, cursor)
		if err != nil {
			t.Fatalf("ListDead page %d: %v", page, err)
		}
		for _, d := range dead {
			ids = append(ids, d.ID)
		}
		if next == "" {
			break
		}
		if page > 5 {
			t.Fatal("paging does not end")
		}
		cursor = next
	}
	var want []string
	for _, m := range ms {
		want = append(want, m.ID)
	}
	if fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Errorf("dead ids over pages = %v, want %v", ids, want)
	}
	if _, _, err := q.ListDead(context.Background(), 2, "zz"); !notify.IsCode(err, notify.EInvalid) {
		t.Errorf("ListDead(bad cursor) = %v, want EInvalid", err)
	}
}

func TestPanicIsAFailure(t *testing.T) {
	q := open(t, filepath.Join(t.TempDir(), "queue.db"), Options{BackoffBase: time.Millisecond, BackoffMax: time.Millisecond})
	defer q.Close()
	var mu sync.Mutex
	n := 0
	stop := runQueue(t, q, func(ctx context.Context, m queue.Message) error {
		mu.Lock()
		defer mu.Unlock()
		n++
		if n == 1 {
			panic("bad message")
		}
		return nil
	}, 1)
	if err := q.Send(context.Background(), msgs("p")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	waitFor(t, "the retry", func() bool { mu.Lock(); defer mu.Unlock(); return n == 2 })
	waitFor(t, "the ack", func() bool { return stats(t, q) == Stats{} })
	stop()
}

// TestShutdownReleases: a handler interrupted by shutdown leaves its
// message visible, its receive not counted.
func TestShutdownReleases(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue.db")
	q := open(t, path, Options{})
	started := make(chan struct{})
	stop := runQueue(t, q, func(ctx context.Context, m queue.Message) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}, 1)
	if err := q.Send(context.Background(), msgs("s")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	select {
	case <-started:
	case <-time.After(20 * time.Second):
		t.Fatal("the message was never handled")
	}
	stop()
	if s := stats(t, q); s != (Stats{Visible: 1}) {
		t.Errorf("after shutdown stats = %+v, want 1 visible", s)
	}
	got, _, err := q.receive(1)
	if err != nil || len(got) != 1 || got[0].msg.ReceiveCount != 1 {
		t.Errorf("receive after shutdown = %+v, %v; want ReceiveCount 1", got, err)
	}
	q.Close()
}

func TestConcurrentProducersAndWorkers(t *testing.T) {
	q := open(t, filepath.Join(t.TempDir(), "queue.db"), Options{BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond})
	defer q.Close()
	const producers, perProducer, workers = 4, 150, 8
	var mu sync.Mutex
	acked := map[string]int{}
	tries := map[string]int{}
	stop := runQueue(t, q, func(ctx context.Context, m queue.Message) error {
		mu.Lock()
		defer mu.Unlock()
		tries[m.ID]++
		if tries[m.ID] == 1 && len(m.ID)%3 == 0 { // some fail once
			return errors.New("transient")
		}
		acked[m.ID]++
		return nil
	}, workers)
	var wg sync.WaitGroup
	sent := make(chan string, producers*perProducer)
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perProducer; {
				n := min(1+i%7, perProducer-i)
				batch := make([]queue.Message, n)
				for j := range batch {
					batch[j] = queue.Message{ID: fmt.Sprintf("p%d-m%d", p, i+j), Body: []byte("{}")}
				}
				if err := q.Send(context.Background(), batch); err != nil {
					t.Errorf("Send: %v", err)
					return
				}
				for _, m := range batch {
					sent <- m.ID
				}
				i += n
			}
		}()
	}
	wg.Wait()
	close(sent)
	waitFor(t, "every message", func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) == producers*perProducer })
	waitFor(t, "an empty queue", func() bool { return stats(t, q) == Stats{} })
	stop()
	for id := range sent {
		if acked[id] != 1 {
			t.Errorf("message %s acknowledged %d times, want 1", id, acked[id])
		}
	}
}

const crashEnv = "ARGO_NOTIFY_QUEUE_CRASH_HELPER"

// TestMain runs crashHelper instead of the tests when the crash helper's
// environment variable is set (TestCrashRecovery re-executes the test
// binary so).
func TestMain(m *testing.M) {
	if path := os.Getenv(crashEnv); path != "" {
		crashHelper(path)
	}
	os.Exit(m.Run())
}

// crashHelper is the child process of TestCrashRecovery: it enqueues
// messages one Send at a time, printing each id once Send returned, and
// handles them: even ones succeed ("handled"), odd ones hang ("holding").
// The parent kills it with SIGKILL; it never returns.
func crashHelper(path string) {
	q, err := Open(path, Options{Visibility: 300 * time.Millisecond})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	var out sync.Mutex
	say := func(format string, a ...any) {
		out.Lock()
		fmt.Printf(format+"\n", a...)
		out.Unlock()
	}
	go q.Run(context.Background(), func(ctx context.Context, m queue.Message) error {
		var n int
		fmt.Sscanf(string(m.Body), "%d", &n)
		if n%2 == 0 {
			say("handled %s", m.ID)
			return nil
		}
		say("holding %s", m.ID)
		select {}
	}, 4)
	for i := 0; ; i++ {
		m := []queue.Message{{ID: fmt.Sprintf("crash-%d", i), Body: []byte(fmt.Sprint(i))}}
		if err := q.Send(context.Background(), m); err != nil {
			say("error %v", err)
			os.Exit(2)
		}
		say("sent %s", m[0].ID)
	}
}

// TestCrashRecovery kills a process that is enqueueing and handling
// messages with SIGKILL, reopens its queue and checks that every message
// whose Send returned and that was not handled comes back.
func TestCrashRecovery(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue.db")
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start helper: %v", err)
	}
	sent, handled, holding := map[string]bool{}, map[string]bool{}, map[string]bool{}
	start := time.Now()
	sc := bufio.NewScanner(stdout)
	killed := false
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		switch f[0] {
		case "sent":
			sent[f[1]] = true
		case "handled":
			handled[f[1]] = true
		case "holding":
			holding[f[1]] = true
		case "error":
			t.Fatalf("helper: %s", sc.Text())
		}
		if !killed && time.Since(start) > 20*time.Second {
			cmd.Process.Kill()
			t.Fatalf("the helper did not reach the kill point: %d sent, %d handled, %d holding", len(sent), len(handled), len(holding))
		}
		if !killed && len(sent) >= 40 && len(holding) >= 3 && len(handled) >= 3 {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatalf("kill helper: %v", err)
			}
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("helper ended before it was killed: %v", err)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("helper did not die of SIGKILL: %v", err)
	}

	// A visibility timeout of an hour: the messages the killed process
	// held come back at once only because Open resumes them.
	q := open(t, path, Options{Visibility: time.Hour})
	defer q.Close()
	var mu sync.Mutex
	got := map[string]int{}
	stop := runQueue(t, q, func(ctx context.Context, m queue.Message) error {
		mu.Lock()
		got[m.ID]++
		mu.Unlock()
		return nil
	}, 4)
	waitFor(t, "the queue to drain", func() bool { return stats(t, q) == Stats{} })
	stop()
	for id := range sent {
		if !handled[id] && got[id] == 0 {
			t.Errorf("message %s was sent and never handled: lost", id)
		}
	}
	for id := range holding {
		if got[id] != 1 {
			t.Errorf("message %s was in flight at the crash; redelivered %d times, want 1", id, got[id])
		}
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("message %s delivered %d times after restart, want 1", id, n)
		}
	}
	t.Logf("sent %d before the kill (%d handled, %d in flight); %d delivered after restart", len(sent), len(handled), len(holding), len(got))
}

func BenchmarkSend(b *testing.B) {
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			q := open(b, filepath.Join(b.TempDir(), "queue.db"), Options{})
			defer q.Close()
			body := []byte(`{"id":"e1","type":"JOB","severity":"CRITICAL","title":"Job failed","message":"the nightly job failed","source":"argo"}`)
			batch := make([]queue.Message, n)
			b.ResetTimer()
			for b.Loop() {
				for i := range batch {
					batch[i] = queue.Message{Body: body}
				}
				if err := q.Send(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// BenchmarkSendParallel measures single-message Sends from 16 goroutines
// (concurrent ingest requests), which share commits.
func BenchmarkSendParallel(b *testing.B) {
	q := open(b, filepath.Join(b.TempDir(), "queue.db"), Options{})
	defer q.Close()
	body := []byte(`{"id":"e1","type":"JOB","severity":"CRITICAL","title":"Job failed"}`)
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := q.Send(context.Background(), []queue.Message{{Body: body}}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkReceiveAck measures the consume cycle: receive, run a no-op
// handler, acknowledge.
func BenchmarkReceiveAck(b *testing.B) {
	for _, workers := range []int{1, 8} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			q := open(b, filepath.Join(b.TempDir(), "queue.db"), Options{})
			defer q.Close()
			body := []byte(`{"id":"e1","type":"JOB","severity":"CRITICAL","title":"Job failed"}`)
			for left := b.N; left > 0; left -= 100 {
				batch := make([]queue.Message, min(left, 100))
				for i := range batch {
					batch[i] = queue.Message{Body: body}
				}
				if err := q.Send(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
			}
			var mu sync.Mutex
			done := 0
			all := make(chan struct{})
			ctx, cancel := context.WithCancel(context.Background())
			b.ResetTimer()
			go func() {
				<-all
				for {
					if s, _ := q.Stats(context.Background()); s == (Stats{}) {
						break
					}
					time.Sleep(time.Millisecond)
				}
				cancel()
			}()
			if err := q.Run(ctx, func(context.Context, queue.Message) error {
				mu.Lock()
				done++
				if done == b.N {
					close(all)
				}
				mu.Unlock()
				return nil
			}, workers); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// TestOneOpener: while a queue file is open, a second Open of it (another
// process, or this one) waits for the lock and fails: one process owns it.
func TestOneOpener(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue.db")
	q := open(t, path, Options{})
	if q2, err := Open(path, Options{}); err == nil {
		q2.Close()
		t.Fatal("a second Open of an open queue succeeded, want it refused")
	} else if !strings.Contains(err.Error(), "timeout") {
		t.Errorf("second Open = %v, want the lock timeout", err)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	q = open(t, path, Options{}) // free again once closed
	q.Close()
}
