package httpapi

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"testing"
)

// validateCLIDir holds the inputs and golden outputs of "masspayout validate": the API's dry run
// must answer what the command prints.
const validateCLIDir = "../cmd/masspayout/testdata/validate/"

// multipartFile is a multipart/form-data body holding fields (in order) and then the field file.
func multipartFile(t *testing.T, name string, content []byte, fields ...string) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for i := 0; i+1 < len(fields); i += 2 {
		mw.WriteField(fields[i], fields[i+1])
	}
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(content)
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

// TestValidations: POST /v1/validations answers every problem and the summary of
// "masspayout validate --json" (byte for byte as NDJSON, the golden file of the command's test)
// and stores nothing; an unreadable file is a result; what keeps the file from being received is
// an error, as for POST /v1/batches.
func TestValidations(t *testing.T) {
	r := setup(t)
	file, err := os.ReadFile(validateCLIDir + "rules.csv")
	if err != nil {
		t.Fatal(err)
	}
	golden, err := os.ReadFile(validateCLIDir + "rules.csv.json.golden")
	if err != nil {
		t.Fatal(err)
	}
	body, ctype := multipartFile(t, "testdata/validate/rules.csv", file)
	status, hdr, got := r.do(request{method: "POST", path: "/v1/validations", body: body, ctype: ctype, bearer: "submitter", header: map[string]string{"Accept": "application/x-ndjson"}})
	// The command names the file by the path it was given; the API by the upload's file name.
	want := bytes.Replace(golden, []byte(`"file":"testdata/validate/rules.csv"`), []byte(`"file":"rules.csv"`), 1)
	if status != http.StatusOK || hdr.Get("Content-Type") != "application/x-ndjson" || !bytes.Equal(got, want) {
		t.Fatalf("NDJSON validation: %d %s\ngot:\n%s\nwant (validate --json):\n%s", status, hdr.Get("Content-Type"), got, want)
	}

	// As one JSON object: the same problems and summary.
	status, hdr, got = r.do(request{method: "POST", path: "/v1/validations", body: file, ctype: "text/csv", bearer: "root"})
	var res struct {
		Problems []struct {
			Row                   int
			Column, Code, Message string
		} `json:"problems"`
		Summary struct {
			File           string         `json:"file"`
			Rows           int            `json:"rows"`
			Rejected       int            `json:"rejected"`
			RejectedByCode map[string]int `json:"rejected_by_code"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(got, &res); status != http.StatusOK || err != nil || hdr.Get("Content-Type") != "application/json" {
		t.Fatalf("JSON validation: %d %v\n%s", status, err, got)
	}
	lines := bytes.Split(bytes.TrimSpace(want), []byte("\n"))
	if len(res.Problems) != len(lines)-1 || res.Summary.Rows != 24 || res.Summary.Rejected != 22 || res.Summary.RejectedByCode["INVALID_AMOUNT"] != 5 || res.Summary.File != "upload.csv" {
		t.Errorf("JSON validation: %d problems (want %d), summary %+v", len(res.Problems), len(lines)-1, res.Summary)
	}
	if p := res.Problems[0]; p.Row != 2 || p.Column != "recipient_info" || p.Code != "INVALID_IBAN" || !strings.HasPrefix(p.Message, "row 2") {
		t.Errorf("first problem = %+v", p)
	}
	if ids, _ := r.store.List(t.Context(), 0, 10); len(ids) != 0 {
		t.Errorf("a validation stored batches: %v", ids)
	}

	// An unreadable file is a result: its problem last, its code in the summary.
	status, _, got = r.do(request{method: "POST", path: "/v1/validations", body: []byte("item_external_id;currency\nV1;TRY\n"), ctype: "text/csv", bearer: "submitter"})
	if status != http.StatusOK || !contains(string(got), `"code":"MISSING_COLUMN"`, `"file_error":"MISSING_COLUMN"`) {
		t.Errorf("a file without its columns: %d %s", status, got)
	}

	for _, tc := range []struct {
		name, path, ctype, who string
		body                   []byte
		status                 int
		code                   string
	}{
		{"a read token", "/v1/validations", "text/csv", "reader", file, http.StatusForbidden, "FORBIDDEN"},
		{"an unknown parameter", "/v1/validations?batch_id=x", "text/csv", "submitter", file, http.StatusBadRequest, "BAD_OPTIONS"},
		{"a bad decimal_comma", "/v1/validations?decimal_comma=maybe", "text/csv", "submitter", file, http.StatusBadRequest, "BAD_OPTIONS"},
		{"no Content-Type", "/v1/validations", "", "submitter", file, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE"},
		{"a ZIP as CSV", "/v1/validations", "text/csv", "submitter", []byte("PK\x03\x04rest"), http.StatusUnsupportedMediaType, "CONTENT_MISMATCH"},
	} {
		status, _, got := r.do(request{method: "POST", path: tc.path, body: tc.body, ctype: tc.ctype, bearer: tc.who})
		if status != tc.status || errorCode(t, got) != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, status, got, tc.status, tc.code)
		}
	}
}
