package api_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/argoproj-labs/argo-notify/pkg/api"
	"github.com/argoproj-labs/argo-notify/pkg/queue"
)

func TestDeadLetters(t *testing.T) {
	e := newEnv(t)
	dead := func(id, body string) queue.DeadLetter {
		return queue.DeadLetter{
			Message: queue.Message{ID: id, Body: []byte(body), Attributes: map[string]string{"eventId": id}, ReceiveCount: 5,
				FirstSentAt: clock},
			LastError: "store unavailable", DeadAt: clock.Add(time.Minute),
		}
	}
	e.dead.dead = []queue.DeadLetter{
		dead("e-1", eventJSON("one", `,"id":"e-1"`)),
		dead("e-2", "not json"),
		dead("e-3", eventJSON("three", `,"id":"e-3"`)),
	}

	var page1, page2 api.DeadLetterList
	decodeInto(t, e.do("GET", "/v1/dead-letters?limit=2", "").body, &page1)
	decodeInto(t, e.do("GET", "/v1/dead-letters?limit=2&cursor="+page1.Next, "").body, &page2)
	var ids []string
	for _, d := range append(page1.Items, page2.Items...) {
		ids = append(ids, d.ID)
	}
	if !slices.Equal(ids, []string{"e-1", "e-2", "e-3"}) || page1.Next == "" || page2.Next != "" {
		t.Fatalf("ids %v, next %q then %q", ids, page1.Next, page2.Next)
	}
	want := api.DeadLetter{
		ID: "e-1", Body: json.RawMessage(eventJSON("one", `,"id":"e-1"`)), Attributes: map[string]string{"eventId": "e-1"},
		ReceiveCount: 5, FirstSentAt: clock, LastError: "store unavailable", DeadAt: clock.Add(time.Minute),
	}
	if diff := cmp.Diff(want, page1.Items[0]); diff != "" {
		t.Errorf("dead letter (-want +got):\n%s", diff)
	}
	if got := string(page1.Items[1].Body); got != `"not json"` {
		t.Errorf("a body that is not JSON comes back as %s, want a string", got)
	}

	e.must(http.StatusAccepted, "POST", "/v1/dead-letters/e-2/redrive", "")
	if !slices.Equal(e.dead.redriven, []string{"e-2"}) {
		t.Errorf("redriven %v", e.dead.redriven)
	}
	e.must(http.StatusNotFound, "POST", "/v1/dead-letters/e-2/redrive", "")

	e.dead.err = errBroken
	if r := e.do("GET", "/v1/dead-letters", ""); r.status != http.StatusInternalServerError {
		t.Errorf("a failing queue: %d %s", r.status, r.body)
	}
}
