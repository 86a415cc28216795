package server

import (
	"net/http"
	"time"

	"tinycrm.dev/tinycrm/filter"
	"tinycrm.dev/tinycrm/store"
)

// Parameters and defaults of the churn-risk insight (SPEC §7).
const (
	paramIdle     = "idle"
	paramActive   = "active"
	defaultIdle   = 30 * 24 * time.Hour
	defaultActive = 14 * 24 * time.Hour
)

func (s *Server) stats(w http.ResponseWriter, r *http.Request) error {
	st, err := s.counts.Stats(r.Context(), workspaceFrom(r.Context()))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) overlapInsight(w http.ResponseWriter, r *http.Request) error {
	o, err := s.store.Overlap(r.Context(), workspaceFrom(r.Context()))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}

func (s *Server) revenueInsight(w http.ResponseWriter, r *http.Request) error {
	rev, err := s.store.Revenue(r.Context(), workspaceFrom(r.Context()))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rev)
	return nil
}

// insightParams are the query parameters of the customer-list insights.
var insightParams = []string{paramLimit, paramCursor, filter.ParamSort}

// insightQuery reads limit, cursor and sort (default mrr, biggest first).
func insightQuery(r *http.Request) (store.InsightQuery, error) {
	q := r.URL.Query()
	var iq store.InsightQuery
	var err error
	if iq.Limit, iq.Cursor, err = pageParams(q); err != nil {
		return store.InsightQuery{}, err
	}
	switch vs := q[filter.ParamSort]; {
	case len(vs) > 1:
		return store.InsightQuery{}, badField(filter.ParamSort, "given more than once")
	case len(vs) == 1:
		if iq.Sort, err = filter.ParseSort(vs[0]); err != nil {
			return store.InsightQuery{}, badField(filter.ParamSort, "%s", err.Error())
		}
	}
	return iq, nil
}

func (s *Server) upsellInsight(w http.ResponseWriter, r *http.Request) error {
	iq, err := insightQuery(r)
	if err != nil {
		return err
	}
	page, err := s.store.Upsell(r.Context(), workspaceFrom(r.Context()), iq)
	if err != nil {
		return queryError(err)
	}
	writeJSON(w, http.StatusOK, newPage(page.Customers, page.NextCursor))
	return nil
}

func (s *Server) churnRiskInsight(w http.ResponseWriter, r *http.Request) error {
	iq, err := insightQuery(r)
	if err != nil {
		return err
	}
	cq := store.ChurnQuery{InsightQuery: iq, Idle: defaultIdle, Active: defaultActive, Now: s.now()}
	q := r.URL.Query()
	for _, p := range []struct {
		name string
		dst  *time.Duration
	}{{paramIdle, &cq.Idle}, {paramActive, &cq.Active}} {
		switch vs := q[p.name]; {
		case len(vs) > 1:
			return badField(p.name, "given more than once")
		case len(vs) == 1:
			d, err := filter.ParseAge(vs[0])
			if err != nil {
				return badField(p.name, "%s", err.Error())
			}
			*p.dst = d
		}
	}
	page, err := s.store.ChurnRisk(r.Context(), workspaceFrom(r.Context()), cq)
	if err != nil {
		return queryError(err)
	}
	writeJSON(w, http.StatusOK, newPage(page.Customers, page.NextCursor))
	return nil
}
