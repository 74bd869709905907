package main

import (
	"errors"
	"flag"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/masspayout/masspayout/iyzico"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		args      []string
		usage     bool
		seeds     int
		rows      int
		timeout   time.Duration
		initChaos bool
	}{
		{args: nil, seeds: 3, rows: 20000, timeout: 10 * time.Minute, initChaos: true},
		{args: []string{"-short"}, seeds: 1, rows: 3000, timeout: 160 * time.Second},
		{args: []string{"-short", "-rows", "500", "-seeds", "4,5"}, seeds: 2, rows: 500, timeout: 160 * time.Second},
		{args: []string{"-seeds", "1,x"}, usage: true},
		{args: []string{"-workers", "1"}, usage: true},
		{args: []string{"-dialect", "java"}, usage: true},
		{args: []string{"-timeout", "5s"}, usage: true},
		{args: []string{"extra"}, usage: true},
		{args: []string{"-nope"}, usage: true},
	}
	for _, tt := range tests {
		o, err := parseFlags(tt.args, io.Discard)
		if tt.usage {
			if _, ok := errors.AsType[*usageError](err); !ok || exitCode(err) != 2 {
				t.Errorf("parseFlags(%q) = %v, want a usage error (exit 2)", tt.args, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("parseFlags(%q): %v", tt.args, err)
		}
		if len(o.seeds) != tt.seeds || o.rows != tt.rows || o.timeout != tt.timeout || (len(o.plan.init) > 0) != tt.initChaos {
			t.Errorf("parseFlags(%q) = seeds %v, rows %d, timeout %s, init chaos %v", tt.args, o.seeds, o.rows, o.timeout, o.plan.init)
		}
	}
	if _, err := parseFlags([]string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("parseFlags(-h) = %v, want flag.ErrHelp", err)
	}
}

func TestMakePlanIsSeededAndComplete(t *testing.T) {
	spec := planFor(false)
	a := makePlan(rand.New(rand.NewPCG(7, 1)), spec)
	b := makePlan(rand.New(rand.NewPCG(7, 1)), spec)
	if len(a) != len(b) {
		t.Fatalf("plans of one seed differ in length: %d, %d", len(a), len(b))
	}
	got := map[int]map[action]int{1: {}, 2: {}}
	for i := range a {
		if a[i] != b[i] {
			t.Errorf("event %d differs between two plans of one seed: %+v, %+v", i, a[i], b[i])
		}
		if i > 0 && a[i].phase < a[i-1].phase {
			t.Errorf("event %d of phase %d after one of phase %d", i, a[i].phase, a[i-1].phase)
		}
		got[a[i].phase][a[i].what]++
	}
	for _, act := range actions {
		if got[1][act] != spec.init[act] || got[2][act] != spec.auth[act] {
			t.Errorf("%s: planned %d/%d, spec %d/%d", act, got[1][act], got[2][act], spec.init[act], spec.auth[act])
		}
	}
}

// TestSecretNeedlesMatchTheHeader checks that the base64 needle is found inside a real IYZWSv2
// Authorization header: only whole 3-byte groups encode the same inside a longer string.
func TestSecretNeedlesMatchTheHeader(t *testing.T) {
	h := iyzico.Authorization(apiKey, secretKey, "123456789", "/v1/mass/payout/init", []byte(`{}`))
	needles := secretNeedles()
	if !strings.Contains(h, needles[2]) {
		t.Errorf("header %q lacks %q", h, needles[2])
	}
	if !strings.Contains(h, needles[3]) {
		t.Errorf("header %q lacks the base64 needle %q", h, needles[3])
	}
}

func TestParseReportByColumnName(t *testing.T) {
	csv := "row,item_external_id,recipient_type,recipient_info_masked,amount,currency,status,error_code,error_message,external_id,request_id,reference_code,commission_amount,paid\n" +
		"1,emp-1,IBAN,TR** ****,100.50,TRY,SUCCESS,,,b-00001,r,ref,1.00,yes\n"
	rows, err := parseReport(strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	want := reportRow{row: 1, itemID: "emp-1", amount: "100.50", currency: "TRY", status: "SUCCESS", extID: "b-00001"}
	if len(rows) != 1 || rows[0] != want {
		t.Errorf("parseReport = %+v, want [%+v]", rows, want)
	}
	if _, err := parseReport(strings.NewReader("row,status\n1,SUCCESS\n")); err == nil {
		t.Error("parseReport accepted a header without the report's columns")
	}
}

func TestPersonalValues(t *testing.T) {
	got := personalValues([]fileRow{
		{recipientType: "IBAN", recipientInfo: "TR330006100519786457841326"},
		{recipientType: "PHONE", recipientInfo: "05321234567"},
		{recipientType: "IDENTITY_NUMBER", recipientInfo: "10000000146"},
		{recipientType: "MEMBER_ID", recipientInfo: "1234567"},
	})
	for _, v := range []string{"330006100519786457841326", "05321234567", "905321234567", "5321234567", "10000000146"} {
		if !got[v] {
			t.Errorf("personalValues lacks %s", v)
		}
	}
	if got["1234567"] {
		t.Error("a member ID is not personal data")
	}
}
