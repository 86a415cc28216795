package email_test

import (
	"errors"
	"fmt"

	"tinycrm.dev/tinycrm/email"
)

func ExampleNormalize() {
	for _, in := range []string{
		" Alice@Example.com ",
		"a.b+x@gmail.com",
		"hans@bücher.de",
		"Alice <alice@example.com>",
	} {
		key, err := email.Normalize(in)
		if errors.Is(err, email.ErrInvalid) {
			fmt.Println(err)
			continue
		}
		fmt.Println(key)
	}
	// Output:
	// alice@example.com
	// a.b+x@gmail.com
	// hans@xn--bcher-kva.de
	// email: display names like "Name <a@b>" are not accepted; send the bare address
}
