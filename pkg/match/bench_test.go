package match_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/argoproj-labs/argo-notify/pkg/match"
	"github.com/argoproj-labs/argo-notify/pkg/match/matchtest"
)

func BenchmarkMatch(b *testing.B) {
	for _, n := range []int{10, 1_000, 10_000} {
		rng := rand.New(rand.NewPCG(uint64(n), 7))
		rules := matchtest.Rules(rng, n)
		evs := matchtest.Events(rng, 1024, n)
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			idx := match.New(rules)
			matched := 0
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				matched += len(idx.Match(evs[i&1023]))
				i++
			}
			b.ReportMetric(float64(matched)/float64(i), "matches/event")
		})
		b.Run(fmt.Sprintf("rules=%d/naive", n), func(b *testing.B) {
			matched := 0
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				matched += len(naive(rules, evs[i&1023]))
				i++
			}
			b.ReportMetric(float64(matched)/float64(i), "matches/event")
		})
	}
}

func BenchmarkNew(b *testing.B) {
	for _, n := range []int{10, 1_000, 10_000} {
		rules := matchtest.Rules(rand.New(rand.NewPCG(uint64(n), 7)), n)
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				match.New(rules)
			}
		})
	}
}
