package server

import (
	"net/http"
	"strconv"

	"tinycrm.dev/tinycrm/filter"
	"tinycrm.dev/tinycrm/store"
)

const (
	paramProject  = "project"
	paramSuppress = "suppress"
)

// forgetCustomer erases a person (SPEC §3). Suppression is workspace-wide:
// the ingest path drops a suppressed email in every project, so it cannot
// be limited to one, and project together with suppress=true is refused
// rather than silently widened. An email never seen can still be
// suppressed (a deletion request that arrives before the person does).
func (s *Server) forgetCustomer(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var o store.ForgetOptions
	if vs := q[paramProject]; len(vs) > 1 {
		return badField(paramProject, "given once: forget unlinks one project at a time")
	} else if len(vs) == 1 {
		if !filter.IsSlug(vs[0]) {
			return badField(paramProject, "must be a project slug (a-z, 0-9 and -); got %q", truncate(vs[0]))
		}
		o.Project = vs[0]
	}
	if vs := q[paramSuppress]; len(vs) > 1 {
		return badField(paramSuppress, "given more than once")
	} else if len(vs) == 1 {
		b, err := strconv.ParseBool(vs[0])
		if err != nil {
			return badField(paramSuppress, "must be true or false; got %q", truncate(vs[0]))
		}
		o.Suppress = b
	}
	if o.Suppress && o.Project != "" {
		return badField(paramSuppress, "cannot be combined with project: suppression drops the email in every project of the workspace; "+
			"forget the person everywhere with suppress=true, or unlink them from %s without it", o.Project)
	}
	key, err := customerKey(r)
	if err != nil {
		return err
	}
	defer s.counts.invalidate(workspaceFrom(r.Context()))
	res, err := s.store.ForgetCustomer(r.Context(), workspaceFrom(r.Context()), key, o)
	if err != nil {
		return queryError(err)
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
