package client_test

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"tinycrm.dev/tinycrm/client"
)

// BenchmarkQueueThroughput measures identify calls per second through a
// Queue to a real server and PostgreSQL on this machine, 10,000 distinct
// people cycling, each call with new params.
func BenchmarkQueueThroughput(b *testing.B) {
	e := setup(b)
	_, key := e.project("Bench")
	var lost atomic.Int64 // drops other than a full queue
	q := client.NewQueue(e.client(key), client.QueueOptions{
		MaxQueued: 50000,
		OnDrop: func(_ client.Identify, err error) {
			if !errors.Is(err, client.ErrQueueFull) {
				lost.Add(1)
			}
		},
	})
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		for !q.Enqueue(client.Identify{Email: fmt.Sprintf("user%d@example.com", i%10000), Params: map[string]any{"n": i}}) {
			// Full: the producer outran the server; wait for room and
			// enqueue the item again.
			time.Sleep(100 * time.Microsecond)
		}
	}
	if err := q.Close(ctx(b)); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if n := lost.Load(); n != 0 {
		b.Fatalf("%d items dropped", n)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "identifies/s")
}
