package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/filter"
)

// An app identifies a customer when they sign up or change plan. The key
// is the project's tcrm_pk_ key; the server comes from TINYCRM_URL unless
// WithBaseURL says otherwise.
func ExampleNew() {
	crm := client.New("tcrm_pk_...", client.WithBaseURL("https://crm.example.com"))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := crm.Identify(ctx, client.Identify{
		Email:  "alice@example.com",
		Name:   "Alice Chen",
		Status: "paid",
		Params: map[string]any{"plan": "pro", "mrr": 9},
	})
	if err != nil {
		log.Printf("tinycrm: %v", err)
	}
}

// A Queue keeps TinyCRM off the request path: Enqueue never blocks, and
// Close sends what is left when the app shuts down.
func ExampleQueue() {
	crm := client.New("tcrm_pk_...")
	q := client.NewQueue(crm, client.QueueOptions{
		OnDrop: func(item client.Identify, err error) {
			log.Printf("tinycrm: dropped %s: %v", item.Email, err)
		},
	})

	// In a request handler:
	q.Enqueue(client.Identify{Email: "bob@example.com", Status: "trialing"})

	// At shutdown:
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := q.Close(ctx); err != nil {
		log.Printf("tinycrm: %v", err)
	}
}

// The CLI and the TUI read with an admin token.
func ExampleClient_Customers() {
	crm := client.New("tcrm_at_...")
	where, err := filter.ParseWhere("mrr>=9")
	if err != nil {
		log.Fatal(err)
	}
	f := filter.Filter{MinProjects: 2, Where: []filter.Expr{where}, Sort: filter.Sort{Key: filter.SortMRR}}
	for c, err := range crm.AllCustomers(context.Background(), f, client.MaxPageSize) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(c.Email, c.ProjectCount, c.MRRTotal)
	}
}

// Server errors are *APIError values, whose message names the field at
// fault.
func ExampleAPIError() {
	var err error = fmt.Errorf("identify: %w", &client.APIError{
		Status: 400, Title: "Bad Request", Field: "email", Detail: "missing @",
	})
	var ae *client.APIError
	if errors.As(err, &ae) {
		fmt.Println(ae.Field)
	}
	fmt.Println(err)
	fmt.Println(client.IsNotFound(err))
	// Output:
	// email
	// identify: 400 Bad Request: email: missing @
	// false
}
