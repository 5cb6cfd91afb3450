package web_test

import (
	"os"
	"testing"

	"easel/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopGateway()
	os.Exit(code)
}
