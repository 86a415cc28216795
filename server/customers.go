package server

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"tinycrm.dev/tinycrm/email"
	"tinycrm.dev/tinycrm/store"
)

func (s *Server) getCustomer(w http.ResponseWriter, r *http.Request) error {
	key, err := customerKey(r)
	if err != nil {
		return err
	}
	c, err := s.store.GetCustomer(r.Context(), workspaceFrom(r.Context()), key)
	if err != nil {
		return customerErr(err, key)
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// customerKey is the {idOrEmail} of a customer route: a normalized email
// (anything with an @ in it) or a customer id. Anything else is a 400
// before any database work, so that forget with suppress=true cannot
// suppress a typo.
func customerKey(r *http.Request) (string, error) {
	key := r.PathValue("idOrEmail")
	if strings.Contains(key, "@") {
		e, err := email.Normalize(key)
		if err != nil {
			return "", badField("email", "%s", strings.TrimPrefix(err.Error(), "email: "))
		}
		return e, nil
	}
	if id, err := strconv.ParseInt(key, 10, 64); err != nil || id <= 0 {
		return "", badField("id-or-email", "must be a customer's email or numeric id; got %q", truncate(key))
	}
	return key, nil
}

// customerErr turns the store's not-found for a customer into a 404 that
// names who was looked for.
func customerErr(err error, key string) error {
	if errors.Is(err, store.ErrNotFound) {
		return problemf(http.StatusNotFound, "no customer %s in this workspace", key)
	}
	return err
}
