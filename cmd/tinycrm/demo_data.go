package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"tinycrm.dev/tinycrm/client"
)

// demoProject is one of the demo's three products.
type demoProject struct {
	name, color string
	// statuses weighs each current status.
	statuses []weighted
	// plans are the paid plans with their monthly price.
	plans []demoPlan
	// extra adds the product's own params.
	extra func(r *rand.Rand, status string, now time.Time) map[string]any
}

type weighted struct {
	value  string
	weight int
}

type demoPlan struct {
	name string
	mrr  float64
}

// demoProjects are a newsletter tool, a link-in-bio tool and an analytics
// dashboard, as SPEC §5 describes; Alice Chen is paid on the first, free on
// the second and trialing on the third (SPEC §10).
func demoProjects() []demoProject {
	return []demoProject{
		{
			name: "Inkwell", color: "#e5484d",
			statuses: []weighted{{"free", 52}, {"paid", 33}, {"trialing", 5}, {"churned", 10}},
			plans:    []demoPlan{{"creator", 9}, {"pro", 9}, {"pro", 19}, {"publisher", 49}},
			extra: func(r *rand.Rand, status string, _ time.Time) map[string]any {
				return map[string]any{"subscribers": r.IntN(40)*r.IntN(60) + r.IntN(30), "issues_sent": r.IntN(80)}
			},
		},
		{
			name: "Linkpage", color: "#2fb344",
			statuses: []weighted{{"free", 64}, {"paid", 26}, {"churned", 10}},
			plans:    []demoPlan{{"plus", 5}, {"pro", 12}, {"pro", 12}},
			extra: func(r *rand.Rand, status string, _ time.Time) map[string]any {
				return map[string]any{"links": 2 + r.IntN(24), "clicks_30d": r.IntN(50) * r.IntN(90)}
			},
		},
		{
			name: "Metricly", color: "#3b82f6",
			statuses: []weighted{{"trialing", 22}, {"paid", 46}, {"free", 14}, {"churned", 18}},
			plans:    []demoPlan{{"starter", 19}, {"starter", 19}, {"growth", 49}, {"business", 99}},
			extra: func(r *rand.Rand, status string, now time.Time) map[string]any {
				m := map[string]any{"sites": 1 + r.IntN(6)}
				if status == "trialing" {
					m["trial_ends"] = now.AddDate(0, 0, 1+r.IntN(13)).Format("2006-01-02")
					m["plan"] = "starter"
				}
				return m
			},
		},
	}
}

// demoWords are the names, domains and sign-up sources people are made of.
type demoWords struct {
	first, last, domains, sources []string
}

func newDemoWords() demoWords {
	return demoWords{
		first: []string{"Maya", "Liam", "Sofia", "Noah", "Amara", "Ethan", "Yuki", "Lucas", "Priya", "Mateo", "Zoe", "Omar",
			"Hannah", "Leo", "Ines", "Kai", "Chloe", "Arjun", "Elena", "Theo", "Nadia", "Felix", "Grace", "Ravi", "Lena", "Jonas",
			"Aisha", "Diego", "Clara", "Marco", "Freya", "Samir", "Julia", "Hugo", "Mei", "Oscar", "Ruth", "Tomas", "Vera", "Ben",
			"Lucia", "Isaac", "Nora", "Emil", "Sara", "Jamal", "Ada", "Pablo", "Tara", "Malik"},
		last: []string{"Okafor", "Schmidt", "Tanaka", "Rossi", "Nguyen", "Kowalski", "Silva", "Patel", "Johansson", "Haddad",
			"Moreau", "Costa", "Fischer", "Kim", "Novak", "Larsen", "Romero", "Ivanova", "Brennan", "Yilmaz", "Dubois", "Mensah",
			"Sato", "Varga", "Lindqvist", "Herrera", "Byrne", "Khan", "Meyer", "Alvarez", "Petrov", "Walsh", "Suzuki", "Bauer"},
		domains: []string{"gmail.com", "gmail.com", "gmail.com", "fastmail.com", "proton.me", "outlook.com", "icloud.com",
			"hey.com", "posteo.de", "yahoo.com"},
		sources: []string{"google", "twitter", "producthunt", "newsletter", "friend", "hackernews", "youtube", "reddit"},
	}
}

// demoSeed is what the demo sends: for each project, the identify calls of
// its members (with backdated timestamps), in time order per person.
type demoSeed struct {
	projects []demoProject
	calls    [][]client.Identify // by project
	people   int
}

// pick chooses a value by weight.
func pick(r *rand.Rand, ws []weighted) string {
	total := 0
	for _, w := range ws {
		total += w.weight
	}
	n := r.IntN(total)
	for _, w := range ws {
		if n < w.weight {
			return w.value
		}
		n -= w.weight
	}
	return ws[len(ws)-1].value
}

