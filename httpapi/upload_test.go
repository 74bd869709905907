package httpapi

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/payoutfile/payoutfiletest"
)

// multipartBody builds a multipart/form-data body with one file part (and an extra field first).
// A filename starting with "*=" is sent as an RFC 2231 extended parameter (filename*=...).
func multipartBody(t *testing.T, filename, partType string, content []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("note", "ignored")
	h := textproto.MIMEHeader{}
	if ext, ok := strings.CutPrefix(filename, "*="); ok {
		h.Set("Content-Disposition", `form-data; name="file"; filename*=`+ext)
	} else {
		h.Set("Content-Disposition", `form-data; name="file"; filename="`+strings.NewReplacer(`"`, `\"`, `\`, `\\`).Replace(filename)+`"`)
	}
	if partType != "" {
		h.Set("Content-Type", partType)
	}
	w, err := mw.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(content)
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

func xlsxOf(t *testing.T, csvFile []byte) []byte {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(csvFile)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]payoutfiletest.Cell
	for _, rec := range recs {
		rows = append(rows, payoutfiletest.Strings(rec...))
	}
	return payoutfiletest.XLSX(rows, payoutfiletest.XLSXOptions{})
}

// TestUploads covers the ways a file arrives and the ways it is refused: sizes, content sniffing,
// multipart names, query options, reject=all. No spooled file outlives its request.
func TestUploads(t *testing.T) {
	r := setup(t, withDeps(func(d *Deps) { d.Submit.MaxUploadBytes = 64 << 10 }))
	file, _ := payroll(t, 5, 0, 11)
	bad, badTot := payroll(t, 6, 3, 12) // rows 3 and 6 invalid
	big, _ := payroll(t, 1000, 0, 13)   // over 64 KiB
	xlsx := xlsxOf(t, file)
	jsonl, jsonDoc := jsonOf(t, file, "from-json-file")
	mp := func(name, partType string, content []byte) ([]byte, string) {
		return multipartBody(t, name, partType, content)
	}
	mpCSV, mpCSVType := mp("../../etc/passwd", "text/csv", file)
	mpXLSX, mpXLSXType := mp("Bordro Ocak.xlsx", "application/octet-stream", xlsx)
	mpNUL, mpNULType := mp("*=UTF-8''pay%00roll%0D%0A.csv", "", file)
	mpCRLF, mpCRLFType := mp("pay\r\nX-Evil: 1\r\n.csv", "text/csv", file)
	longName := strings.Repeat("ş", 5000) + ".csv"
	mpLong, mpLongType := mp(longName, "text/csv", file)
	mpBig, mpBigType := mp("big.csv", "text/csv", big)
	mpNoFile := []byte("--b\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--b--\r\n")

	tests := []struct {
		name   string
		query  string
		ctype  string
		body   []byte
		header map[string]string
		status int
		code   string // error code, or the batch's source name on 202
	}{
		{"csv body", "batch_id=u-csv", "text/csv", file, nil, 202, "upload.csv"},
		{"csv with charset", "batch_id=u-csv2&allow_duplicate=true", "text/csv; charset=utf-8", file, nil, 202, "upload.csv"},
		{"xlsx body", "batch_id=u-xlsx", mediaTypeXLSX, xlsx, nil, 202, "upload.xlsx"},
		{"json lines body", "batch_id=u-jsonl", "application/x-ndjson", jsonl, nil, 202, "upload.jsonl"},
		{"json body, batch ID from the file", "", "application/json", jsonDoc, nil, 202, "upload.json"},
		{"format overrides the type", "batch_id=u-fmt&format=jsonl&allow_duplicate=true", "application/octet-stream", jsonl, nil, 202, "upload.jsonl"},
		{"multipart csv, path in the name", "batch_id=u-mp&allow_duplicate=true", mpCSVType, mpCSV, nil, 202, "passwd"},
		{"multipart xlsx by extension", "batch_id=u-mpx&allow_duplicate=true", mpXLSXType, mpXLSX, nil, 202, "Bordro Ocak.xlsx"},
		{"multipart NUL and CRLF in the name", "batch_id=u-nul&allow_duplicate=true", mpNULType, mpNUL, nil, 202, "payroll.csv"},
		{"multipart raw CRLF in the header", "batch_id=u-crlf", mpCRLFType, mpCRLF, nil, 400, "BAD_MULTIPART"},
		{"multipart 10 kB name", "batch_id=u-long&allow_duplicate=true", mpLongType, mpLong, nil, 202, strings.Repeat("ş", maxNameRunes)},
		{"multipart without file", "", "multipart/form-data; boundary=b", mpNoFile, nil, 400, "MISSING_FILE"},
		{"multipart without boundary", "", "multipart/form-data", mpNoFile, nil, 400, "BAD_MULTIPART"},
		{"over MAX_UPLOAD_BYTES", "", "text/csv", big, nil, 413, "TOO_LARGE"},
		{"multipart over MAX_UPLOAD_BYTES", "", mpBigType, mpBig, nil, 413, "TOO_LARGE"},
		{"zip sent as csv", "", "text/csv", xlsx, nil, 415, "CONTENT_MISMATCH"},
		{"zip sent as json", "", "application/json", xlsx, nil, 415, "CONTENT_MISMATCH"},
		{"text sent as xlsx", "", mediaTypeXLSX, file, nil, 415, "CONTENT_MISMATCH"},
		{"pdf sent as csv", "", "text/csv", []byte("%PDF-1.7\n1 0 obj\n"), nil, 415, "CONTENT_MISMATCH"},
		{"png sent as csv", "", "text/csv", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), nil, 415, "CONTENT_MISMATCH"},
		{"no content type", "", "", file, nil, 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"unknown content type", "", "image/png", file, nil, 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"empty file", "", "text/csv", nil, nil, 400, "EMPTY_FILE"},
		{"missing column", "", "text/csv", []byte("amount,currency\n1,TRY\n"), nil, 400, "MISSING_COLUMN"},
		{"unknown parameter", "batchid=x", "text/csv", file, nil, 400, "BAD_OPTIONS"},
		{"bad batch id", "batch_id=a/b", "text/csv", file, nil, 400, "BAD_OPTIONS"},
		{"key and batch_id differ", "batch_id=a", "text/csv", file, map[string]string{"Idempotency-Key": "b"}, 400, "BAD_OPTIONS"},
		{"bad chunk size", "chunk_size=0", "text/csv", file, nil, 400, "BAD_OPTIONS"},
		{"bad decimal_comma", "decimal_comma=yes", "text/csv", file, nil, 400, "BAD_OPTIONS"},
		{"bad callback", "callback_url=ftp://x", "text/csv", file, nil, 400, "BAD_OPTIONS"},
		{"bad purpose", "purpose=LUNCH", "text/csv", file, nil, 400, "BAD_OPTIONS"},
		{"bad reject", "reject=some", "text/csv", file, nil, 400, "BAD_OPTIONS"},
		{"bad format", "format=xls", "text/csv", file, nil, 400, "BAD_OPTIONS"},
		{"reject=all with invalid rows", "batch_id=u-rejall&reject=all", "text/csv", bad, nil, 422, "INVALID_ROWS"},
		{"reject=all, all valid", "batch_id=u-rejok&reject=all&allow_duplicate=true", "text/csv", file, nil, 202, "upload.csv"},
		{"reject=rows with invalid rows", "batch_id=u-rows", "text/csv", bad, nil, 202, "upload.csv"},
		{"the same file under another batch ID", "batch_id=u-again", "text/csv", file, nil, 409, "DUPLICATE_CONTENT"},
		{"bad allow_duplicate", "allow_duplicate=maybe", "text/csv", file, nil, 400, "BAD_OPTIONS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/v1/batches"
			if tt.query != "" {
				path += "?" + tt.query
			}
			status, _, body := r.do(request{method: "POST", path: path, ctype: tt.ctype, body: tt.body, bearer: "submitter", header: tt.header})
			if status != tt.status {
				t.Fatalf("%d, want %d\n%s", status, tt.status, body)
			}
			if status != http.StatusAccepted {
				if got := errorCode(t, body); got != tt.code {
					t.Errorf("code %s, want %s\n%s", got, tt.code, body)
				}
				return
			}
			var res batchResource
			json.Unmarshal(body, &res)
			if res.Source != tt.code || !utf8.ValidString(res.Source) {
				t.Errorf("source %q, want %q", res.Source, tt.code)
			}
			if res.Rows == 0 || res.Submitter != "submitter" {
				t.Errorf("batch = %+v", res)
			}
		})
	}

	// A JSON file names its batch (externalId) and purpose.
	if b := r.getBatch("from-json-file"); b.Options.Format != "json" || b.Options.Purpose != "SALARY" {
		t.Errorf("JSON batch = %+v", b)
	}

	// reject=all: every row error is listed and nothing was stored.
	status, _, body := r.do(request{method: "POST", path: "/v1/batches?batch_id=u-rejall&reject=all", ctype: "text/csv", body: bad, bearer: "submitter"})
	var eb errorBody
	json.Unmarshal(body, &eb)
	if status != 422 || eb.Error.InvalidRows != badTot.Invalid || len(eb.Error.Rows) < badTot.Invalid || eb.Error.Rows[0].Row != 3 {
		t.Errorf("reject=all: %d %+v", status, eb.Error)
	}
	if _, err := r.store.Get(context.Background(), "u-rejall"); !errors.Is(err, batch.ErrNotFound) {
		t.Errorf("reject=all stored the batch: %v", err)
	}
	recs, _ := csv.NewReader(bytes.NewReader(bad)).ReadAll()
	for _, rec := range recs[1:] {
		if info := rec[2]; len(info) >= 10 && strings.Contains(string(body), info) {
			t.Errorf("422 body shows recipient info %s unmasked:\n%s", info, body)
		}
	}

	// Every spooled upload was removed, whatever happened to its request.
	left, err := os.ReadDir(r.uploads)
	if err != nil || len(left) != 0 {
		t.Errorf("upload directory holds %d files after the requests: %v", len(left), err)
	}
}

