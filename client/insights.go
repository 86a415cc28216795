package client

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"tinycrm.dev/tinycrm/filter"
)

// Overlap is the overlap insight (SPEC §7): who is in which projects.
type Overlap struct {
	// Projects in creation order, with their member counts.
	Projects []ProjectCustomers `json:"projects"`
	// Pairs has every pair of projects once, A before B in creation
	// order, including pairs that share nobody.
	Pairs []PairOverlap `json:"pairs"`
	// Distribution counts customers by their number of projects, from 1
	// to the largest count present, with no gaps.
	Distribution []ProjectsBucket `json:"distribution"`
}

// ProjectCustomers is one project with its number of members.
type ProjectCustomers struct {
	Slug      string `json:"slug"`
	Name      string `json:"name"`
	Color     string `json:"color"`
	Customers int64  `json:"customers"`
}

// PairOverlap is how many customers two projects (slugs) share.
type PairOverlap struct {
	A      string `json:"a"`
	B      string `json:"b"`
	Shared int64  `json:"shared"`
}

// ProjectsBucket is how many customers are in exactly Projects projects.
type ProjectsBucket struct {
	Projects  int   `json:"projects"`
	Customers int64 `json:"customers"`
}

// Revenue is the revenue insight (SPEC §7).
type Revenue struct {
	// TotalMRR is the sum of every customer's mrr_total.
	TotalMRR float64 `json:"total_mrr"`
	// PayingCustomers counts customers with mrr_total > 0.
	PayingCustomers int64 `json:"paying_customers"`
	// ByProject has every project, biggest MRR first.
	ByProject []ProjectRevenue `json:"by_project"`
	// TopCustomers are the (at most) 10 customers with the largest
	// mrr_total above zero, biggest first.
	TopCustomers []Customer `json:"top_customers"`
	// TopDecileShare is the share (0..1) of the paying customers' MRR held
	// by the top 10 % of them.
	TopDecileShare float64 `json:"top_decile_share"`
}

// ProjectRevenue is one project's share of the revenue.
type ProjectRevenue struct {
	Slug  string  `json:"slug"`
	Name  string  `json:"name"`
	Color string  `json:"color"`
	MRR   float64 `json:"mrr"`
	// PayingCustomers counts members whose params.mrr here is above zero.
	PayingCustomers int64 `json:"paying_customers"`
}

// RiskCustomer is a customer of the churn-risk insight, with the projects
// they are slipping away from.
type RiskCustomer struct {
	Customer
	AtRisk []AtRisk `json:"at_risk"`
}

// AtRisk is one project in which a customer is at risk.
type AtRisk struct {
	Slug string `json:"slug"`
	// Reason is "churned" (their status there) or "idle" (not seen there
	// within the idle age).
	Reason string `json:"reason"`
}

// RiskPage is one page of the churn-risk insight. NextCursor is "" on the
// last page.
type RiskPage struct {
	Customers  []RiskCustomer `json:"customers"`
	NextCursor string         `json:"next_cursor"`
}

// InsightOptions page through the upsell and churn-risk lists.
type InsightOptions struct {
	// Limit is the page size (0: the server's default; at most
	// MaxPageSize).
	Limit int
	// Cursor is "" for the first page, then the previous NextCursor.
	Cursor string
	// Sort orders the list; the zero Sort means biggest MRR first.
	Sort filter.Sort
}

// query returns o as query parameters.
func (o InsightOptions) query() url.Values {
	q := url.Values{}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.Cursor != "" {
		q.Set("cursor", o.Cursor)
	}
	if s := o.Sort.String(); s != "" {
		q.Set(filter.ParamSort, s)
	}
	return q
}

// Overlap returns the overlap insight.
func (c *Client) Overlap(ctx context.Context) (Overlap, error) {
	var o Overlap
	err := c.getJSON(ctx, "overlap insight", "/v1/insights/overlap", nil, &o)
	return o, err
}

// Revenue returns the revenue insight.
func (c *Client) Revenue(ctx context.Context) (Revenue, error) {
	var r Revenue
	err := c.getJSON(ctx, "revenue insight", "/v1/insights/revenue", nil, &r)
	return r, err
}

// Upsell returns a page of the people who are free or trialing in one
// project and paid in another.
func (c *Client) Upsell(ctx context.Context, o InsightOptions) (CustomerPage, error) {
	var p CustomerPage
	if err := c.getJSON(ctx, "upsell insight", "/v1/insights/upsell", o.query(), &p); err != nil {
		return CustomerPage{}, err
	}
	return p, nil
}

// ChurnRisk returns a page of the people whose last_seen in some project
// is older than idle (or whose status there is churned) while they were
// active in another project within active. A zero idle or active takes
// the server's default (30 and 14 days).
func (c *Client) ChurnRisk(ctx context.Context, idle, active time.Duration, o InsightOptions) (RiskPage, error) {
	q := o.query()
	if idle != 0 {
		q.Set("idle", filter.FormatAge(idle))
	}
	if active != 0 {
		q.Set("active", filter.FormatAge(active))
	}
	var p RiskPage
	if err := c.getJSON(ctx, "churn-risk insight", "/v1/insights/churn-risk", q, &p); err != nil {
		return RiskPage{}, err
	}
	return p, nil
}
