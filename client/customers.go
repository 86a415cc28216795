package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"tinycrm.dev/tinycrm/filter"
)

// Customer is one person across the portfolio, in the JSON shape of SPEC
// §5, so encoding it gives what `tinycrm customers --json` prints.
type Customer struct {
	ID           int64        `json:"id"`
	Email        string       `json:"email"`
	Name         string       `json:"name"`
	FirstSeen    time.Time    `json:"first_seen"`
	LastSeen     time.Time    `json:"last_seen"`
	ProjectCount int          `json:"project_count"`
	MRRTotal     float64      `json:"mrr_total"`
	Projects     []Membership `json:"projects"`
}

// Membership is a customer's state in one project, with the project's name
// and colour for its badge.
type Membership struct {
	Slug   string `json:"slug"`
	Name   string `json:"name"`
	Color  string `json:"color"`
	Status string `json:"status"`
	// Params as the app sent them; JSON numbers are json.Number, so that
	// no digit is lost (an account number such as 12345678901234567890).
	Params    map[string]any `json:"params"`
	FirstSeen time.Time      `json:"first_seen"`
	LastSeen  time.Time      `json:"last_seen"`
}

// Event is one entry of a customer's timeline: a change of name, status or
// params in one project, or joining it.
type Event struct {
	At      time.Time `json:"at"`
	Project string    `json:"project"` // slug
	// Kind is "joined", "name", "status" or "params".
	Kind string `json:"kind"`
	// Before and After are the changed value(s) as JSON; null when absent.
	Before json.RawMessage `json:"before"`
	After  json.RawMessage `json:"after"`
}

// CustomerDetail is a customer with their timeline, newest first: the
// server's newest 200 events, and TimelineHasMore when there are older
// ones.
type CustomerDetail struct {
	Customer
	Timeline        []Event `json:"timeline"`
	TimelineHasMore bool    `json:"timeline_has_more"`
}

// CustomerPage is one page of a customer list. NextCursor is "" on the
// last page (the server sends null).
type CustomerPage struct {
	Customers  []Customer `json:"customers"`
	NextCursor string     `json:"next_cursor"`
}

// MaxPageSize is the largest page the server returns (SPEC §3).
const MaxPageSize = 500

// customerPath returns the escaped path of a customer.
func customerPath(idOrEmail string) string {
	return "/v1/customers/" + url.PathEscape(idOrEmail)
}

// Customer returns one customer, by numeric id or by email (normalized by
// the server, so "Alice@Example.com " finds alice@example.com), with their
// newest timeline events.
func (c *Client) Customer(ctx context.Context, idOrEmail string) (CustomerDetail, error) {
	var d CustomerDetail
	err := c.getJSON(ctx, "get customer "+idOrEmail, customerPath(idOrEmail), nil, &d)
	return d, err
}

// Customers returns one page of the customers that match f, in f's order.
// limit is the page size (0: the server's default; at most MaxPageSize);
// cursor is "" for the first page, then the previous page's NextCursor.
func (c *Client) Customers(ctx context.Context, f filter.Filter, limit int, cursor string) (CustomerPage, error) {
	q := f.Query()
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	var p CustomerPage
	if err := c.getJSON(ctx, "list customers", "/v1/customers", q, &p); err != nil {
		return CustomerPage{}, err
	}
	return p, nil
}

// AllCustomers yields every customer that matches f, fetching pages of
// pageSize as the loop goes on. An error ends the sequence after it is
// yielded.
func (c *Client) AllCustomers(ctx context.Context, f filter.Filter, pageSize int) iter.Seq2[Customer, error] {
	return func(yield func(Customer, error) bool) {
		cursor := ""
		for {
			p, err := c.Customers(ctx, f, pageSize, cursor)
			if err != nil {
				yield(Customer{}, err)
				return
			}
			for _, cu := range p.Customers {
				if !yield(cu, nil) {
					return
				}
			}
			if p.NextCursor == "" || p.NextCursor == cursor {
				return
			}
			cursor = p.NextCursor
		}
	}
}

// Stats are the counts of the TUI's header line.
type Stats struct {
	Customers    int64 `json:"customers"`
	Projects     int64 `json:"projects"`
	MultiProject int64 `json:"multi_project"` // customers in 2 or more projects
}

// Stats returns the workspace's counts.
func (c *Client) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	err := c.getJSON(ctx, "get stats", "/v1/stats", nil, &s)
	return s, err
}

// Export formats.
const (
	FormatCSV   = "csv"
	FormatJSONL = "jsonl"
)

// Export streams the customers that match f in format (FormatCSV or
// FormatJSONL) as the server writes them: nothing is buffered, so any
// number of customers takes constant memory. The caller must close the
// reader; ctx bounds the whole download. The request is retried only until
// the response starts.
func (c *Client) Export(ctx context.Context, f filter.Filter, format string) (io.ReadCloser, error) {
	q := f.Query()
	q.Set("format", format)
	r, err := c.do(ctx, call{op: "export customers", method: http.MethodGet, path: "/v1/export", query: q, stream: true})
	if err != nil {
		return nil, err
	}
	if r.stream == nil {
		return nil, fmt.Errorf("export customers: the server sent no body (status %d)", r.status)
	}
	return r.stream, nil
}

// ForgetOptions narrow or extend Forget.
type ForgetOptions struct {
	// Project, when set, only unlinks the customer from this project
	// (slug); the person goes too if no project is left. Otherwise the
	// person is erased everywhere.
	Project string
	// Suppress drops later identifies of this email in every project
	// (only a keyed hash of it is kept for that). The server refuses it
	// together with Project. An email never seen can be suppressed.
	Suppress bool
}

// ForgetResult says what Forget did.
type ForgetResult struct {
	// Deleted: something was erased (the customer or one membership).
	Deleted bool `json:"deleted"`
	// CustomerDeleted: the person is gone from the workspace entirely.
	CustomerDeleted bool `json:"customer_deleted"`
	// Suppressed: the email is (now) on the suppression list.
	Suppressed bool `json:"suppressed"`
}

// Forget erases a customer, by id or email, everywhere (or from one
// project): memberships, timeline and, when no membership is left, the
// person. A call whose reply was lost is retried, and if the retry finds
// the customer gone the result is the one the lost attempt had.
func (c *Client) Forget(ctx context.Context, idOrEmail string, o ForgetOptions) (ForgetResult, error) {
	op := "forget " + idOrEmail
	q := url.Values{}
	if o.Project != "" {
		q.Set("project", o.Project)
	}
	if o.Suppress {
		q.Set("suppress", "true")
	}
	r, err := c.do(ctx, call{op: op, method: http.MethodDelete, path: customerPath(idOrEmail), query: q, goneOK: true})
	if err != nil {
		return ForgetResult{}, err
	}
	if r.gone {
		return ForgetResult{Deleted: true, CustomerDeleted: o.Project == "", Suppressed: o.Suppress}, nil
	}
	var res ForgetResult
	if err := json.Unmarshal(r.body, &res); err != nil {
		return ForgetResult{}, fmt.Errorf("%s: decode the server's reply: %w", op, err)
	}
	return res, nil
}
