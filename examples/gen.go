//go:build ignore

// gen writes examples/payroll-sample.csv, the sample payroll file of `make run`:
// go run examples/gen.go
package main

import (
	"fmt"
	"os"

	"github.com/masspayout/masspayout/internal/payrollgen"
)

func main() {
	f, err := os.Create("examples/payroll-sample.csv")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	t, err := payrollgen.WriteCSV(f, payrollgen.Options{Rows: 2500, InvalidEvery: 61, BankFailEvery: 89, Seed: 2026})
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("%d rows: %d valid, %d invalid on purpose; totals %v\n", t.Rows, t.Valid, t.Invalid, t.Amounts)
}
