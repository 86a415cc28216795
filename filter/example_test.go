package filter_test

import (
	"fmt"
	"net/url"

	"tinycrm.dev/tinycrm/filter"
)

func ExampleParseWhere() {
	e, err := filter.ParseWhere(`plan = pro and mrr>=9, name ~ "chen, a", trial_ends !exists`)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range e.Conds {
		fmt.Printf("%d %s %s %s %q\n", c.Pos, c.Key, c.Op, c.Value.Kind, c.Value.Text)
	}
	fmt.Println(e)

	_, err = filter.ParseWhere("plan ==pro")
	fmt.Println(err)
	// Output:
	// 1 plan = text "pro"
	// 16 mrr >= number "9"
	// 24 name ~ text "chen, a"
	// 42 trial_ends !exists none ""
	// plan=pro, mrr>=9, name~"chen, a", trial_ends !exists
	// where: position 7: unexpected "=" after operator "="; quote the value if it really starts with "="
}

func ExampleFromQuery() {
	q, _ := url.ParseQuery("project=app-a&min_projects=2&status=paid&where=mrr%3E%3D9&q=alice&sort=-email&limit=50")
	f, err := filter.FromQuery(q)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(f.Describe())
	fmt.Println(f.Sort.Column(), f.Sort.Desc())
	fmt.Println(f.Query().Encode())

	_, err = filter.FromQuery(url.Values{"min_projects": {"-1"}})
	fmt.Println(err)
	// Output:
	// project:app-a · 2+ projects · status:paid · mrr>=9 · "alice" · sort:-email
	// email true
	// min_projects=2&project=app-a&q=alice&sort=-email&status=paid&where=mrr%3E%3D9
	// min_projects: must be a whole number ≥ 0
}
