package store_test

import (
	"testing"

	"tinycrm.dev/tinycrm/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
