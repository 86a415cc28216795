package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"tinycrm.dev/tinycrm/store"
)

// BenchmarkApplyWrites times the group commit of identifies without HTTP:
// one iteration is one batch of 21 writes (what two pipeline workers take
// from 64 clients), drawn like go run ./bench draws them: one of 100,000
// emails, one of 3 projects, a random status and mrr, a fresh message id.
// 50,000 customers are loaded first, so batches mix new and known people.
// The test cluster runs with fsync off, so this is the work, not the disk.
//
//	go test -run '^$' -bench ApplyWrites -benchtime 3000x ./store
func BenchmarkApplyWrites(b *testing.B) {
	f := newFixture(b, "a", "b", "c")
	st, ws := f.st, f.ws
	projects := []int64{f.ids["a"], f.ids["b"], f.ids["c"]}
	rng := rand.New(rand.NewPCG(1, 2))
	statuses := []string{"free", "trialing", "paid", "churned"}
	msg := 0
	write := func(email int) store.Write {
		msg++
		return store.Write{WorkspaceID: ws, ProjectID: projects[rng.IntN(len(projects))],
			Email: fmt.Sprintf("user%d@example.com", email), Status: statuses[rng.IntN(len(statuses))],
			Params: json.RawMessage(fmt.Sprintf(`{"plan":"pro","mrr":%d}`, rng.IntN(50))),
			At:     time.Now(), MessageID: fmt.Sprint("m", msg)}
	}
	apply := func(writes []store.Write) { mustApply(b, st, writes) }
	for start := 0; start < 50_000; start += 500 {
		batch := make([]store.Write, 500)
		for i := range batch {
			batch[i] = write(start + i)
		}
		apply(batch)
	}
	const size = 21
	batch := make([]store.Write, size)
	b.ResetTimer()
	for b.Loop() {
		for i := range batch {
			batch[i] = write(rng.IntN(100_000))
		}
		apply(batch)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*size), "µs/identify")
}

// BenchmarkApplyBatch times what one /v1/batch call of go run ./bench does
// in the store: 1,000 new customers in one transaction, each with a name,
// a status and params, on 50,000 customers loaded first.
//
//	go test -run '^$' -bench ApplyBatch -benchtime 50x ./store
func BenchmarkApplyBatch(b *testing.B) {
	f := newFixture(b, "a")
	batch := make([]store.Write, 1000)
	next := 0
	fill := func() {
		for i := range batch {
			next++
			batch[i] = store.Write{WorkspaceID: f.ws, ProjectID: f.ids["a"], Email: fmt.Sprintf("batch%d@example.org", next),
				Name: fmt.Sprintf("Batch Person %d", next), Status: "paid",
				Params: json.RawMessage(fmt.Sprintf(`{"plan":"team","mrr":%d}`, next%100)), At: time.Now()}
		}
	}
	for range 50 {
		fill()
		mustApply(b, f.st, batch)
	}
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		fill()
		b.StartTimer()
		mustApply(b, f.st, batch)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(batch)), "µs/customer")
}

// mustApply applies writes and fails b unless every one was applied.
func mustApply(b *testing.B, st *store.Store, writes []store.Write) {
	res, err := st.ApplyWrites(context.Background(), writes)
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range res {
		if r.Outcome != store.Applied {
			b.Fatalf("outcome %v: %v", r.Outcome, r.Err)
		}
	}
}