// ago is now minus a random time between from and to days, rounded to the
// minute.
func ago(r *rand.Rand, now time.Time, from, to float64) time.Time {
	d := from + r.Float64()*(to-from)
	return now.Add(-time.Duration(d * 24 * float64(time.Hour))).Truncate(time.Minute)
}

// newDemoSeed generates n people deterministically (the same seed gives
// the same people, statuses and params; times are relative to now). About
// 38 % are in two or three projects, and some are quiet for weeks in one
// product while active in another, so every insight has something to show.
func newDemoSeed(n int, now time.Time) demoSeed {
	r := rand.New(rand.NewPCG(20260329, 42))
	s := demoSeed{projects: demoProjects(), people: n}
	s.calls = make([][]client.Identify, len(s.projects))
	words := newDemoWords()
	emails := map[string]bool{}
	for i := 0; i < n; i++ {
		first, last := words.first[r.IntN(len(words.first))], words.last[r.IntN(len(words.last))]
		email := demoEmail(r, words, first, last)
		for emails[email] {
			email = demoEmail(r, words, first, last+fmt.Sprint(r.IntN(90)+10))
		}
		emails[email] = true
		name := first + " " + last

		// Which projects: 62 % one, 28 % two, 10 % all three.
		var members []int
		switch x := r.IntN(100); {
		case x < 62:
			members = []int{pickIndex(r, 46, 34, 20)}
		case x < 90:
			a := pickIndex(r, 46, 34, 20)
			b := (a + 1 + r.IntN(2)) % 3
			members = []int{a, b}
		default:
			members = []int{0, 1, 2}
		}
		// One membership of a multi-project person may have gone quiet:
		// that is the churn-risk insight's case.
		quiet := -1
		if len(members) > 1 && r.IntN(100) < 30 {
			quiet = members[r.IntN(len(members))]
		}
		for _, p := range members {
			s.calls[p] = append(s.calls[p], demoMember(r, words, s.projects[p], email, name, now, p == quiet)...)
		}
	}
	return s
}

// pickIndex picks an index by weights.
func pickIndex(r *rand.Rand, weights ...int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := r.IntN(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

func demoEmail(r *rand.Rand, words demoWords, first, last string) string {
	f, l := strings.ToLower(first), strings.ToLower(last)
	domain := words.domains[r.IntN(len(words.domains))]
	switch r.IntN(5) {
	case 0:
		return f + "@" + l + ".dev"
	case 1:
		return f + l[:1] + "@" + domain
	case 2:
		return f + "_" + l + fmt.Sprint(r.IntN(90)+10) + "@" + domain
	}
	return f + "." + l + "@" + domain
}

// demoMember returns the identifies of one membership: the sign-up, and
// the current state at the person's last activity.
func demoMember(r *rand.Rand, words demoWords, p demoProject, email, name string, now time.Time, quiet bool) []client.Identify {
	status := pick(r, p.statuses)
	signup := ago(r, now, 20, 300)
	var lastActive time.Time
	switch {
	case quiet || status == "churned":
		// Quiet for 5 to 12 weeks.
		lastActive = ago(r, now, 35, 85)
		if lastActive.Before(signup) {
			signup = lastActive.Add(-time.Duration(5+r.IntN(60)) * 24 * time.Hour)
		}
	case r.IntN(100) < 25:
		lastActive = ago(r, now, 0.01, 1) // today
	default:
		lastActive = ago(r, now, 1, 13)
	}
	if status == "trialing" {
		// A trial started recently.
		signup = lastActive.Add(-time.Duration(1+r.IntN(10)) * 24 * time.Hour)
	}
	first := "free"
	if status == "trialing" || (status == "paid" && r.IntN(2) == 0) {
		first = "trialing"
	}
	source := words.sources[r.IntN(len(words.sources))]
	calls := []client.Identify{{
		Email: email, Name: name, Status: first, Timestamp: signup,
		Params: map[string]any{"source": source},
	}}
	params := p.extra(r, status, now)
	switch status {
	case "paid":
		pl := p.plans[r.IntN(len(p.plans))]
		params["plan"], params["mrr"] = pl.name, pl.mrr
	case "churned":
		params["plan"], params["mrr"] = nil, nil
		params["churned_reason"] = []string{"price", "switched", "no longer needed", "missing feature"}[r.IntN(4)]
	case "free":
		params["plan"] = "free"
	}
	calls = append(calls, client.Identify{Email: email, Status: status, Timestamp: lastActive, Params: params})
	return calls
}

// aliceCalls are SPEC §10's three identifies, one per project, sent with
// each project's own key and no timestamp ("just now").
func aliceCalls() []client.Identify {
	return []client.Identify{
		{Email: "alice@example.com", Name: "Alice Chen", Status: "paid", Params: map[string]any{"plan": "pro", "mrr": 9}},
		{Email: "Alice@Example.com ", Status: "free", Params: map[string]any{"source": "producthunt", "referral": "friend42"}},
		{Email: "alice@example.com", Status: "trialing", Params: map[string]any{"trial_ends": "2026-03-29", "plan": "starter"}},
	}
}