// jsonOf turns a generated CSV payroll into JSON Lines and into the iyzico init request shape.
func jsonOf(t *testing.T, csvFile []byte, externalID string) (jsonl, doc []byte) {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(csvFile)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{"item_external_id": "itemExternalId", "recipient_type": "recipientType", "recipient_info": "recipientInfo",
		"recipient_name": "recipientName", "amount": "amount", "currency": "currency", "description": "description"}
	var items []map[string]any
	for _, rec := range recs[1:] {
		item := map[string]any{}
		for i, col := range recs[0] {
			if col == "amount" {
				item[keys[col]] = json.Number(rec[i])
			} else if rec[i] != "" {
				item[keys[col]] = rec[i]
			}
		}
		line, _ := json.Marshal(item)
		jsonl = append(append(jsonl, line...), '\n')
		items = append(items, item)
	}
	doc, _ = json.Marshal(map[string]any{"externalId": externalID, "purpose": "SALARY", "items": items})
	return jsonl, doc
}

// zeros is an endless reader of CSV-like bytes that allocates nothing.
type zeros struct{ left int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.left <= 0 {
		return 0, io.EOF
	}
	n := min(int64(len(p)), z.left)
	for i := range p[:n] {
		p[i] = 'a'
		if i%64 == 63 {
			p[i] = '\n'
		}
	}
	z.left -= n
	return int(n), nil
}

