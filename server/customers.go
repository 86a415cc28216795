package server

import (
	"net/http"
	"strings"

	"tinycrm.dev/tinycrm/email"
)

func (s *Server) getCustomer(w http.ResponseWriter, r *http.Request) error {
	key := r.PathValue("idOrEmail")
	if strings.Contains(key, "@") {
		e, err := email.Normalize(key)
		if err != nil {
			return badField("email", "%s", strings.TrimPrefix(err.Error(), "email: "))
		}
		key = e
	}
	c, err := s.store.GetCustomer(r.Context(), workspaceFrom(r.Context()), key)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}
