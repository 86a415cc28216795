package server

import (
	"context"
	"errors"
	"sync"
	"time"

	"tinycrm.dev/tinycrm/store"
)

// errOverloaded means the ingest queue is full; the caller answers 503.
var errOverloaded = errors.New("ingest queue full")

// pipeline group-commits single ingest calls: handlers enqueue writes, a few
// workers take whatever is queued (up to maxBatch, waiting at most linger for
// more) and apply it in one transaction, then answer every caller. Under load
// many calls share one commit, so one fsync serves a whole batch; when idle a
// call waits at most linger.
type pipeline struct {
	store    *store.Store
	queue    chan *pending
	maxBatch int
	linger   time.Duration
	timeout  time.Duration
	metrics  *metrics
	activity *activity
	wg       sync.WaitGroup
}

type pending struct {
	write  store.Write
	result store.Result
	err    error
	done   chan struct{}
}

type pipelineOptions struct {
	QueueSize int
	MaxBatch  int
	Linger    time.Duration
	Workers   int
	// Timeout bounds one batch's transaction.
	Timeout time.Duration
}

func newPipeline(st *store.Store, m *metrics, act *activity, o pipelineOptions) *pipeline {
	p := &pipeline{
		store:    st,
		activity: act,
		queue:    make(chan *pending, o.QueueSize),
		maxBatch: o.MaxBatch,
		linger:   o.Linger,
		timeout:  o.Timeout,
		metrics:  m,
	}
	p.wg.Add(o.Workers)
	for range o.Workers {
		go p.work()
	}
	return p
}

// submit enqueues w and waits until its batch has committed or failed. If ctx
// ends first the write may still be applied; the caller never said it was.
func (p *pipeline) submit(ctx context.Context, w store.Write) (store.Result, error) {
	pd := &pending{write: w, done: make(chan struct{})}
	select {
	case p.queue <- pd:
	default:
		return store.Result{}, errOverloaded
	}
	select {
	case <-pd.done:
		return pd.result, pd.err
	case <-ctx.Done():
		return store.Result{}, ctx.Err()
	}
}

// close stops the workers after the queue has drained. Callers must not
// submit afterwards (the HTTP server has shut down by then).
func (p *pipeline) close() {
	close(p.queue)
	p.wg.Wait()
}

func (p *pipeline) work() {
	defer p.wg.Done()
	batch := make([]*pending, 0, p.maxBatch)
	writes := make([]store.Write, 0, p.maxBatch)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		first, ok := <-p.queue
		if !ok {
			return
		}
		batch = append(batch[:0], first)
		open := p.fill(&batch, timer)
		writes = writes[:0]
		for _, pd := range batch {
			writes = append(writes, pd.write)
		}
		p.metrics.batchSize.Observe(float64(len(writes)))
		ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
		began := time.Now()
		results, err := p.store.ApplyWrites(ctx, writes)
		p.metrics.commit.Observe(time.Since(began).Seconds())
		cancel()
		if err == nil {
			p.activity.add(writes, results, time.Now())
		}
		for i, pd := range batch {
			if err != nil {
				pd.err = err
			} else {
				pd.result = results[i]
			}
			close(pd.done)
		}
		if !open {
			return
		}
	}
}

// fill adds queued writes to batch until it is full or linger has passed
// since the batch started; it returns false when the queue is closed.
func (p *pipeline) fill(batch *[]*pending, timer *time.Timer) bool {
	timer.Reset(p.linger)
	defer timer.Stop()
	for len(*batch) < p.maxBatch {
		select {
		case pd, ok := <-p.queue:
			if !ok {
				return false
			}
			*batch = append(*batch, pd)
		case <-timer.C:
			return true
		}
	}
	return true
}