// TestReceiveStreams: a 64 MiB upload is spooled to disk with a bounded amount of memory, and a
// body over the limit stops at the limit.
func TestReceiveStreams(t *testing.T) {
	dir := t.TempDir()
	const size = 64 << 20
	req := httptest.NewRequest("POST", "/v1/batches", &zeros{left: size})
	req.Header.Set("Content-Type", "text/csv")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	up, err := receive(httptest.NewRecorder(), req, dir, size+1, "")
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	defer up.close()
	st, _ := up.file.Stat()
	if up.size != size || st.Size() != size || filepath.Dir(up.file.Name()) != dir {
		t.Errorf("spooled %d bytes (file %d) in %s, want %d in %s", up.size, st.Size(), up.file.Name(), size, dir)
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("spooling %d MiB allocated %d KiB", size>>20, allocated>>10)
	if allocated > 4<<20 {
		t.Errorf("spooling %d MiB allocated %d KiB: the upload is held in memory", size>>20, allocated>>10)
	}

	req = httptest.NewRequest("POST", "/v1/batches", &zeros{left: size})
	req.Header.Set("Content-Type", "text/csv")
	if _, err := receive(httptest.NewRecorder(), req, dir, 1<<20, ""); classify(err) == nil || classify(err).Status != http.StatusRequestEntityTooLarge {
		t.Errorf("over the limit: %v, want 413", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 1 {
		t.Errorf("%d files in the spool directory, want only the first upload's", len(left))
	}
}

func TestDisplayName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"payroll.csv", "payroll.csv"},
		{"../../etc/passwd", "passwd"},
		{`C:\Users\ayşe\Bordro.xlsx`, "Bordro.xlsx"},
		{"a\x00b\r\nc.csv", "abc.csv"},
		{"\u202egnp.csv", "gnp.csv"}, // right-to-left override
		{"..", ""},
		{"/", ""},
		{"\xff\xfe.csv", ".csv"},
		{strings.Repeat("x", 300), strings.Repeat("x", maxNameRunes)},
	}
	for _, tt := range tests {
		if got := displayName(tt.in); got != tt.want {
			t.Errorf("displayName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPrefersJSON(t *testing.T) {
	tests := []struct {
		accept string
		want   bool
	}{
		{"", false},
		{"*/*", false},
		{"application/json", true},
		{"text/csv", false},
		{"text/csv, application/json", false},
		{"application/json, text/csv;q=0.9", true},
		{"application/json;q=0.5, text/csv", false},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", false},
		{"application/*", true},
		{"application/json;q=0, */*", false},
		{"text/*;q=0.1, application/json", true},
	}
	for _, tt := range tests {
		if got := prefersJSON(tt.accept); got != tt.want {
			t.Errorf("prefersJSON(%q) = %v, want %v", tt.accept, got, tt.want)
		}
	}
}
